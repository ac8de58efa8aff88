// Use case: staff (or an API client) cancel a request before it is complete, e.g. made by mistake.
// The invitation links stop working at once; signers are not messaged (nothing was in force).
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt } from '../domain/consent.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { markCancelled } from './consent-changes.repository.ts';
import { getLoadedConsent } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { revokeInvitations } from './invitations.repository.ts';
import { parseInput } from './validation.ts';

const cancelInputSchema = z.object({ consentId: z.string(), requestId: z.string().max(64).optional() });
export type CancelConsentInput = z.input<typeof cancelInputSchema>;

export interface CancelConsentResult {
  consentId: string;
  status: ConsentStatus;
  cancelledAt: Date;
}

export async function cancelConsent(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: CancelConsentInput,
): Promise<CancelConsentResult> {
  const { consentId, requestId } = parseInput(cancelInputSchema, input);
  const before = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'cancel');

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    const now = ctx.clock.now();
    assertCanTransition(statusAt(locked.facts, now).status, 'cancel');
    await markCancelled(tx, consentId, now);
    await revokeInvitations(tx, consentId, now);
    await appendAuditEvent(tx, {
      consentId,
      action: 'cancelled',
      actor,
      at: now,
      requestId,
      details: { signedRoles: locked.signers.filter((s) => s.signedAt).map((s) => s.role) },
    });
    return { consentId, status: 'cancelled' as const, cancelledAt: now };
  });
}

// Use case: a signer who has not signed declines. The request ends as `declined` for everyone.
// Decision on the optional reason: it is stored on the signer row (staff of the requesting organisation
// may need it to understand and follow up) but it can hold sensitive free text, so it never goes into the
// audit details, a message, a log line or an error — the audit event records only that a reason was given.
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt } from '../domain/consent.ts';
import { AppError } from '../errors.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toRequester, toSigners } from './notifications/recipients.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { markDeclined } from './consent-changes.repository.ts';
import { getLoadedConsent, type LoadedConsent } from './consent.repository.ts';
import type { ConsentContext, SignerActor } from './context.ts';
import { markInvitationsUsed, revokeInvitations } from './invitations.repository.ts';
import { assertSignerIsOnForm } from './signer-check.ts';
import { optionalNote, parseInput } from './validation.ts';

const declineInputSchema = z.object({
  consentId: z.string(),
  reason: optionalNote(),
  requestId: z.string().max(64).optional(),
});
export type DeclineConsentInput = z.input<typeof declineInputSchema>;

export interface DeclineConsentResult {
  consentId: string;
  status: ConsentStatus;
  declinedAt: Date;
}

function assertCanDecline(loaded: LoadedConsent, actor: SignerActor, now: Date): void {
  const signer = loaded.signers.find((s) => s.role === actor.role);
  if (signer?.signedAt)
    throw new AppError(
      'consent_state_conflict',
      'Du har redan signerat. Du kan återkalla samtycket i stället.',
    );
  assertCanTransition(statusAt(loaded.facts, now).status, 'decline');
}

export async function declineConsent(
  ctx: ConsentContext,
  actor: SignerActor,
  input: DeclineConsentInput,
): Promise<DeclineConsentResult> {
  const { consentId, reason, requestId } = parseInput(declineInputSchema, input);
  const before = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  await assertSignerIsOnForm(ctx, before, actor, 'decline', requestId);
  assertCanDecline(before, actor, ctx.clock.now());

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    const now = ctx.clock.now();
    assertCanDecline(locked, actor, now);
    await markDeclined(tx, ctx.keys, consentId, { role: actor.role, at: now, reason: reason ?? null });
    await markInvitationsUsed(tx, consentId, actor.role, now);
    await revokeInvitations(tx, consentId, now);
    await appendAuditEvent(tx, {
      consentId,
      action: 'declined',
      actor,
      at: now,
      requestId,
      details: { role: actor.role, reasonGiven: reason !== undefined },
    });
    const others = locked.signers.filter((s) => s.role !== actor.role);
    await queueNotifications(tx, ctx.jobs, [
      ...toRequester('declined', locked.consent),
      ...toSigners('declined', consentId, others),
    ]);
    return { consentId, status: 'declined' as const, declinedAt: now };
  });
}

// Use case: staff send a reminder to the signers who have not answered yet.
//
// Decision on tokens: links are stored hashed, so an old link cannot be sent again. A reminder issues new
// ones: a new link for staff to show (returned here, the old staff link is revoked), and the reminder
// message gets its own new link when it is sent (the job revokes the earlier link of that channel). The
// raw tokens never reach a job payload or the database. The automatic reminders (consents/remind-due-signers.ts)
// work the same way without the staff link.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { assertCanTransition, statusAt } from '../domain/consent.ts';
import { invitationLink } from '../notify/links.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toSigners } from './notifications/recipients.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { markReminded } from './consent-changes.repository.ts';
import { getLoadedConsent, type LoadedConsent, signerState } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import type { RequestedSigner } from './create-consent-request.ts';
import { issueInvitation } from './invitations.repository.ts';
import { parseInput } from './validation.ts';

const remindInputSchema = z.object({ consentId: z.string(), requestId: z.string().max(64).optional() });
export type RemindSignersInput = z.input<typeof remindInputSchema>;

export interface RemindSignersResult {
  consentId: string;
  remindedAt: Date;
  /** Every signer; those reminded carry their new link for staff. */
  signers: RequestedSigner[];
}

const awaiting = (loaded: LoadedConsent) => loaded.signers.filter((s) => !s.signedAt && !s.declinedAt);

export async function remindSigners(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: RemindSignersInput,
): Promise<RemindSignersResult> {
  const { consentId, requestId } = parseInput(remindInputSchema, input);
  const before = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'remind');

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    const now = ctx.clock.now();
    assertCanTransition(statusAt(locked.facts, now).status, 'remind');
    const pending = awaiting(locked);
    const links = new Map<string, { url: string; expiresAt: Date }>();
    for (const s of pending) {
      const link = await issueInvitation(tx, {
        consentId,
        role: s.role,
        channel: 'link',
        expiresAt: locked.consent.requestExpiresAt,
        now,
      });
      links.set(s.role, { url: invitationLink(ctx.config, link.token), expiresAt: link.expiresAt });
    }
    const roles = pending.map((s) => s.role);
    await markReminded(tx, consentId, roles, now);
    const occasion = `manual:${randomUUID()}`;
    await appendAuditEvent(tx, {
      consentId,
      action: 'reminded',
      actor,
      at: now,
      requestId,
      details: { roles, occasion },
    });
    await queueNotifications(tx, ctx.jobs, toSigners('reminder', consentId, pending, { occasion }));
    return {
      consentId,
      remindedAt: now,
      signers: locked.signers.map((s) => {
        const link = links.get(s.role);
        return { role: s.role, name: s.name, state: signerState(s), ...(link ? { invitation: link } : {}) };
      }),
    };
  });
}

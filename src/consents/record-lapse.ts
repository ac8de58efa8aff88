// A consent whose request lapsed (its lifetime passed, or the child turned 18 first) or whose time ran
// out (a year from the first signature, or the child's 18th birthday). Found by the time-events sweep
// (src/jobs/consent-time-events.ts), one job per consent. No status is stored (it is computed at read
// time): this records the event in the audit trail once, at the instant it happened, marks the consent
// handled, and queues the notices to the requester and the signers.
import { statusAt } from '../domain/consent.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { getLoadedConsent } from './consent.repository.ts';
import { type ConsentContext, SYSTEM } from './context.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toRequester, toSigners } from './notifications/recipients.ts';
import { markLapseHandled } from './sweeps.repository.ts';

export type LapseOutcome = { handled: false } | { handled: true; status: 'request_expired' | 'expired' };

export async function recordConsentLapse(ctx: ConsentContext, consentId: string): Promise<LapseOutcome> {
  return ctx.db.transaction().execute(async (tx): Promise<LapseOutcome> => {
    // Under the row lock, and checked again with the domain rules: two instances, or a sweep and a
    // signature, never both act.
    const loaded = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    if (loaded.consent.lapseHandledAt) return { handled: false };
    const now = ctx.clock.now();
    const status = statusAt(loaded.facts, now);
    if (status.status !== 'request_expired' && status.status !== 'expired') return { handled: false };
    await markLapseHandled(tx, consentId, now);
    await appendAuditEvent(tx, {
      consentId,
      action: status.status,
      actor: SYSTEM,
      at: status.since,
      details: { reason: status.reason, recordedAt: now.toISOString() },
    });
    await queueNotifications(tx, ctx.jobs, [
      ...toRequester(status.status, loaded.consent),
      ...toSigners(status.status, consentId, loaded.signers),
    ]);
    return { handled: true, status: status.status };
  });
}

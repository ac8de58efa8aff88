// A consent in force that ends within `config.rules.endingSoonDays`: the notice to the requester (to
// renew it), once. Found by the time-events sweep (src/jobs/consent-time-events.ts), one job per consent.
import { endingSoon } from '../domain/consent.ts';
import { getLoadedConsent } from './consent.repository.ts';
import type { ConsentContext } from './context.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toRequester } from './notifications/recipients.ts';
import { markEndingSoonHandled } from './sweeps.repository.ts';

export async function noticeConsentEndingSoon(
  ctx: ConsentContext,
  consentId: string,
): Promise<{ handled: boolean }> {
  return ctx.db.transaction().execute(async (tx) => {
    const loaded = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    if (loaded.consent.endingSoonHandledAt) return { handled: false };
    const now = ctx.clock.now();
    if (!endingSoon(loaded.facts, now, ctx.config.rules.endingSoonDays)) return { handled: false };
    await markEndingSoonHandled(tx, consentId, now);
    await queueNotifications(tx, ctx.jobs, toRequester('ending_soon', loaded.consent));
    return { handled: true };
  });
}

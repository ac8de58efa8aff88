// The daily time-events sweep. Finds requests that lapsed (the request lifetime passed, or the child
// turned 18 first), consents whose time ran out (a year from the first signature, or the child's 18th
// birthday), and consents ending within `config.rules.endingSoonDays`; queues one item job per consent
// (consent-lapse.ts, consent-ending-soon.ts). It works in bounded batches (src/consents/sweeps.repository.ts)
// and never stores a status: the item jobs lock the consent row, check again with the domain rules and
// record the event, and the notification ledger makes a second send of the same message impossible, so
// two instances running the same sweep never send anything twice.
import {
  findInForceValidUntilBefore,
  findLapsedRequests,
  type SweepCursor,
} from '../consents/sweeps.repository.ts';
import { addDays, localDateOf, startOfLocalDay } from '../domain/dates.ts';
import { consentEndingSoon } from './consent-ending-soon.ts';
import { consentLapse } from './consent-lapse.ts';
import { defineJob, type JobContext, sweepPayload } from './define.ts';

const queueLapse = (ctx: JobContext, consentId: string) =>
  ctx.send(consentLapse.name, { consentId }, { singletonKey: `lapse:${consentId}` });

export const consentTimeEvents = defineJob({
  name: 'consent-time-events',
  payload: sweepPayload,
  schedule: { cron: '30 6 * * *', data: { batchSize: 200 } },
  async handler({ batchSize }, ctx) {
    const now = ctx.clock.now();
    let lapsed = 0;
    let soon = 0;

    let cursor: SweepCursor | undefined;
    for (;;) {
      const rows = await findLapsedRequests(ctx.db, { now, after: cursor, limit: batchSize });
      for (const row of rows) {
        cursor = { at: row.requestedAt, id: row.id };
        if (await queueLapse(ctx, row.id)) lapsed++;
      }
      if (rows.length < batchSize) break;
    }

    // In force by the facts, with a validity that has passed or ends within the notice period.
    const before = startOfLocalDay(addDays(localDateOf(now), ctx.config.rules.endingSoonDays + 1));
    let last: SweepCursor | undefined;
    for (;;) {
      const rows = await findInForceValidUntilBefore(ctx.db, { before, after: last, limit: batchSize });
      for (const row of rows) {
        last = { at: row.validUntil, id: row.id };
        if (row.validUntil.getTime() <= now.getTime()) {
          if (await queueLapse(ctx, row.id)) lapsed++;
        } else if (!row.endingSoonHandledAt) {
          const key = `ending-soon:${row.id}`;
          if (await ctx.send(consentEndingSoon.name, { consentId: row.id }, { singletonKey: key })) soon++;
        }
      }
      if (rows.length < batchSize) break;
    }
    return { lapsed, endingSoon: soon };
  },
});

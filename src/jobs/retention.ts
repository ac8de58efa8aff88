// Retention and deletion (gallring, issue 16 §4), every night at 02:30 Stockholm time: every consent whose
// organisation's retention time has passed since it ended is deleted, with a tombstone and an audit event
// (consents/retention.ts). Any instance may run it; the rows are locked as they are deleted.
import { z } from 'zod';
import { deleteDueConsents } from '../consents/retention.ts';
import { defineJob } from './define.ts';

export const retention = defineJob({
  name: 'retention',
  payload: z.object({ batchSize: z.number().int().min(1).max(1000).default(50) }).strict(),
  schedule: { cron: '30 2 * * *', data: {} },
  async handler({ batchSize }, { db, keys, config, clock, log }) {
    const run = await deleteDueConsents({ db, keys, config, clock }, { batch: batchSize });
    if (run.deleted > 0) log.info({ retention: run }, 'consents deleted after their retention time');
    return run;
  },
});

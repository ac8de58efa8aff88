// Daily housekeeping: removes expired Idempotency-Key records and records what it did.
// Later issues add expired login attempts and sessions to the same sweep.
import { z } from 'zod';
import {
  deleteExpiredIdempotencyKeys,
  recordHousekeepingRun,
} from '../consents/idempotency-keys.repository.ts';
import { defineJob } from './define.ts';

export const housekeeping = defineJob({
  name: 'housekeeping',
  payload: z.object({ batchSize: z.number().int().min(1).max(100_000).default(5_000) }).strict(),
  schedule: { cron: '15 3 * * *', data: { batchSize: 5_000 } },
  async handler({ batchSize }, { db, clock }) {
    const now = clock.now();
    let deleted = 0;
    // Bounded batches: one statement never locks the whole table.
    for (;;) {
      const n = await deleteExpiredIdempotencyKeys(db, now, batchSize);
      deleted += n;
      if (n < batchSize) break;
    }
    await recordHousekeepingRun(db, deleted, now);
    return { deleted };
  },
});

// Daily housekeeping: removes expired Idempotency-Key records and records what it did.
// Later issues add expired login attempts and sessions to the same sweep.
import { sql } from 'kysely';
import { z } from 'zod';
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
      const result = await sql`
        DELETE FROM idempotency_keys WHERE ctid IN (
          SELECT ctid FROM idempotency_keys WHERE expires_at <= ${now} LIMIT ${batchSize})`.execute(db);
      const n = Number(result.numAffectedRows ?? 0);
      deleted += n;
      if (n < batchSize) break;
    }
    await db.insertInto('housekeeping_runs').values({ deleted_rows: deleted, ran_at: now }).execute();
    return { deleted };
  },
});

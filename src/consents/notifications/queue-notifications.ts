// Queueing notifications inside the use case's transaction: pg-boss's `send` accepts `{ db: { executeSql }
// }`, so the job row is inserted over our Kysely transaction and becomes visible only if the state change
// commits (and vanishes with it on rollback). No outbox table to drain, no window where a state change is
// stored but its message is lost, or a message sent for a change that was rolled back. A NOTIFY in the
// same transaction wakes the workers the moment it commits (src/jobs/wake.ts).
import { CompiledQuery } from 'kysely';
import type PgBoss from 'pg-boss';
import type { DbOrTx } from '../../db/index.ts';
import { wakeWorkersOnCommit } from '../../jobs/wake.ts';
import {
  NOTIFY_JOB,
  type NotificationRequest,
  notificationKey,
  notificationPayload,
} from '../../notify/payload.ts';
import type { JobQueue } from '../context.ts';

/** pg-boss's database interface over a Kysely connection or transaction. */
export function kyselyExecutor(db: DbOrTx): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[]) {
      const result = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: result.rows as never[] };
    },
  };
}

/** Queues one notification job per item in the transaction `tx`. Returns how many were queued. */
export async function queueNotifications(
  tx: DbOrTx,
  jobs: JobQueue | undefined,
  items: readonly NotificationRequest[],
): Promise<number> {
  if (!jobs || items.length === 0) return 0;
  const db = kyselyExecutor(tx);
  let queued = 0;
  for (const item of items) {
    const payload = notificationPayload.parse(item);
    const id = await jobs.boss.send(NOTIFY_JOB, payload, {
      db,
      singletonKey: notificationKey(payload),
      retryLimit: 5,
      retryDelay: 30,
      retryBackoff: true,
    });
    if (id) queued++;
  }
  // Delivered when `tx` commits, to the workers of every instance: the message goes out now, not at the
  // next poll. Rolled back, the notification vanishes with the jobs.
  if (queued > 0) await wakeWorkersOnCommit(tx, NOTIFY_JOB);
  return queued;
}

// Waking job workers when work is committed, so a message goes out within moments of the request rather
// than at the next poll. PostgreSQL's NOTIFY is transactional: issued inside the transaction that queues
// the job, it is delivered only when (and if) that transaction commits, to every instance listening, and
// identical notifications of one transaction arrive once (https://www.postgresql.org/docs/current/sql-notify.html).
// Polling stays the durable path: a wake-up lost while a listener reconnects only costs one polling
// interval, never a message. Exactly-once is not this file's concern: the send ledger keeps it.
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import type { DbOrTx } from '../db/index.ts';

export const WAKE_CHANNEL = 'samtycke_jobs';

/** Asks the workers of `queue` on every instance to look for work once `tx` commits. */
export async function wakeWorkersOnCommit(tx: DbOrTx, queue: string): Promise<void> {
  await sql`SELECT pg_notify(${WAKE_CHANNEL}, ${queue})`.execute(tx);
}

export interface WakeListener {
  close(): Promise<void>;
}

/**
 * Listens on WAKE_CHANNEL over one dedicated connection and calls `onWake(queue)` per notification. A
 * dropped connection is re-opened with a growing delay (up to 30 s); after it is back, every queue is
 * woken once, since notifications sent meanwhile were lost.
 */
export async function listenForWakeUps(
  connectionString: string,
  onWake: (queue: string | undefined) => void,
  log: FastifyBaseLogger,
): Promise<WakeListener> {
  let client: pg.Client | undefined;
  let closing = false;
  let retryDelay = 500;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, application_name: 'samtycke-jobs-wake' });
    c.on('notification', (n) => {
      if (n.channel === WAKE_CHANNEL) onWake(n.payload || undefined);
    });
    c.on('error', (err) => {
      if (!closing) log.warn({ err }, 'job wake-up listener lost its connection; polling continues');
      void c.end().catch(() => {});
    });
    c.on('end', () => {
      if (client === c) client = undefined;
      if (!closing) reconnectLater();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${WAKE_CHANNEL}`);
    } catch (err) {
      // Not kept half-open: a client that connected but could not LISTEN would be out of close()'s reach.
      // Its 'end' schedules the next attempt.
      await c.end().catch(() => {});
      throw err;
    }
    // close() came while this attempt was connecting: it could not end this client, so end it here (an
    // open connection keeps the process alive, and a stopped app would never let it exit).
    if (closing) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    retryDelay = 500;
  };

  const reconnectLater = (): void => {
    if (timer || closing) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        () => onWake(undefined),
        (err: unknown) => {
          log.warn({ err }, 'job wake-up listener could not reconnect; polling continues');
          retryDelay = Math.min(retryDelay * 2, 30_000);
          reconnectLater();
        },
      );
    }, retryDelay);
    timer.unref();
  };

  // A first failure does not stop the start: polling is the durable path, and the listener keeps trying
  // until close().
  await connect().catch((err: unknown) => {
    log.warn({ err }, 'job wake-up listener could not connect; polling continues, retrying');
    reconnectLater();
  });
  return {
    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}

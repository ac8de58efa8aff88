// The look-up log of the search by child (migrations/2026-12-06T1100-child-lookups.ts): one append-only row
// per search, hit or miss, never the number. It is also what the quota counts (find-by-child.ts).
import { sql } from 'kysely';
import { perOwner } from '../db/batch.ts';
import type { Db, DbOrTx, Tx } from '../db/index.ts';

export interface ChildLookupActor {
  type: 'staff' | 'api_client';
  /** staff_users.id or api_clients.id. */
  id: string;
}

export interface ChildLookupRecord {
  at: Date;
  actor: ChildLookupActor;
  /** Every organisation the caller acted for (a staff member may belong to several). */
  organisationIds: readonly string[];
  via: 'api' | 'staff_page';
  requestId?: string | undefined;
  /** Consents shown (0: a miss). */
  found: number;
}

export async function appendChildLookup(db: DbOrTx, record: ChildLookupRecord): Promise<void> {
  await db
    .insertInto('child_lookups')
    .values({
      at: record.at,
      actor_type: record.actor.type,
      actor_id: record.actor.id,
      organisation_ids: sql<string[]>`${[...record.organisationIds]}::uuid[]`,
      via: record.via,
      request_id: record.requestId ?? null,
      found: record.found,
    })
    .execute();
}

/** 'chlk': the advisory lock class of this log (the two-key form; pg-boss takes one-key locks). */
const LOCK_CLASS = 0x63686c6b;

/** Per database handle, per caller: the tail of this process's searches waiting for their turn. */
const queues = perOwner((_db: Db) => new Map<string, Promise<unknown>>());

/**
 * Runs `work` in a transaction that holds the caller's lock, so that one caller's searches are counted one
 * after the other and the quota holds exactly: a transaction-level advisory lock, on every instance alike.
 * In this process they also wait for each other before taking a connection, so that waiting for the lock
 * holds at most one of the pool's connections per caller (parallel searches cannot drain the pool).
 */
export function inChildLookupLock<T>(
  db: Db,
  actor: ChildLookupActor,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const key = `${actor.type}:${actor.id}`;
  const waiting = queues(db);
  const run = (waiting.get(key) ?? Promise.resolve()).then(() =>
    db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${key}))`.execute(tx);
      return work(tx);
    }),
  );
  const tail = run.then(
    () => {},
    () => {},
  );
  waiting.set(key, tail);
  void tail.then(() => {
    if (waiting.get(key) === tail) waiting.delete(key);
  });
  return run;
}

/**
 * The caller's searches since `since`, and when the `quota`-th newest of them leaves the window (from then
 * on one more is allowed).
 */
export async function childLookupsSince(
  db: DbOrTx,
  actor: ChildLookupActor,
  since: Date,
  quota: number,
): Promise<{ count: number; quotaOldest: Date | null }> {
  const inWindow = db
    .selectFrom('child_lookups')
    .where('actor_type', '=', actor.type)
    .where('actor_id', '=', actor.id)
    .where('at', '>', since);
  const row = await inWindow
    .select((eb) => [
      eb.fn.countAll<string>().as('count'),
      eb
        .selectFrom('child_lookups')
        .select('at')
        .where('actor_type', '=', actor.type)
        .where('actor_id', '=', actor.id)
        .where('at', '>', since)
        .orderBy('at', 'desc')
        .offset(Math.max(0, quota - 1))
        .limit(1)
        .as('quota_oldest'),
    ])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), quotaOldest: row.quota_oldest ?? null };
}

// Idempotency keys (the Idempotency-Key header of consent requests): one row per (scope, key), holding the
// hash of the first request and, once it committed, its answer. Every function takes the database or a
// transaction first. Expired rows are removed by housekeeping (jobs/housekeeping.ts).
import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.ts';

export interface IdempotencyKey {
  scope: string;
  key: string;
}

export interface StoredIdempotencyKey {
  /** The SHA-256 (hex) of the first request's canonical body. */
  requestHash: string;
  /** The first request's answer, stored when it committed; null while it is still running. */
  responseBody: unknown;
}

/** Removes the key if it has expired, so that it no longer counts. */
export async function deleteExpiredIdempotencyKey(db: DbOrTx, id: IdempotencyKey, now: Date): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('scope', '=', id.scope)
    .where('key', '=', id.key)
    .where('expires_at', '<=', now)
    .execute();
}

export async function findIdempotencyKey(
  db: DbOrTx,
  id: IdempotencyKey,
): Promise<StoredIdempotencyKey | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_body'])
    .where('scope', '=', id.scope)
    .where('key', '=', id.key)
    .executeTakeFirst();
  return row && { requestHash: row.request_hash, responseBody: row.response_body };
}

/**
 * Claims the key for a request; false when another request holds it. A concurrent claim of the same key
 * waits for the first one's transaction, and then finds it taken.
 */
export async function claimIdempotencyKey(
  tx: DbOrTx,
  id: IdempotencyKey & { requestHash: string; expiresAt: Date },
): Promise<boolean> {
  const claimed = await tx
    .insertInto('idempotency_keys')
    .values({ scope: id.scope, key: id.key, request_hash: id.requestHash, expires_at: id.expiresAt })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Stores the answer a replay of the key gives. */
export async function storeIdempotentResponse(
  tx: DbOrTx,
  id: IdempotencyKey,
  response: { status: number; body: unknown },
): Promise<void> {
  await tx
    .updateTable('idempotency_keys')
    .set({ response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('scope', '=', id.scope)
    .where('key', '=', id.key)
    .execute();
}

/**
 * Deletes at most `batchSize` keys that expired at `now` (housekeeping works in bounded batches, so one
 * statement never locks the whole table); answers how many.
 */
export async function deleteExpiredIdempotencyKeys(
  db: DbOrTx,
  now: Date,
  batchSize: number,
): Promise<number> {
  const result = await sql`
    DELETE FROM idempotency_keys WHERE ctid IN (
      SELECT ctid FROM idempotency_keys WHERE expires_at <= ${now} LIMIT ${batchSize})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Records one housekeeping run (how many rows it removed). */
export async function recordHousekeepingRun(db: DbOrTx, deletedRows: number, at: Date): Promise<void> {
  await db.insertInto('housekeeping_runs').values({ deleted_rows: deletedRows, ran_at: at }).execute();
}

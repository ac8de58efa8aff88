// Key rotation (issue 16 §1, `npm run keys -- rotate | status`): every value of the encrypted columns
// (encrypted-columns.ts) re-encrypted under the key ring's current key, plain values never encrypted
// sealed, and each blind index made under an older blind index key recomputed — in batches, while the
// service runs.
//
// Safe beside the service: each table is walked in key order with keyset pagination (a batch of rows at a
// time, never a whole table in memory; rows with PDFs in smaller batches), read without locks, and written
// in one short transaction per batch. Each row's UPDATE is a compare-and-set on every value it replaces
// (and on the personal number an index is made from), so a row another writer changed meanwhile (a
// signature, a session's re-authentication, a deletion) is never overwritten: it is skipped and counted,
// and the next run picks it up. Figures name tables, columns and key ids only, never a value.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { ENCRYPTED_TABLES, type EncryptedKind, type EncryptedTable, placeOf } from './encrypted-columns.ts';
import { type KeyRing, KeyRingError } from './encryption.ts';
import { keyIdSql } from './key-usage.ts';
import type { Db, DbOrTx } from './index.ts';

export interface ValueFigures {
  /** Under an older key, now under the current one. */
  reencrypted: number;
  /** Stored plain (never encrypted), now encrypted. */
  sealed: number;
  /** Already under the current key. */
  current: number;
  /** Changed by another writer between read and write: left as it is (the next run picks it up). */
  skipped: number;
  /** Under a key not in the ring, or not decrypting in its place: left as it is. */
  unreadable: number;
}

export interface IndexFigures {
  /** Made under another blind index key (or missing), now under the current one. */
  recomputed: number;
  current: number;
  skipped: number;
  /** Its personal number could not be read: left as it is. */
  unreadable: number;
}

export interface TableRotation {
  table: EncryptedTable['table'];
  rows: number;
  ms: number;
  columns: Record<string, ValueFigures>;
  indexes: Record<string, IndexFigures>;
}

export interface Rotation {
  keyId: string;
  blindKeyId: string;
  dryRun: boolean;
  /** Stopped by the signal before every table was walked. */
  aborted: boolean;
  ms: number;
  tables: TableRotation[];
}

export interface RotateOptions {
  /** Rows per batch (default 200). */
  batchSize?: number;
  /** Rows per batch in a table with a bytes column (PDFs of 100 KB–1 MB; default 10). */
  bytesBatchSize?: number;
  /** Read, decrypt and count, but write nothing. */
  dryRun?: boolean;
  /** Stops after the batch underway. */
  signal?: AbortSignal;
  /** After each batch: the table and its rows so far. */
  onProgress?: (progress: { table: string; rows: number }) => void;
}

export const DEFAULT_BATCH_SIZE = 200;
export const DEFAULT_BYTES_BATCH_SIZE = 10;

// --- Rotation --------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;
/** A column's value as SQL: bytes as a Buffer, text as a string, jsonb as its JSON text. */
interface ColumnValue {
  column: string;
  kind: EncryptedKind | 'index';
  value: unknown;
}
type Outcome = 'reencrypted' | 'sealed' | 'recomputed';
/** One row's update: the new values, the values it replaces (compared and set), and what each change is. */
interface RowPlan {
  key: unknown[];
  set: ColumnValue[];
  expect: ColumnValue[];
  outcomes: { name: string; outcome: Outcome }[];
}

const bytesKeyAlias = (column: string) => `${column}:key`;

/** A batch of rows after `after` (key order). Bytes values only where they are not under `current`. */
async function readBatch(
  db: Db,
  table: EncryptedTable,
  after: readonly unknown[] | undefined,
  limit: number,
  current: string,
): Promise<Row[]> {
  const select = [
    ...table.key.map((k) => sql.ref(k)),
    ...table.columns.flatMap((c) =>
      c.kind === 'bytes'
        ? [
            sql`${keyIdSql(c.name, c.kind)} AS ${sql.id(bytesKeyAlias(c.name))}`,
            sql`CASE WHEN ${keyIdSql(c.name, c.kind)} IS DISTINCT FROM ${current} THEN ${sql.ref(c.name)} END AS ${sql.id(c.name)}`,
          ]
        : [sql.ref(c.name)],
    ),
    ...table.blindIndexes.map((i) => sql.ref(i.index)),
  ];
  const keyList = sql.join(table.key.map((k) => sql.ref(k)));
  const where = after ? sql`WHERE (${keyList}) > (${sql.join(after)})` : sql``;
  const { rows } = await sql<Row>`
    SELECT ${sql.join(select)} FROM ${sql.table(table.table)} ${where}
    ORDER BY ${keyList} LIMIT ${limit}`.execute(db);
  return rows;
}

/** What a row needs (undefined: nothing), counting what is current or unreadable into `figures`. */
function planRow(keys: KeyRing, table: EncryptedTable, row: Row, blindKeyId: string, figures: TableRotation) {
  const key = table.key.map((k) => row[k]);
  const plan: RowPlan = { key, set: [], expect: [], outcomes: [] };
  const plainOf = new Map<string, string>();
  for (const c of table.columns) {
    const f = figures.columns[c.name]!;
    const stored = row[c.name];
    const place = placeOf(table.table, c.name, key);
    if (stored === null || stored === undefined) {
      // A bytes value not read because it is under the current key (or the column is NULL).
      if (c.kind === 'bytes' && row[bytesKeyAlias(c.name)] === keys.currentKeyId) f.current++;
      continue;
    }
    const keyId =
      c.kind === 'json'
        ? typeof stored === 'string'
          ? keys.keyIdOf(stored)
          : undefined
        : keys.keyIdOf(stored as string | Uint8Array);
    if (keyId === keys.currentKeyId) {
      f.current++;
      continue;
    }
    try {
      if (c.kind === 'bytes') {
        const plain = keyId === undefined ? (stored as Buffer) : keys.decryptBytes(stored as Buffer, place);
        plan.set.push({ column: c.name, kind: c.kind, value: keys.encryptBytes(plain, place) });
      } else {
        const plain =
          keyId === undefined
            ? c.kind === 'json'
              ? JSON.stringify(stored)
              : (stored as string)
            : keys.decryptText(stored as string, place);
        const sealed = keys.encryptText(plain, place);
        plan.set.push({
          column: c.name,
          kind: c.kind,
          value: c.kind === 'json' ? JSON.stringify(sealed) : sealed,
        });
        plainOf.set(c.name, plain);
      }
    } catch (e) {
      if (!(e instanceof KeyRingError)) throw e;
      f.unreadable++;
      continue;
    }
    plan.expect.push({
      column: c.name,
      kind: c.kind,
      value: c.kind === 'json' ? JSON.stringify(stored) : stored,
    });
    plan.outcomes.push({ name: c.name, outcome: keyId === undefined ? 'sealed' : 'reencrypted' });
  }
  for (const i of table.blindIndexes) {
    const f = figures.indexes[i.index]!;
    const index = row[i.index] as string | null;
    const stored = row[i.of] as string | null;
    if (stored === null) continue;
    if (index !== null && index.split(':')[0] === blindKeyId) {
      f.current++;
      continue;
    }
    let plain = plainOf.get(i.of);
    if (plain === undefined) {
      // Under the current key, so not decrypted above; or unreadable.
      try {
        plain = keys.decryptText(stored, placeOf(table.table, i.of, key));
      } catch (e) {
        if (!(e instanceof KeyRingError)) throw e;
        f.unreadable++;
        continue;
      }
    }
    plan.set.push({ column: i.index, kind: 'index', value: keys.blindIndex(plain) });
    plan.expect.push({ column: i.index, kind: 'index', value: index });
    if (!plan.expect.some((e) => e.column === i.of))
      plan.expect.push({ column: i.of, kind: 'text', value: stored });
    plan.outcomes.push({ name: i.index, outcome: 'recomputed' });
  }
  return plan.set.length > 0 ? plan : undefined;
}

const valueSql = (v: ColumnValue) => (v.kind === 'json' ? sql`${v.value}::jsonb` : sql`${v.value}`);

/** The compare-and-set UPDATE of one row: true when the row was still as read. */
async function updateRow(tx: DbOrTx, table: EncryptedTable, plan: RowPlan): Promise<boolean> {
  const conditions = [
    ...table.key.map((k, n) => sql`${sql.ref(k)} = ${plan.key[n]}`),
    ...plan.expect.map((e) =>
      // A PDF is compared by its digest, computed by PostgreSQL: not sent back a second time.
      e.kind === 'bytes'
        ? sql`sha256(${sql.ref(e.column)}) = ${createHash('sha256')
            .update(e.value as Buffer)
            .digest()}`
        : sql`${sql.ref(e.column)} IS NOT DISTINCT FROM ${valueSql(e)}`,
    ),
  ];
  const result = await sql`
    UPDATE ${sql.table(table.table)}
    SET ${sql.join(plan.set.map((s) => sql`${sql.ref(s.column)} = ${valueSql(s)}`))}
    WHERE ${sql.join(conditions, sql` AND `)}`.execute(tx);
  return result.numAffectedRows === 1n;
}

// A deadlock with a concurrent transaction, or a row lock held for longer than lock_timeout: the batch is
// rolled back as a whole and tried again.
const RETRYABLE = new Set(['40P01', '40001', '55P03']);
const ATTEMPTS = 3;

async function writeBatch(db: Db, table: EncryptedTable, plans: readonly RowPlan[]): Promise<boolean[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (tx) => {
        // Never wait long behind a writer: the service's transactions are short.
        await sql`SET LOCAL lock_timeout = '5s'`.execute(tx);
        const written: boolean[] = [];
        for (const plan of plans) written.push(await updateRow(tx, table, plan));
        return written;
      });
    } catch (e) {
      if (attempt >= ATTEMPTS || !RETRYABLE.has((e as { code?: string }).code ?? '')) throw e;
    }
  }
}

const valueFigures = (): ValueFigures => ({
  reencrypted: 0,
  sealed: 0,
  current: 0,
  skipped: 0,
  unreadable: 0,
});
const indexFigures = (): IndexFigures => ({ recomputed: 0, current: 0, skipped: 0, unreadable: 0 });

function count(figures: TableRotation, plan: RowPlan, written: boolean) {
  for (const { name, outcome } of plan.outcomes) {
    if (outcome === 'recomputed') {
      const f = figures.indexes[name]!;
      if (written) f.recomputed++;
      else f.skipped++;
    } else {
      const f = figures.columns[name]!;
      if (written) f[outcome]++;
      else f.skipped++;
    }
  }
}

async function rotateTable(
  db: Db,
  keys: KeyRing,
  table: EncryptedTable,
  options: RotateOptions,
  blindKeyId: string,
): Promise<{ figures: TableRotation; aborted: boolean }> {
  const started = performance.now();
  const figures: TableRotation = {
    table: table.table,
    rows: 0,
    ms: 0,
    columns: Object.fromEntries(table.columns.map((c) => [c.name, valueFigures()])),
    indexes: Object.fromEntries(table.blindIndexes.map((i) => [i.index, indexFigures()])),
  };
  const limit = table.columns.some((c) => c.kind === 'bytes')
    ? (options.bytesBatchSize ?? DEFAULT_BYTES_BATCH_SIZE)
    : (options.batchSize ?? DEFAULT_BATCH_SIZE);
  let after: unknown[] | undefined;
  let aborted = false;
  for (;;) {
    if (options.signal?.aborted) {
      aborted = true;
      break;
    }
    const rows = await readBatch(db, table, after, limit, keys.currentKeyId);
    if (rows.length === 0) break;
    after = table.key.map((k) => rows.at(-1)![k]);
    const plans = rows.flatMap((row) => planRow(keys, table, row, blindKeyId, figures) ?? []);
    const written =
      options.dryRun || plans.length === 0 ? plans.map(() => true) : await writeBatch(db, table, plans);
    plans.forEach((plan, n) => count(figures, plan, written[n]!));
    figures.rows += rows.length;
    options.onProgress?.({ table: table.table, rows: figures.rows });
    if (rows.length < limit) break;
  }
  figures.ms = Math.round(performance.now() - started);
  return { figures, aborted };
}

/** Re-encrypts every value not under `keys.currentKeyId` and recomputes every index of another blind key. */
export async function rotateKeys(db: Db, keys: KeyRing, options: RotateOptions = {}): Promise<Rotation> {
  for (const [name, size] of [
    ['batchSize', options.batchSize],
    ['bytesBatchSize', options.bytesBatchSize],
  ] as const)
    if (size !== undefined && (!Number.isInteger(size) || size < 1))
      throw new RangeError(`${name} must be a positive integer`);
  const started = performance.now();
  const blindKeyId = keys.blindKeyId;
  const rotation: Rotation = {
    keyId: keys.currentKeyId,
    blindKeyId,
    dryRun: options.dryRun ?? false,
    aborted: false,
    ms: 0,
    tables: [],
  };
  for (const table of ENCRYPTED_TABLES) {
    if (options.signal?.aborted) {
      rotation.aborted = true;
      break;
    }
    const { figures, aborted } = await rotateTable(db, keys, table, options, blindKeyId);
    rotation.tables.push(figures);
    if (aborted) {
      rotation.aborted = true;
      break;
    }
  }
  rotation.ms = Math.round(performance.now() - started);
  return rotation;
}

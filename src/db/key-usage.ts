// Which key each encrypted value is under (issue 16 §1, `npm run keys -- status`), counted in SQL: the key
// id is read from the stored value's first bytes, never decrypting. Key rotation (key-rotation.ts) uses the
// same reading to fetch only the values it has to re-encrypt.
import { type RawBuilder, sql } from 'kysely';
import { ENCRYPTED_TABLES, type EncryptedKind, type EncryptedTable } from './encrypted-columns.ts';
import { KEY_ID_PATTERN } from './encryption.ts';
import type { DbOrTx } from './index.ts';

// --- The key ids as SQL sees them ------------------------------------------------------------------------
// The same shapes as LocalKeyRing.keyIdOf (encryption.ts): text `enc:v1:<id>:…` (in a jsonb column, as a
// JSON string), bytes `SENC1`, the id's length, the id. NULL for a plain value (or a NULL column).
const KEY_ID = KEY_ID_PATTERN;

export function keyIdSql(column: string, kind: EncryptedKind): RawBuilder<string | null> {
  const c = sql.ref(column);
  const textKeyId = sql.lit(`^enc:v1:(${KEY_ID}):`);
  switch (kind) {
    case 'text':
      return sql`substring(${c} from ${textKeyId})`;
    case 'json':
      return sql`CASE WHEN jsonb_typeof(${c}) = 'string' THEN substring(${c} #>> '{}' from ${textKeyId}) END`;
    case 'bytes':
      // Only the first bytes are read: PostgreSQL fetches a slice of a large (TOASTed) value.
      return sql`CASE WHEN length(${c}) > 5 AND substring(${c} from 1 for 5) = decode('53454e4331', 'hex')
        THEN substring(encode(substring(${c} from 7 for get_byte(${c}, 5)), 'escape') from ${sql.lit(`^${KEY_ID}$`)}) END`;
  }
}

// --- Status ----------------------------------------------------------------------------------------------

export interface ColumnUsage {
  table: EncryptedTable['table'];
  column: string;
  kind: EncryptedKind;
  /** Values per key id. */
  byKey: Record<string, number>;
  /** Values stored plain (never encrypted). */
  plain: number;
}

export interface IndexUsage {
  table: EncryptedTable['table'];
  index: string;
  /** Indexes per blind index key id. */
  byKey: Record<string, number>;
  /** Rows with a personal number but no index. */
  missing: number;
}

export interface KeyUsage {
  columns: ColumnUsage[];
  indexes: IndexUsage[];
}

/** How many values are under each key id, per table and column (one scan per table, PDFs by their head). */
export async function keyUsage(db: DbOrTx): Promise<KeyUsage> {
  const usage: KeyUsage = { columns: [], indexes: [] };
  for (const table of ENCRYPTED_TABLES) {
    const entries = [
      ...table.columns.map(
        (c) => sql`(${sql.lit(c.name)}, ${keyIdSql(c.name, c.kind)}, ${sql.ref(c.name)} IS NOT NULL)`,
      ),
      ...table.blindIndexes.map(
        (i) =>
          sql`(${sql.lit(i.index)}, split_part(${sql.ref(i.index)}, ':', 1), ${sql.ref(i.of)} IS NOT NULL OR ${sql.ref(i.index)} IS NOT NULL)`,
      ),
    ];
    const { rows } = await sql<{ name: string; key_id: string | null; n: number }>`
      SELECT v.name, v.key_id, count(*)::int AS n
      FROM ${sql.table(table.table)}
      CROSS JOIN LATERAL (VALUES ${sql.join(entries)}) AS v(name, key_id, present)
      WHERE v.present
      GROUP BY v.name, v.key_id
      ORDER BY v.name, v.key_id`.execute(db);
    for (const c of table.columns) {
      const u: ColumnUsage = { table: table.table, column: c.name, kind: c.kind, byKey: {}, plain: 0 };
      for (const r of rows.filter((r) => r.name === c.name)) {
        if (r.key_id === null) u.plain += r.n;
        else u.byKey[r.key_id] = r.n;
      }
      usage.columns.push(u);
    }
    for (const i of table.blindIndexes) {
      const u: IndexUsage = { table: table.table, index: i.index, byKey: {}, missing: 0 };
      for (const r of rows.filter((r) => r.name === i.index)) {
        if (r.key_id === null) u.missing += r.n;
        else u.byKey[r.key_id] = r.n;
      }
      usage.indexes.push(u);
    }
  }
  return usage;
}

// Frozen migration: never import application code here.
// Encryption at rest (issue 16 §1). Personal data is encrypted by the service before it reaches
// PostgreSQL: the names, personal numbers, phones and e-mails of consents, signers and sessions, the free
// texts that may name someone (notes, a decline's reason, who obtained the consent), and the stored PDFs.
// Look-ups by personal number go through a blind index beside the number (a keyed HMAC of its 12 digits).
//
// This migration adds the blind index columns and encrypts what is already stored, in batches, under the
// current key of ENCRYPTION_KEYS and the key of BLIND_INDEX_KEY (or the development keys, which production
// refuses before it gets here: src/config.ts). The format is the service's (src/db/encryption.ts,
// src/db/encrypted-columns.ts), written out here so that this migration stays as it is when they change;
// a test holds the two together (test/db/encryption-migration.test.ts). Values already encrypted are left
// as they are, so the migration can be run again after an interruption.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

const DEV_ENCRYPTION_KEYS = `dev-not-secret:${Buffer.alloc(32, 'samtycke-development-only-key-01').toString('base64')}`;
const DEV_BLIND_INDEX_KEY = `dev-not-secret:${Buffer.alloc(32, 'samtycke-development-only-blind-1').toString('base64')}`;

type Kind = 'text' | 'json' | 'bytes';
const TABLES: { table: string; key: string[]; columns: [string, Kind][]; batch: number }[] = [
  {
    table: 'consents',
    key: ['id'],
    columns: [
      ['child_name', 'text'],
      ['child_personal_number', 'text'],
      ['obtained_by', 'json'],
      ['withdrawal_note', 'text'],
      ['end_note', 'text'],
    ],
    batch: 500,
  },
  {
    table: 'consent_signers',
    key: ['consent_id', 'role'],
    columns: [
      ['name', 'text'],
      ['personal_number', 'text'],
      ['phone', 'text'],
      ['email', 'text'],
      ['signed_name', 'text'],
      ['decline_reason', 'text'],
    ],
    batch: 500,
  },
  {
    table: 'consent_documents',
    key: ['consent_id', 'kind', 'revision'],
    columns: [['pdf', 'bytes']],
    batch: 20,
  },
  {
    table: 'sessions',
    key: ['id_hash'],
    columns: [
      ['personal_number', 'text'],
      ['name', 'text'],
    ],
    batch: 500,
  },
];
/** Blind index column ← the personal number column it indexes. */
const INDEXES: Record<string, [string, string]> = {
  consents: ['child_personal_number_index', 'child_personal_number'],
  consent_signers: ['personal_number_index', 'personal_number'],
};

function key(setting: string): { id: string; key: Buffer } {
  const first = setting.split(',')[0]!.trim();
  const colon = first.indexOf(':');
  return { id: first.slice(0, colon), key: Buffer.from(first.slice(colon + 1), 'base64') };
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const production =
    (process.env.SAMTYCKE_ENV ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development')) ===
    'production';
  if (production && (!process.env.ENCRYPTION_KEYS || !process.env.BLIND_INDEX_KEY))
    throw new Error('ENCRYPTION_KEYS and BLIND_INDEX_KEY are required to encrypt the stored personal data');
  const current = key(process.env.ENCRYPTION_KEYS || DEV_ENCRYPTION_KEYS);
  const blind = key(process.env.BLIND_INDEX_KEY || DEV_BLIND_INDEX_KEY);

  const seal = (plain: Buffer, table: string, column: string, row: string) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
    cipher.setAAD(Buffer.from(`${table}\u0000${column}\u0000${row}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  };
  const sealText = (plain: string, table: string, column: string, row: string) =>
    `enc:v1:${current.id}:${seal(Buffer.from(plain, 'utf8'), table, column, row).toString('base64url')}`;
  const sealBytes = (plain: Buffer, table: string, column: string, row: string) => {
    const id = Buffer.from(current.id, 'latin1');
    return Buffer.concat([
      Buffer.from('SENC1', 'latin1'),
      Buffer.from([id.length]),
      id,
      seal(plain, table, column, row),
    ]);
  };
  const blindIndex = (digits: string) =>
    `${blind.id}:${createHmac('sha256', blind.key).update(digits, 'utf8').digest('base64url')}`;
  const isSealed = (value: unknown) =>
    typeof value === 'string'
      ? value.startsWith('enc:v1:')
      : Buffer.isBuffer(value) && value.subarray(0, 5).toString('latin1') === 'SENC1';

  for (const [table, [index]] of Object.entries(INDEXES))
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN IF NOT EXISTS ${sql.ref(index)} text`.execute(db);

  for (const t of TABLES) {
    const keyList = sql.join(t.key.map((k) => sql.ref(k)));
    const selected = sql.join([...t.key, ...t.columns.map(([c]) => c)].map((c) => sql.ref(c)));
    let after: unknown[] | undefined;
    for (;;) {
      const page = await sql<Record<string, unknown>>`
        SELECT ${selected} FROM ${sql.table(t.table)}
        ${after ? sql`WHERE (${keyList}) > (${sql.join(after.map((v) => sql`${v}`))})` : sql``}
        ORDER BY ${keyList} LIMIT ${t.batch}`.execute(db);
      if (page.rows.length === 0) break;
      for (const r of page.rows) {
        const row = t.key.map((k) => String(r[k])).join('/');
        const set: ReturnType<typeof sql>[] = [];
        for (const [column, kind] of t.columns) {
          const value = r[column];
          if (value === null || value === undefined || isSealed(value)) continue;
          const sealed =
            kind === 'bytes'
              ? sealBytes(value as Buffer, t.table, column, row)
              : kind === 'json'
                ? JSON.stringify(sealText(JSON.stringify(value), t.table, column, row))
                : sealText(value as string, t.table, column, row);
          set.push(sql`${sql.ref(column)} = ${sealed}`);
        }
        const indexed = INDEXES[t.table];
        if (indexed && typeof r[indexed[1]] === 'string' && !isSealed(r[indexed[1]]))
          set.push(sql`${sql.ref(indexed[0])} = ${blindIndex(r[indexed[1]] as string)}`);
        if (set.length === 0) continue;
        await sql`UPDATE ${sql.table(t.table)} SET ${sql.join(set)}
          WHERE ${sql.join(
            t.key.map((k) => sql`${sql.ref(k)} = ${r[k]}`),
            sql` AND `,
          )}`.execute(db);
      }
      const last = page.rows.at(-1)!;
      after = t.key.map((k) => last[k]);
    }
  }

  // Look-ups by number go through the blind index; the indexes on the numbers themselves would only
  // index ciphertexts (a fresh nonce each time: never equal).
  await db.schema.dropIndex('consents_child_idx').execute();
  await db.schema.dropIndex('consent_signers_pnr_idx').execute();
  for (const [table, [index]] of Object.entries(INDEXES))
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(index)} SET NOT NULL`.execute(db);
  await db.schema
    .createIndex('consents_child_index_idx')
    .on('consents')
    .column('child_personal_number_index')
    .execute();
  await db.schema
    .createIndex('consent_signers_pnr_index_idx')
    .on('consent_signers')
    .column('personal_number_index')
    .execute();
}

/**
 * Back to looking numbers up by the number columns. What is encrypted stays encrypted (that needs the
 * service's keys), and so the blind index columns stay, filled, for the next `up`.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('consent_signers_pnr_index_idx').execute();
  await db.schema.dropIndex('consents_child_index_idx').execute();
  for (const [table, [index]] of Object.entries(INDEXES))
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(index)} DROP NOT NULL`.execute(db);
  await db.schema.createIndex('consents_child_idx').on('consents').column('child_personal_number').execute();
  await db.schema
    .createIndex('consent_signers_pnr_idx')
    .on('consent_signers')
    .column('personal_number')
    .execute();
}

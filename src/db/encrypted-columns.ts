// Which columns hold personal data encrypted by the service (issue 16 §1), and how each value's place is
// named in its associated data. One list for the repositories, the key rotation (`npm run keys -- rotate`)
// and the test that reads every table with plain SQL; the encryption itself is in encryption.ts.
//
// A row's place is its key columns' values joined by '/': a value copied into another row does not
// decrypt. Kinds: `text` (a text column holding `enc:v1:…`), `json` (a jsonb column holding that text as a
// JSON string; the plain value is the JSON of the object), `bytes` (a bytea column starting `SENC1`).
// Blind indexes (`blindIndexes`): a text column beside a personal number holding `KeyRing.blindIndex` of
// its 12 digits, so that look-ups stay indexed equality.
import type { KeyRing, Place } from './encryption.ts';

export type EncryptedKind = 'text' | 'json' | 'bytes';

export interface EncryptedTable {
  table: 'consents' | 'consent_signers' | 'consent_documents' | 'sessions';
  /** The columns that name the row (its primary key), in order. */
  key: readonly string[];
  columns: readonly { name: string; kind: EncryptedKind }[];
  /** Blind index column ← the encrypted personal number column it indexes. */
  blindIndexes: readonly { index: string; of: string }[];
}

export const ENCRYPTED_TABLES: readonly EncryptedTable[] = [
  {
    table: 'consents',
    key: ['id'],
    columns: [
      { name: 'child_name', kind: 'text' },
      { name: 'child_personal_number', kind: 'text' },
      { name: 'obtained_by', kind: 'json' },
      { name: 'withdrawal_note', kind: 'text' },
      { name: 'end_note', kind: 'text' },
    ],
    blindIndexes: [{ index: 'child_personal_number_index', of: 'child_personal_number' }],
  },
  {
    table: 'consent_signers',
    key: ['consent_id', 'role'],
    columns: [
      { name: 'name', kind: 'text' },
      { name: 'personal_number', kind: 'text' },
      { name: 'phone', kind: 'text' },
      { name: 'email', kind: 'text' },
      { name: 'signed_name', kind: 'text' },
      { name: 'decline_reason', kind: 'text' },
    ],
    blindIndexes: [{ index: 'personal_number_index', of: 'personal_number' }],
  },
  {
    table: 'consent_documents',
    key: ['consent_id', 'kind', 'revision'],
    columns: [{ name: 'pdf', kind: 'bytes' }],
    blindIndexes: [],
  },
  {
    table: 'sessions',
    key: ['id_hash'],
    columns: [
      { name: 'personal_number', kind: 'text' },
      { name: 'name', kind: 'text' },
    ],
    blindIndexes: [],
  },
];

/** The place of a value: its table, column and row (the key columns' values joined by '/'). */
export const placeOf = (table: EncryptedTable['table'], column: string, row: readonly unknown[]): Place => ({
  table,
  column,
  row: row.map(String).join('/'),
});

/** Seals the values of one row's encrypted columns, for an INSERT or UPDATE (null stays null). */
export function sealText(keys: KeyRing, place: Place, value: string): string;
export function sealText(keys: KeyRing, place: Place, value: string | null): string | null;
export function sealText(keys: KeyRing, place: Place, value: string | null): string | null {
  return value === null ? null : keys.encryptText(value, place);
}

export function openText(keys: KeyRing, place: Place, stored: string): string;
export function openText(keys: KeyRing, place: Place, stored: string | null): string | null;
export function openText(keys: KeyRing, place: Place, stored: string | null): string | null {
  return stored === null ? null : keys.decryptText(stored, place);
}

/** A jsonb value as stored: the JSON text of `value`, encrypted, as a JSON string. */
export const sealJson = (keys: KeyRing, place: Place, value: unknown): string =>
  JSON.stringify(keys.encryptText(JSON.stringify(value), place));

/** The object a sealed jsonb value holds (node-postgres gives the JSON string as a JS string). */
export function openJson<T>(keys: KeyRing, place: Place, stored: unknown): T {
  if (typeof stored !== 'string') throw new TypeError(`${place.table}.${place.column} is not encrypted`);
  return JSON.parse(keys.decryptText(stored, place)) as T;
}

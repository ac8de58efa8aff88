// The PDFs, stored in PostgreSQL with the SHA-256 of each revision. The form: revision 0 as rendered,
// revision n after the n-th signature; the latest form revision is what the next signature appends to,
// so the stored chain of revisions is the document's history. The receipt: one PDF made at completion.
// The bytes are stored encrypted (src/db/encrypted-columns.ts); the SHA-256 is of the plain PDF, so that
// the public verification page can tell whether a file is one the service issued without decrypting.
import { createHash } from 'node:crypto';
import type { DbOrTx } from '../db/index.ts';
import type { KeyRing } from '../db/encryption.ts';
import { placeOf } from '../db/encrypted-columns.ts';
import type { DocumentKind } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export interface StoredDocument {
  kind: DocumentKind;
  revision: number;
  bytes: Uint8Array;
  sha256: string;
  createdAt: Date;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const pdfPlace = (consentId: string, kind: DocumentKind, revision: number) =>
  placeOf('consent_documents', 'pdf', [consentId, kind, revision]);

async function store(
  tx: DbOrTx,
  keys: KeyRing,
  input: {
    consentId: string;
    kind: DocumentKind;
    revision: number;
    bytes: Uint8Array;
    sha256?: string;
    at: Date;
  },
): Promise<StoredDocument> {
  const sha256 = sha256Hex(input.bytes);
  if (input.sha256 !== undefined && input.sha256.toLowerCase() !== sha256)
    throw new AppError('document_mismatch', 'The document bytes do not match their SHA-256');
  await tx
    .insertInto('consent_documents')
    .values({
      consent_id: input.consentId,
      kind: input.kind,
      revision: input.revision,
      pdf: keys.encryptBytes(input.bytes, pdfPlace(input.consentId, input.kind, input.revision)),
      sha256,
      created_at: input.at,
    })
    .execute();
  return { kind: input.kind, revision: input.revision, bytes: input.bytes, sha256, createdAt: input.at };
}

/** Stores a form revision; the unique key (consent, kind, revision) refuses a second revision n. */
export const storeFormRevision = (
  tx: DbOrTx,
  keys: KeyRing,
  input: { consentId: string; revision: number; bytes: Uint8Array; sha256?: string; at: Date },
) => store(tx, keys, { ...input, kind: 'form' });

export const storeReceipt = (
  tx: DbOrTx,
  keys: KeyRing,
  input: { consentId: string; bytes: Uint8Array; at: Date },
) => store(tx, keys, { ...input, kind: 'receipt', revision: 0 });

/** The latest stored revision of a kind (the form: what the next signature appends to). */
export async function latestDocument(
  db: DbOrTx,
  keys: KeyRing,
  consentId: string,
  kind: DocumentKind,
): Promise<StoredDocument | undefined> {
  const row = await db
    .selectFrom('consent_documents')
    .select(['kind', 'revision', 'pdf', 'sha256', 'created_at'])
    .where('consent_id', '=', consentId)
    .where('kind', '=', kind)
    .orderBy('revision', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toDocument(keys, consentId, row);
}

export async function latestFormRevision(
  db: DbOrTx,
  keys: KeyRing,
  consentId: string,
): Promise<StoredDocument> {
  const doc = await latestDocument(db, keys, consentId, 'form');
  if (!doc) throw new AppError('not_found', 'The consent has no stored form');
  return doc;
}

/** The SHA-256 of the form's latest revision (what a signer reviews), without reading the PDF. */
export async function latestFormSha256(db: DbOrTx, consentId: string): Promise<string> {
  return (await latestFormHead(db, consentId)).sha256;
}

/** Every form revision, oldest first (verification and tests). */
export async function listFormRevisions(
  db: DbOrTx,
  keys: KeyRing,
  consentId: string,
): Promise<StoredDocument[]> {
  const rows = await db
    .selectFrom('consent_documents')
    .select(['kind', 'revision', 'pdf', 'sha256', 'created_at'])
    .where('consent_id', '=', consentId)
    .where('kind', '=', 'form')
    .orderBy('revision', 'asc')
    .execute();
  return rows.map((row) => toDocument(keys, consentId, row));
}

function toDocument(
  keys: KeyRing,
  consentId: string,
  row: {
    kind: DocumentKind;
    revision: number;
    pdf: Uint8Array;
    sha256: string;
    created_at: Date;
  },
): StoredDocument {
  const bytes = keys.decryptBytes(row.pdf, pdfPlace(consentId, row.kind, row.revision));
  return { kind: row.kind, revision: row.revision, bytes, sha256: row.sha256, createdAt: row.created_at };
}

/** What is stored, without the bytes (details pages). */
export async function documentSummary(
  db: DbOrTx,
  consentId: string,
): Promise<{ formRevision: number; formSha256: string; receipt: boolean }> {
  const rows = await db
    .selectFrom('consent_documents')
    .select(['kind', 'revision', 'sha256'])
    .where('consent_id', '=', consentId)
    .orderBy('revision', 'desc')
    .execute();
  const form = rows.find((r) => r.kind === 'form');
  return {
    formRevision: form?.revision ?? 0,
    formSha256: form?.sha256 ?? '',
    receipt: rows.some((r) => r.kind === 'receipt'),
  };
}

/**
 * The latest form revision's number and SHA-256, without the PDF: what a signature prepared outside the
 * row lock is checked against once the lock is held (sign-consent.ts).
 */
export async function latestFormHead(
  db: DbOrTx,
  consentId: string,
): Promise<{ revision: number; sha256: string }> {
  const row = await db
    .selectFrom('consent_documents')
    .select(['revision', 'sha256'])
    .where('consent_id', '=', consentId)
    .where('kind', '=', 'form')
    .orderBy('revision', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'The consent has no stored form');
  return row;
}

/**
 * Whether a file with this SHA-256 is one the service issued: a stored form revision or receipt (with
 * `documentId`, one of that document's). Only a yes or no: the public verification page (issue 16 §7)
 * says nothing more about the consent. By the index on sha256 (migration 2026-12-07T1100).
 */
export async function isIssuedRevision(db: DbOrTx, sha256: string, documentId?: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/i.test(sha256)) return false;
  let query = db.selectFrom('consent_documents').select('id').where('sha256', '=', sha256.toLowerCase());
  if (documentId !== undefined) query = query.where('consent_id', '=', documentId);
  return (await query.limit(1).executeTakeFirst()) !== undefined;
}

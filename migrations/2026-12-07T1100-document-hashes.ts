// Frozen migration: never import application code here.
// The public verification page (issue 16 §7) asks whether an uploaded file's SHA-256 is one of a stored
// document's revisions. consent_documents has kept each revision's SHA-256 from the start (a check
// constraint holds it to 64 lowercase hex digits), so nothing needs backfilling; what was missing is an
// index, without which every upload would scan the table of PDFs.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('consent_documents_sha256_idx')
    .on('consent_documents')
    .column('sha256')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('consent_documents_sha256_idx').execute();
}

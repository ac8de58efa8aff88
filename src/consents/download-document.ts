// Read: the signed form (its current revision) or the completion receipt, for authenticated download
// only (the HTTP layer sends it as an attachment with `Cache-Control: no-store`; it is never e-mailed).
// Every download is an audit event. The file name carries no personal data.
import type { DocumentKind } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { isUuid } from '../db/uuid.ts';
import type { Actor, ConsentContext } from './context.ts';
import { latestDocument } from './documents.repository.ts';

export interface DownloadedDocument {
  bytes: Uint8Array;
  sha256: string;
  revision: number;
  fileName: string;
  contentType: 'application/pdf';
}

export async function downloadConsentDocument(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  actor: Actor,
  input: { consentId: string; kind: DocumentKind; requestId?: string },
): Promise<DownloadedDocument> {
  if (!isUuid(input.consentId)) throw new AppError('not_found', 'Dokumentet finns inte.');
  const doc = await latestDocument(ctx.db, ctx.keys, input.consentId, input.kind);
  if (!doc) throw new AppError('not_found', 'Dokumentet finns inte.');
  await appendAuditEvent(ctx.db, {
    consentId: input.consentId,
    action: 'document_downloaded',
    actor,
    at: ctx.clock.now(),
    requestId: input.requestId,
    details: { kind: input.kind, revision: doc.revision, sha256: doc.sha256 },
  });
  const short = input.consentId.slice(0, 8);
  return {
    bytes: doc.bytes,
    sha256: doc.sha256,
    revision: doc.revision,
    fileName: input.kind === 'form' ? `samtycke-${short}.pdf` : `samtycke-${short}-kvittens.pdf`,
    contentType: 'application/pdf',
  };
}

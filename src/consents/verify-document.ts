// Verify an uploaded document (issue 16 §7, the public page /verifiera): every signature's role, the name
// and time in the document, whether it is intact, trusted and covers the document, whether later changes
// were only allowed ones, and whether this exact file is one the service issued. Nothing more about the
// consent: no status, no names beyond those in the file, no ids. The bytes are only read, in memory: never
// stored, never logged (neither are the names found in them). They are verified in a PDF worker
// (pdf-workers.ts): anyone's upload costs CPU off the event loop, within the worker's heap limit.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { SignerRole } from '../domain/roles.ts';
import { pdfWorkers } from '../pdf/pdf-workers.ts';
import type { ExpectedDocument } from '../pdf/verification-link.ts';
import type { Trust } from '../pdf/trust.ts';
import type { SignatureReport, VerificationReport } from '../pdf/verify/index.ts';
import { isIssuedRevision } from './documents.repository.ts';

export interface VerifyDocumentContext {
  db: Db;
  clock: Clock;
  /** `pdfRenderThreads`: the PDF workers the document is verified in (0: on the event loop). */
  config: Pick<Config, 'pdfRenderThreads'>;
  trust: Trust;
  tsaTrust?: Trust | undefined;
}

export interface VerifiedSignature {
  role: SignerRole | undefined;
  /** The signer's name as the signature's certificate gives it (what the file itself says). */
  name: string | undefined;
  /** The trusted timestamp's time when there is one, else the time the document claims. */
  signedAt: Date | undefined;
  signedAtSource: 'timestamp' | 'claimed' | undefined;
  /** The signed bytes are unchanged and the signature over them verifies. */
  intact: boolean;
  /**
   * The certificate chains to our trust anchors at the signature's time and was not revoked then; 'unknown'
   * when the signature is not intact (a broken signature vouches for nothing, whoever's certificate it has).
   */
  trusted: 'yes' | 'no' | 'unknown';
  /** The signature covers the file as it is (true for the last one; earlier ones see `laterChanges`). */
  coversWholeFile: boolean;
  /** It covers a whole version of the document (not a piece of one). */
  coversSignedVersion: boolean;
  /** What was added after it: nothing, only what may be added (further signatures), or something else. */
  laterChanges: 'none' | 'allowed' | 'forbidden';
  status: 'valid' | 'invalid' | 'indeterminate';
}

export interface DocumentVerification {
  /** The file is not a PDF we could read: nothing else in the answer means anything. */
  readable: boolean;
  sha256: string;
  verdict: VerificationReport['verdict'];
  signatures: VerifiedSignature[];
  /** Signature fields no one has signed yet. */
  unsignedFields: number;
  /** This exact file (by SHA-256) is a revision of a document the service stored. */
  issued: boolean;
  /** With a link's expected document: this file is that document's signed form, as the link says. */
  matchesExpected: boolean | undefined;
  validationTime: Date;
}

/** PDF files start with %PDF- (ISO 32000-1 §7.5.2); readers allow junk before it, up to 1 KiB. */
export function looksLikePdf(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  return head.includes('%PDF-');
}

function summarise(s: SignatureReport, at: Date): VerifiedSignature {
  const timestampOk = !!s.timestamp && s.timestamp.imprintValid && s.timestamp.signatureValid;
  const timestampUsed = timestampOk && !!s.timestamp?.trusted;
  const removed = s.problems.some((p) => p.includes('removed from the form'));
  const intact =
    s.byteRange.wellFormed &&
    s.byteRange.coversRevision &&
    s.cms.readable &&
    s.cms.digestValid &&
    s.cms.signatureValid &&
    s.cms.signingCertificateValid &&
    (!s.timestamp || timestampOk) &&
    !removed;
  const revoked = [...s.certificate.revocation, ...(s.timestamp?.revocation ?? [])].some(
    (r) => r.status === 'revoked',
  );
  const tsaExpired =
    timestampUsed && !!s.timestamp?.certificateNotAfter && s.timestamp.certificateNotAfter < at;
  const chained = s.certificate.chainValid && !revoked && !tsaExpired && s.status !== 'indeterminate';
  const trusted = !intact ? 'unknown' : chained ? 'yes' : 'no';
  const signedAt = timestampUsed ? s.timestamp?.genTime : s.claimedSigningTime;
  return {
    role: s.role,
    name: s.signerName,
    signedAt,
    signedAtSource: signedAt ? (timestampUsed ? 'timestamp' : 'claimed') : undefined,
    intact,
    trusted,
    coversWholeFile: s.byteRange.coversWholeFile,
    coversSignedVersion: s.byteRange.coversRevision,
    laterChanges: s.laterChanges.forbidden.length
      ? 'forbidden'
      : s.laterChanges.allowed.length
        ? 'allowed'
        : 'none',
    status: s.status,
  };
}

/** Verifies `bytes` at the clock's now. Never throws for a bad file: an unreadable one says so. */
export async function verifyUploadedDocument(
  ctx: VerifyDocumentContext,
  bytes: Uint8Array,
  expected?: ExpectedDocument,
): Promise<DocumentVerification> {
  const at = ctx.clock.now();
  let report: VerificationReport | undefined;
  if (looksLikePdf(bytes)) {
    try {
      // The verifier loads at the first upload (in the worker), not at start.
      report = await pdfWorkers(ctx.config.pdfRenderThreads).verify(bytes, {
        trust: ctx.trust,
        tsaTrust: ctx.tsaTrust,
        at,
      });
    } catch {
      // verifyPdf reports a bad document rather than throwing; anything else (a worker that ran out of
      // heap on a hostile file and died) is still "not readable", never a 500.
      report = undefined;
    }
  }
  const sha256 = report?.file.sha256 ?? createHash('sha256').update(bytes).digest('hex');
  const readable = !!report && !report.problems.some((p) => p.startsWith('not a readable PDF'));
  const issued = readable && (await isIssuedRevision(ctx.db, sha256));
  const matchesExpected =
    expected === undefined
      ? undefined
      : expected.sha256 === sha256 && (await isIssuedRevision(ctx.db, sha256, expected.documentId));
  return {
    readable,
    sha256,
    verdict: report && readable ? report.verdict : 'invalid',
    signatures: readable && report ? report.signatures.map((s) => summarise(s, at)) : [],
    unsignedFields: readable && report ? report.unsignedFields.length : 0,
    issued,
    matchesExpected,
    validationTime: at,
  };
}

// The in-process verifier: every signature of a PDF with its field/role, signer, times, certificate
// chain, CMS validity, what its byte range covers (byte-range.ts) and whether later revisions
// changed more than signature fields may (changes.ts). Statuses follow ETSI EN 319 102-1 §5.1.3:
// valid (TOTAL-PASSED), invalid (TOTAL-FAILED: the signature or the document is not as signed), or
// indeterminate (cannot tell: e.g. the certificate does not chain to a trusted root).
//
// Validation happens at a validation time (`at`, default now: `npm run verify -- --at` and the public
// verification page can choose it). Certificates are checked at the signature's best time — its trusted
// timestamp — with the revocation data the document's DSS holds from then (PAdES B-LT), so a signature
// stays valid after its short-lived certificate expired; what the validation time still decides is
// whether the timestamp itself can be relied on then (its TSA certificate not expired) and which
// evidence existed by then.
import { createHash } from 'node:crypto';
import { isSignerRole, type SignerRole } from '../../domain/roles.ts';
import { PdfFile } from '../cos/document.ts';
import { PdfName, PdfRef, PdfString } from '../cos/objects.ts';
import { readDss } from '../dss.ts';
import { readForm } from '../fields.ts';
import type { Trust } from '../trust.ts';
import { NO_VALIDATION_DATA, type ParsedValidationData, parseValidationData } from '../validation-data.ts';
import { type ByteRangeReport, checkByteRange } from './byte-range.ts';
import { type Change, revisionChanges } from './changes.ts';
import {
  type CertificateReport,
  type CmsCheckContext,
  type CmsReport,
  checkCms,
  type TimestampReport,
} from './signature.ts';

export type { ByteRangeReport } from './byte-range.ts';
export type { Change } from './changes.ts';
export type { CertificateReport, CmsReport, TimestampReport } from './signature.ts';

export type SignatureStatus = 'valid' | 'invalid' | 'indeterminate';

export interface SignatureReport {
  field: string;
  role: SignerRole | undefined;
  signerName: string | undefined;
  /** /M: the time the signer's software claims (PAdES puts it there, not in the CMS). */
  claimedSigningTime: Date | undefined;
  reason: string | undefined;
  location: string | undefined;
  subFilter: string | undefined;
  /**
   * PAdES baseline level reached: B-B; B-T with a valid, trusted signature timestamp; B-LT when the DSS
   * also tells the revocation status of every certificate below the anchors of signer and TSA.
   */
  level: 'PAdES-B-B' | 'PAdES-B-T' | 'PAdES-B-LT' | undefined;
  byteRange: ByteRangeReport;
  cms: CmsReport;
  certificate: CertificateReport;
  timestamp: TimestampReport | undefined;
  /** Changes in revisions after the signed one. */
  laterChanges: { allowed: Change[]; forbidden: Change[] };
  status: SignatureStatus;
  problems: string[];
}

export interface VerificationReport {
  file: { size: number; sha256: string; revisions: number };
  /** The time the document was validated as of. */
  validationTime: Date;
  /** What the document security store holds (PAdES B-LT), if there is one. */
  dss: { certificates: number; ocsps: number; crls: number } | undefined;
  signatures: SignatureReport[];
  /** Signature fields without a signature yet. */
  unsignedFields: string[];
  verdict: 'valid' | 'invalid' | 'indeterminate' | 'unsigned';
  problems: string[];
}

export interface VerifyOptions {
  trust: Trust;
  /** Anchors for time-stamping authorities; defaults to `trust`. */
  tsaTrust?: Trust | undefined;
  /** The validation time (default: now). */
  at?: Date | undefined;
}

/** How much later than the validation time a signature's time may be (clocks differ a little). */
const CLOCK_SKEW_MS = 60_000;

const text = (o: unknown): string | undefined => (o instanceof PdfString ? o.toText() : undefined);

/** PDF date (ISO 32000-1 §7.9.4): D:YYYYMMDDHHmmSSOHH'mm'. */
export function parsePdfDate(s: string | undefined): Date | undefined {
  const m = s?.match(/^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?$/);
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', sec = '00', sign, oh = '00', om = '00'] = m;
  const utc = Date.UTC(+y!, +mo - 1, +d, +h, +mi, +sec);
  const offset = sign === '+' || sign === '-' ? (sign === '+' ? 1 : -1) * (+oh * 60 + +om) * 60_000 : 0;
  return new Date(utc - offset);
}

/** Verify every signature of `bytes`. Never throws for a bad document: problems are in the report. */
export async function verifyPdf(
  bytes: Uint8Array,
  options: VerifyOptions,
  parsed?: PdfFile,
): Promise<VerificationReport> {
  const at = options.at ?? new Date();
  const report: VerificationReport = {
    file: { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), revisions: 0 },
    validationTime: at,
    dss: undefined,
    signatures: [],
    unsignedFields: [],
    verdict: 'unsigned',
    problems: [],
  };
  let file: PdfFile;
  let form: ReturnType<typeof readForm>;
  try {
    file = parsed ?? PdfFile.parse(bytes);
    form = readForm(file);
  } catch (e) {
    report.problems.push(`not a readable PDF: ${(e as Error).message}`);
    report.verdict = 'invalid';
    return report;
  }
  report.file.revisions = file.revisions.length;
  let dss: ParsedValidationData = parseValidationData(NO_VALIDATION_DATA);
  try {
    const stored = readDss(file);
    dss = parseValidationData(stored);
    if (stored.present)
      report.dss = {
        certificates: dss.certificates.length,
        ocsps: dss.ocsps.length,
        crls: dss.crls.length,
      };
  } catch (e) {
    report.problems.push(`the document security store cannot be read: ${(e as Error).message}`);
  }
  const context: CmsCheckContext = {
    trust: options.trust,
    tsaTrust: options.tsaTrust ?? options.trust,
    dss,
    at,
  };

  const document: SignedDocument = {
    bytes,
    file,
    current: new Set(form.signatureFields.flatMap((f) => (f.value ? [f.value.num] : []))),
    changesAfter: changesAfterRevision(file),
  };
  report.unsignedFields = form.signatureFields.filter((f) => !f.value).map((f) => f.name);
  for (const [sigNum, field] of signaturesOfEveryRevision(file, form)) {
    const signature = await verifySignature(document, sigNum, field, context);
    if (typeof signature === 'string') report.problems.push(signature);
    else report.signatures.push(signature);
  }
  // Oldest signature first, as they were made.
  report.signatures.sort(
    (x, y) =>
      (x.byteRange.range[3] ?? 0) +
      (x.byteRange.range[2] ?? 0) -
      ((y.byteRange.range[3] ?? 0) + (y.byteRange.range[2] ?? 0)),
  );
  report.verdict = verdictOf(report);
  return report;
}

/** What every signature of one document is checked against. */
interface SignedDocument {
  bytes: Uint8Array;
  file: PdfFile;
  /** The signature dictionaries the form's fields hold now (newest revision). */
  current: Set<number>;
  /** The changes made in the revisions after `revision`. */
  changesAfter: (revision: number) => Change[];
}

/** The changes after a revision, each revision's computed once (an unreadable one is a forbidden change). */
function changesAfterRevision(file: PdfFile): (revision: number) => Change[] {
  const changesByRevision = new Map<number, Change[]>();
  return (rev) => {
    const out: Change[] = [];
    for (let r = rev + 1; r < file.revisions.length; r++) {
      let c = changesByRevision.get(r);
      if (!c) {
        try {
          c = revisionChanges(file, r);
        } catch (e) {
          c = [
            {
              revision: r,
              object: 0,
              kind: 'changed',
              what: `unreadable revision (${(e as Error).message})`,
              allowed: false,
            },
          ];
        }
        changesByRevision.set(r, c);
      }
      out.push(...c);
    }
    return out;
  };
}

/**
 * Signatures of every revision, not only the newest: one removed from the form later is still
 * reported (and fails), instead of the document quietly reading as less signed.
 */
function signaturesOfEveryRevision(
  file: PdfFile,
  form: ReturnType<typeof readForm>,
): Map<number, { name: string; revision: number }> {
  const signatures = new Map<number, { name: string; revision: number }>();
  for (let r = 0; r < file.revisions.length; r++) {
    let fields: ReturnType<typeof readForm>['signatureFields'];
    try {
      fields = r === file.revisions.length - 1 ? form.signatureFields : readForm(file, r).signatureFields;
    } catch {
      continue;
    }
    for (const f of fields)
      if (f.value && !signatures.has(f.value.num)) signatures.set(f.value.num, { name: f.name, revision: r });
  }
  return signatures;
}

/** One signature's report, or the document's problem when its signature dictionary is missing. */
async function verifySignature(
  doc: SignedDocument,
  sigNum: number,
  field: { name: string; revision: number },
  context: CmsCheckContext,
): Promise<SignatureReport | string> {
  const { bytes, file, current } = doc;
  // The signature dictionary as it was signed; a later change to it is a forbidden change.
  const sig = file.resolveDict(new PdfRef(sigNum, 0), field.revision);
  if (!sig) return `field ${field.name}: its signature dictionary is missing`;
  const { report: byteRange, contents, problems } = checkByteRange(file, sig, sigNum, field.revision);
  if (!current.has(sigNum)) problems.push('the signature was removed from the form in a later revision');
  const claimed = parsePdfDate(text(sig.get('M')));
  const subFilter =
    sig.get('SubFilter') instanceof PdfName ? (sig.get('SubFilter') as PdfName).value : undefined;
  if (subFilter !== 'ETSI.CAdES.detached' && subFilter !== 'adbe.pkcs7.detached')
    problems.push(`unsupported signature type ${subFilter ?? '(none)'}`);
  const chunks =
    byteRange.range.length === 4
      ? [
          bytes.subarray(0, byteRange.range[1]),
          bytes.subarray(byteRange.range[2], byteRange.range[2]! + byteRange.range[3]!),
        ]
      : [];
  const { cms, certificate, timestamp } = await checkCms(
    contents ?? new Uint8Array(),
    chunks,
    claimed,
    context,
  );
  const later = byteRange.revision === undefined ? [] : doc.changesAfter(byteRange.revision);
  const laterChanges = {
    allowed: later.filter((c) => c.allowed),
    forbidden: later.filter((c) => !c.allowed),
  };
  if (laterChanges.forbidden.length)
    problems.push(`${laterChanges.forbidden.length} forbidden change(s) after this signature`);
  const timestampOk = !!timestamp && timestamp.imprintValid && timestamp.signatureValid;
  const timestampUsed = timestampOk && timestamp.trusted;
  const revoked = certificate.revocation.some((r) => r.status === 'revoked');
  // What the validation time decides: a signature made after it, or a timestamp whose TSA certificate
  // has expired by then (only an archive timestamp, PAdES B-LTA, would keep proving it), cannot be judged.
  const at = context.at;
  if (certificate.validatedAt && certificate.validatedAt.getTime() > at.getTime() + CLOCK_SKEW_MS)
    problems.push(`the signature's time is after the validation time ${at.toISOString()}`);
  const tsaExpired = timestampUsed && !!timestamp.certificateNotAfter && timestamp.certificateNotAfter < at;
  if (tsaExpired)
    problems.push(
      `the TSA certificate expired on ${timestamp.certificateNotAfter!.toISOString()}, before the validation time: the timestamp needs an archive timestamp (PAdES B-LTA)`,
    );

  const failed =
    !byteRange.wellFormed ||
    !byteRange.coversRevision ||
    !cms.readable ||
    !cms.digestValid ||
    !cms.signatureValid ||
    !cms.signingCertificateValid ||
    !certificate.keyUsageValid ||
    laterChanges.forbidden.length > 0 ||
    (!!timestamp && !timestampOk) ||
    revoked ||
    !current.has(sigNum) ||
    problems.some((p) => p.startsWith('unsupported'));
  // An intact timestamp from a TSA we do not trust is only not used (the signature counts as B-B,
  // validated at its claimed time): it must not make a document unsignable where the TSA's root was
  // left out of the anchors. A broken timestamp fails the signature (above).
  const undetermined =
    !certificate.chainValid ||
    tsaExpired ||
    (!!certificate.validatedAt && certificate.validatedAt.getTime() > at.getTime() + CLOCK_SKEW_MS);
  const status: SignatureStatus = failed ? 'invalid' : undetermined ? 'indeterminate' : 'valid';
  const longTerm =
    timestampUsed &&
    certificate.revocation.length > 0 &&
    certificate.revocation.every((r) => r.status === 'good') &&
    timestamp.revocation.length > 0 &&
    timestamp.revocation.every((r) => r.status === 'good');
  return {
    field: field.name,
    role: isSignerRole(field.name) ? field.name : undefined,
    signerName: certificate.signerName,
    claimedSigningTime: claimed,
    reason: text(sig.get('Reason')),
    location: text(sig.get('Location')),
    subFilter,
    level: cms.signatureValid
      ? longTerm
        ? 'PAdES-B-LT'
        : timestampUsed
          ? 'PAdES-B-T'
          : 'PAdES-B-B'
      : undefined,
    byteRange,
    cms,
    certificate,
    timestamp,
    laterChanges,
    status,
    problems: [...problems, ...cms.problems, ...certificate.problems, ...(timestamp?.problems ?? [])],
  };
}

/** The document's verdict: its worst signature's status; a document problem makes a valid one invalid. */
function verdictOf(report: VerificationReport): VerificationReport['verdict'] {
  const statuses = report.signatures.map((s) => s.status);
  const verdict =
    statuses.length === 0
      ? 'unsigned'
      : statuses.includes('invalid')
        ? 'invalid'
        : statuses.includes('indeterminate')
          ? 'indeterminate'
          : 'valid';
  return report.problems.length && verdict === 'valid' ? 'invalid' : verdict;
}

// One signature = one incremental update (ISO 32000-1 §7.5.6, §12.8) that fills a role's empty
// signature field: a signature dictionary (/V), a visible appearance for the widget, /SigFlags 3, and a
// CMS signature (cms.ts) over every byte of the file except the signature value itself, with a signature
// timestamp (PAdES B-T); then a second incremental update that adds the signer's and the TSA's
// certificates and revocation data to the document's DSS (PAdES B-LT, ETSI EN 319 142-1 §6.3), so that
// the signature can be validated at its time for as long as the document is kept. Earlier bytes are never
// touched, so earlier signatures stay valid; the file is never saved whole again. The next signature
// goes after the DSS update.
//
// The PDF work of both updates is in signature-update.ts, two steps the service runs in its PDF workers
// (`SignDeps.pdfWork`); here, in the calling thread: the key (it signs once), the TSA's token and the
// validation data the services give.
//
// Refusals (AppError): bytes that are not the service's latest revision (document_mismatch), a role the
// form has no field for (role_not_in_document), a role already signed (role_already_signed), existing
// signatures that do not verify (document_signatures_invalid). Messages carry no personal data.
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { createCmsSignature, parseSignedData } from './cms.ts';
import * as der from './der.ts';
import { OID } from './pki.ts';
import {
  finishSignatureUpdate,
  openForSigning,
  prepareSignatureUpdate,
  refuseIfMismatch,
  type SignaturePdfWork,
  type SigningTarget,
} from './signature-update.ts';
import type { SignatureKey, SigningService, CertificateSubject } from './signing-service.ts';
import type { Trust } from './trust.ts';
import { parseTstInfo, type Timestamper } from './tsa.ts';
import type { ValidationData } from './validation-data.ts';
import { type VerificationReport, type VerifyOptions, verifyPdf } from './verify/index.ts';

export interface AppendSignatureInput {
  /** The document as the service stored it (its latest revision). */
  pdf: Uint8Array;
  /** SHA-256 (hex) the service stored for that revision: the bytes must be exactly those. */
  expectedSha256: string;
  role: SignerRole;
  signer: CertificateSubject;
  /** Where the signer signed (shown in the appearance and /Location). */
  place: string;
  signedAt: Date;
}

export interface SignDeps {
  signing: SigningService;
  /** Anchors the existing signatures must chain to. */
  trust: Trust;
  /** Every signature gets its signature timestamp here (TSA_URL; in development an in-process TSA). */
  timestamper: Timestamper;
  /** Anchors for the TSAs of the existing signatures' timestamps (default: `trust`). */
  tsaTrust?: Trust | undefined;
  /**
   * Verifies the existing signatures: the service's runs verifyPdf in a PDF worker (pdf-workers.ts), off
   * the event loop; default verifyPdf in this thread.
   */
  verify?: ((pdf: Uint8Array, options: VerifyOptions) => Promise<VerificationReport>) | undefined;
  /**
   * Runs the two PDF steps of the signature (signature-update.ts): the service's runs them in a PDF
   * worker, off the event loop; default in this thread.
   */
  pdfWork?: SignaturePdfWork | undefined;
}

const IN_THIS_THREAD: SignaturePdfWork = {
  prepareSignature: async (task) => prepareSignatureUpdate(task),
  finishSignature: async (task) => finishSignatureUpdate(task),
};

export interface AppendedSignature {
  role: SignerRole;
  field: string;
  signerName: string;
  signedAt: Date;
  /** Index of the new revision (0 = the unsigned original). */
  revision: number;
  byteRange: [number, number, number, number];
  certificate: { serialNumber: string; issuer: string; notBefore: Date; notAfter: Date };
  /** B-LT when the DSS got revocation data for every certificate below the roots, else B-T. */
  level: 'PAdES-B-T' | 'PAdES-B-LT';
  /** The signature timestamp's time (genTime): the signature's trusted time. */
  timestampTime: Date;
  /** Index of the revision that adds the validation data to the DSS (the one after the signature's). */
  validationRevision: number;
}

export interface AppendSignatureResult {
  bytes: Uint8Array;
  sha256: string;
  signature: AppendedSignature;
}

/** Room for the CMS: certificates + signed attributes + signature, and the timestamp token. */
function contentsCapacity(key: SignatureKey, tokenCapacity: number, extra = 0): number {
  const certs = key.certificate.length + key.chain.reduce((n, c) => n + c.length, 0);
  const estimate = certs + 1024 + tokenCapacity + extra;
  return Math.ceil(estimate / 256) * 256;
}

export async function appendSignature(
  input: AppendSignatureInput,
  deps: SignDeps,
): Promise<AppendSignatureResult> {
  // Refused here, before a certificate is issued: bytes that are not the latest, a role without an empty
  // field, earlier signatures that do not verify (the PDF steps check the first two again).
  refuseIfMismatch(input.pdf, input.expectedSha256);
  const target = openForSigning(input.pdf, input.role);
  await assertExistingSignaturesValid(input, deps, target);

  const issueKey = async (): Promise<SignatureKey> => {
    try {
      return await deps.signing.startSignature(input.signer, input.signedAt);
    } catch (cause) {
      if (cause instanceof AppError) throw cause;
      throw new AppError('signing_failed', 'The signing service could not issue a certificate', { cause });
    }
  };
  const pdfWork = deps.pdfWork ?? IN_THIS_THREAD;
  let key = await issueKey();
  const signerName = input.signer.name.normalize('NFC').replace(/\s+/g, ' ').trim();
  const prepare = (capacity: number) =>
    pdfWork.prepareSignature({
      pdf: input.pdf,
      expectedSha256: input.expectedSha256,
      role: input.role,
      signerName,
      place: input.place,
      signedAt: input.signedAt,
      capacity,
    });

  const capacity = contentsCapacity(key, deps.timestamper.tokenCapacity);
  let prepared = await prepare(capacity);
  let signed = await signAndTimestamp(deps, key, prepared.digest);
  if (signed.cms.length > capacity) {
    // Only a timestamp token larger than expected gets here; the key signs once, so ask for a new one.
    key = await issueKey();
    const larger = contentsCapacity(key, 0, signed.cms.length + 2048);
    prepared = await prepare(larger);
    signed = await signAndTimestamp(deps, key, prepared.digest);
    if (signed.cms.length > larger)
      throw new AppError('signing_failed', 'The signature does not fit its placeholder');
  }
  const { signer, tsa } = await validationDataOf(deps, key, signed.token, signed.timestampTime);
  const finished = await pdfWork.finishSignature({
    bytes: prepared.bytes,
    contentsAt: prepared.contentsAt,
    cms: signed.cms,
    signer,
    tsa,
    signerChain: [key.certificate, ...key.chain],
    at: signed.timestampTime,
  });
  return {
    bytes: finished.bytes,
    sha256: finished.sha256,
    signature: {
      role: input.role,
      field: target.field.name,
      signerName,
      signedAt: input.signedAt,
      revision: target.file.revisions.length,
      byteRange: prepared.byteRange,
      certificate: certificateSummary(key.certificate),
      level: finished.level,
      timestampTime: signed.timestampTime,
      validationRevision: finished.validationRevision,
    },
  };
}

/**
 * The CMS over `digest` with the signature timestamp of its signature value (PAdES B-T). The
 * certificate is validated at the timestamp's time: a TSA whose clock disagrees with ours (or a signing
 * time far from now) would make a signature no validator accepts.
 */
async function signAndTimestamp(
  deps: SignDeps,
  key: SignatureKey,
  digest: Uint8Array,
): Promise<{ cms: Buffer; token: Uint8Array; timestampTime: Date }> {
  const cms = await createCmsSignature(key, digest);
  let token: Uint8Array;
  try {
    token = await deps.timestamper.timestamp(cms.signatureValue);
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('timestamp_failed', 'The time-stamping service failed', { cause });
  }
  const timestampTime = genTimeOf(token);
  const { notBefore, notAfter } = der.certificateParts(key.certificate);
  if (!timestampTime || timestampTime < notBefore || timestampTime > notAfter)
    throw new AppError(
      'timestamp_failed',
      "The timestamp's time is outside the signer certificate's validity (clocks differ)",
    );
  return { cms: cms.encode(token), token, timestampTime };
}

/** The signer's and the TSA's validation data as of the timestamp (the PDF step judges the level). */
async function validationDataOf(
  deps: SignDeps,
  key: SignatureKey,
  token: Uint8Array,
  at: Date,
): Promise<{ signer: ValidationData; tsa: ValidationData }> {
  let signer: ValidationData;
  try {
    signer = await deps.signing.validationData(key.certificate, at);
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('signing_failed', 'The signing service gave no validation data', { cause });
  }
  let tsa: ValidationData;
  try {
    tsa = await deps.timestamper.validationData(token, at);
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('timestamp_failed', 'The time-stamping service gave no validation data', { cause });
  }
  return { signer, tsa };
}

/** Existing signatures must still verify (chain to our anchors, nothing forbidden changed since). */
async function assertExistingSignaturesValid(
  input: AppendSignatureInput,
  deps: SignDeps,
  { file, form }: SigningTarget,
): Promise<void> {
  if (!form.signatureFields.some((f) => f.value)) return;
  const options: VerifyOptions = { trust: deps.trust, tsaTrust: deps.tsaTrust, at: input.signedAt };
  const report = await (deps.verify ? deps.verify(input.pdf, options) : verifyPdf(input.pdf, options, file));
  if (report.verdict !== 'valid')
    throw new AppError(
      'document_signatures_invalid',
      'An existing signature in the document does not verify',
      {
        extra: { invalidFields: report.signatures.filter((s) => s.status !== 'valid').map((s) => s.field) },
      },
    );
}

function certificateSummary(certificate: Uint8Array): AppendedSignature['certificate'] {
  const parts = der.certificateParts(certificate);
  return {
    serialNumber: Buffer.from(parts.serial).toString('hex'),
    issuer: der.readName(parts.issuer).find((a) => a.type === OID.commonName)?.value ?? '',
    notBefore: parts.notBefore,
    notAfter: parts.notAfter,
  };
}

function genTimeOf(token: Uint8Array): Date | undefined {
  try {
    const sd = parseSignedData(token);
    return sd.eContent ? parseTstInfo(sd.eContent).genTime : undefined;
  } catch {
    return undefined;
  }
}

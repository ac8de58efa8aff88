// One signature = one incremental update (ISO 32000-1 §7.5.6, §12.8) that fills a role's empty
// signature field: a signature dictionary (/V), a visible appearance for the widget, /SigFlags 3, and a
// CMS signature (cms.ts) over every byte of the file except the signature value itself, with a signature
// timestamp (PAdES B-T); then a second incremental update that adds the signer's and the TSA's
// certificates and revocation data to the document's DSS (PAdES B-LT, ETSI EN 319 142-1 §6.3), so that
// the signature can be validated at its time for as long as the document is kept. Earlier bytes are never
// touched, so earlier signatures stay valid; the file is never saved whole again. The next signature
// goes after the DSS update.
//
// Refusals (AppError): bytes that are not the service's latest revision (document_mismatch), a role the
// form has no field for (role_not_in_document), a role already signed (role_already_signed), existing
// signatures that do not verify (document_signatures_invalid). Messages carry no personal data.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { buildAppearance, signatureFonts } from './appearance.ts';
import { createCmsSignature, parseSignedData } from './cms.ts';
import { PdfFile } from './cos/document.ts';
import { dict, PdfRaw, PdfString, serialize } from './cos/objects.ts';
import { nextFileId, ObjectNumbers, type UpdateObject, writeIncrementalUpdate } from './cos/writer.ts';
import * as der from './der.ts';
import { appendToDss } from './dss.ts';
import { readForm } from './fields.ts';
import { OID } from './pki.ts';
import type { SignatureKey, SigningService, CertificateSubject } from './signing-service.ts';
import type { Trust } from './trust.ts';
import { parseTstInfo, type Timestamper } from './tsa.ts';
import {
  mergeValidationData,
  parseValidationData,
  revocationStatus,
  type ValidationData,
} from './validation-data.ts';
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
}

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

const ROLE_REASON: Record<SignerRole, string> = {
  guardian1: 'Samtycke HLT: underskrift av vårdnadshavare 1 (guardian1)',
  guardian2: 'Samtycke HLT: underskrift av vårdnadshavare 2 (guardian2)',
  youth: 'Samtycke HLT: underskrift av berörd ungdom (youth)',
};

const sha256Hex = (...chunks: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};

/** PDF date in UTC (ISO 32000-1 §7.9.4). */
export function pdfDate(d: Date): string {
  const iso = d.toISOString();
  return `D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

const BYTE_RANGE_PLACEHOLDER = '/ByteRange [0 0000000000 0000000000 0000000000]';

/**
 * The signature dictionary (§12.8.1, PAdES: ETSI EN 319 142-1 §5.3) with a /ByteRange to fill in and
 * a zero /Contents of `capacity` bytes. Written raw so that we know where both placeholders are.
 */
function signatureDictionary(capacity: number, input: AppendSignatureInput, signerName: string): PdfRaw {
  const entries = [
    '/Type /Sig',
    '/Filter /Adobe.PPKLite',
    '/SubFilter /ETSI.CAdES.detached',
    BYTE_RANGE_PLACEHOLDER,
    `/Contents <${'0'.repeat(capacity * 2)}>`,
    `/M ${serialize(PdfString.text(pdfDate(input.signedAt)))}`,
    `/Name ${serialize(PdfString.text(signerName))}`,
    `/Reason ${serialize(PdfString.text(ROLE_REASON[input.role]))}`,
    `/Location ${serialize(PdfString.text(input.place.normalize('NFC').trim()))}`,
  ];
  return new PdfRaw(Buffer.from(`<<${entries.join(' ')}>>`, 'latin1'));
}

/** Room for the CMS: certificates + signed attributes + signature, and the timestamp token. */
function contentsCapacity(key: SignatureKey, tokenCapacity: number, extra = 0): number {
  const certs = key.certificate.length + key.chain.reduce((n, c) => n + c.length, 0);
  const estimate = certs + 1024 + tokenCapacity + extra;
  return Math.ceil(estimate / 256) * 256;
}

function refuseIfMismatch(pdf: Uint8Array, expected: string): string {
  const actual = sha256Hex(pdf);
  const a = Buffer.from(actual, 'hex');
  const e = Buffer.from(expected.toLowerCase(), 'hex');
  if (e.length !== a.length || !timingSafeEqual(a, e))
    throw new AppError('document_mismatch', 'The document is not the latest version the service stored');
  return actual;
}

export async function appendSignature(
  input: AppendSignatureInput,
  deps: SignDeps,
): Promise<AppendSignatureResult> {
  const previousSha256 = refuseIfMismatch(input.pdf, input.expectedSha256);
  const target = openForSigning(input);
  await assertExistingSignaturesValid(input, deps, target);

  const issueKey = async (): Promise<SignatureKey> => {
    try {
      return await deps.signing.startSignature(input.signer, input.signedAt);
    } catch (cause) {
      if (cause instanceof AppError) throw cause;
      throw new AppError('signing_failed', 'The signing service could not issue a certificate', { cause });
    }
  };
  let key = await issueKey();
  const signerName = input.signer.name.normalize('NFC').replace(/\s+/g, ' ').trim();
  const { width, height } = widgetSize(target.widget, input.role);
  const appearance = buildAppearance(signatureFonts(target.file, target.acroForm), width, height, {
    signerName,
    place: input.place,
    signedAt: input.signedAt,
  });
  const update = { input, deps, target, signerName, appearance, previousSha256 };

  const tokenCapacity = deps.timestamper.tokenCapacity;
  let result = await writeSignedUpdate(update, key, contentsCapacity(key, tokenCapacity));
  if (typeof result === 'number') {
    // Only a timestamp token larger than expected gets here; the key signs once, so ask for a new one.
    key = await issueKey();
    result = await writeSignedUpdate(update, key, contentsCapacity(key, 0, result + 2048));
    if (typeof result === 'number')
      throw new AppError('signing_failed', 'The signature does not fit its placeholder');
  }
  const { data, level } = await validationDataOf(deps, key, result.token, result.timestampTime);
  const signed = PdfFile.parse(result.bytes);
  const bytes = appendToDss(signed, data, { id: nextFileId(signed, sha256Hex(result.bytes)) });
  return {
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    sha256: sha256Hex(bytes),
    signature: {
      role: input.role,
      field: target.field.name,
      signerName,
      signedAt: input.signedAt,
      revision: target.file.revisions.length,
      byteRange: result.byteRange,
      certificate: certificateSummary(key.certificate),
      level,
      timestampTime: result.timestampTime,
      validationRevision: signed.revisions.length,
    },
  };
}

/** The end of time, for "every piece of evidence counts" (it is all being made now). */
const ANY_TIME = new Date(8.64e15);

/**
 * The signer's and the TSA's validation data as of the timestamp, and the level it gives: B-LT when it
 * tells the status of every certificate below the roots. A revoked certificate stops the signature.
 */
async function validationDataOf(
  deps: SignDeps,
  key: SignatureKey,
  token: Uint8Array,
  at: Date,
): Promise<{ data: ValidationData; level: AppendedSignature['level'] }> {
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
  const data = mergeValidationData(signer, tsa);
  const parsed = parseValidationData(data);
  const statuses = [
    ...revocationStatus([key.certificate, ...key.chain], parsed, at, ANY_TIME),
    ...revocationStatus(tsa.certificates, parsed, at, ANY_TIME),
  ];
  if (statuses.some((s) => s.status === 'revoked'))
    throw new AppError('signing_failed', 'A certificate of the signature or its timestamp is revoked');
  const complete = tsa.certificates.length > 0 && statuses.every((s) => s.status === 'good');
  return { data, level: complete ? 'PAdES-B-LT' : 'PAdES-B-T' };
}

type Form = ReturnType<typeof readForm>;
type SignatureField = Form['signatureFields'][number];

/** The document and the role's empty signature field with its widget. */
interface SigningTarget {
  file: PdfFile;
  form: Form;
  acroForm: NonNullable<Form['acroForm']>;
  field: SignatureField;
  widget: SignatureField['widgets'][number];
}

/** Reads the form and finds the role's field: refuses what cannot be signed. */
function openForSigning(input: AppendSignatureInput): SigningTarget {
  let file: PdfFile;
  let form: Form;
  try {
    file = PdfFile.parse(input.pdf);
    form = readForm(file);
  } catch (cause) {
    throw new AppError('signing_failed', 'The document could not be read as a PDF form', { cause });
  }
  if (file.trailer.has('Encrypt'))
    throw new AppError('signing_failed', 'Encrypted documents cannot be signed');
  const acroForm = form.acroForm;
  if (!acroForm) throw new AppError('role_not_in_document', 'The document has no signature fields');
  const field = form.signatureFields.find((f) => f.name === input.role);
  if (!field)
    throw new AppError('role_not_in_document', `The document has no signature field for ${input.role}`);
  if (field.value)
    throw new AppError('role_already_signed', `The ${input.role} signature is already in the document`);
  const widget = field.widgets[0];
  if (!widget) throw new AppError('signing_failed', `The ${input.role} field has no widget`);
  return { file, form, acroForm, field, widget };
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

function widgetSize(widget: SigningTarget['widget'], role: SignerRole): { width: number; height: number } {
  const rect = widget.dict.get('Rect');
  if (!Array.isArray(rect) || rect.length !== 4 || !rect.every((n) => typeof n === 'number'))
    throw new AppError('signing_failed', `The ${role} widget has no rectangle`);
  const [x1, y1, x2, y2] = rect as number[];
  return { width: Math.abs(x2! - x1!), height: Math.abs(y2! - y1!) };
}

/** Everything one written update needs but the key and the room for the CMS. */
interface SignedUpdate {
  input: AppendSignatureInput;
  deps: SignDeps;
  target: SigningTarget;
  signerName: string;
  appearance: ReturnType<typeof buildAppearance>;
  previousSha256: string;
}

/**
 * Writes the incremental update with `capacity` bytes for the CMS, signs it (and time-stamps it when a
 * TSA is set). Returns the size the CMS needed when it did not fit.
 */
async function writeSignedUpdate(
  { input, deps, target, signerName, appearance, previousSha256 }: SignedUpdate,
  key: SignatureKey,
  capacity: number,
): Promise<
  | { bytes: Buffer; byteRange: [number, number, number, number]; token: Uint8Array; timestampTime: Date }
  | number
> {
  const { file, form, acroForm, field, widget } = target;
  const numbers = new ObjectNumbers(file);
  const sigRef = numbers.allocate();
  const apRef = numbers.allocate();
  const objects: UpdateObject[] = [
    { ref: sigRef, obj: signatureDictionary(capacity, input, signerName) },
    { ref: apRef, obj: appearance },
  ];
  // The field gets its value; its widget (the same object in our forms) the appearance.
  const fieldDict = field.dict.clone().set('V', sigRef);
  if (widget.ref.num === field.ref.num) fieldDict.set('AP', dict({ N: apRef }));
  else objects.push({ ref: widget.ref, obj: widget.dict.clone().set('AP', dict({ N: apRef })) });
  objects.push({ ref: field.ref, obj: fieldDict });
  // SignaturesExist | AppendOnly (§12.7.2 table 219): viewers must keep to incremental saves.
  if (acroForm.get('SigFlags') !== 3) {
    const newForm = acroForm.clone().set('SigFlags', 3);
    if (form.acroFormRef) objects.push({ ref: form.acroFormRef, obj: newForm });
    else objects.push({ ref: form.catalogRef, obj: form.catalog.clone().set('AcroForm', newForm) });
  }
  const update = writeIncrementalUpdate(file, objects, numbers, { id: nextFileId(file, previousSha256) });
  const bytes = update.bytes;

  // Find the placeholders inside the written signature dictionary and fill in the byte range.
  const sigStart = update.offsets.get(sigRef.num)!;
  const text = bytes.subarray(sigStart, sigStart + 200 + capacity * 2).toString('latin1');
  const brAt = sigStart + text.indexOf(BYTE_RANGE_PLACEHOLDER);
  const contentsAt = sigStart + text.indexOf('/Contents <') + '/Contents '.length;
  const contentsEnd = contentsAt + capacity * 2 + 2;
  const byteRange: [number, number, number, number] = [
    0,
    contentsAt,
    contentsEnd,
    bytes.length - contentsEnd,
  ];
  const brText = `/ByteRange [${byteRange.join(' ')}]`.padEnd(BYTE_RANGE_PLACEHOLDER.length, ' ');
  if (brText.length > BYTE_RANGE_PLACEHOLDER.length)
    throw new AppError('signing_failed', 'The document is too large to sign');
  bytes.write(brText, brAt, 'latin1');

  const digest = createHash('sha256')
    .update(bytes.subarray(0, contentsAt))
    .update(bytes.subarray(contentsEnd))
    .digest();
  const cms = await createCmsSignature(key, digest);
  let token: Uint8Array;
  try {
    token = await deps.timestamper.timestamp(cms.signatureValue);
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('timestamp_failed', 'The time-stamping service failed', { cause });
  }
  const timestampTime = genTimeOf(token);
  // The certificate is validated at the timestamp's time: a TSA whose clock disagrees with ours (or a
  // signing time far from now) would make a signature no validator accepts.
  const { notBefore, notAfter } = der.certificateParts(key.certificate);
  if (!timestampTime || timestampTime < notBefore || timestampTime > notAfter)
    throw new AppError(
      'timestamp_failed',
      "The timestamp's time is outside the signer certificate's validity (clocks differ)",
    );
  const cmsDer = cms.encode(token);
  if (cmsDer.length > capacity) return cmsDer.length;
  bytes.write(cmsDer.toString('hex'), contentsAt + 1, 'latin1');
  return { bytes, byteRange, token, timestampTime };
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

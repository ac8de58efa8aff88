// One signature = one incremental update (ISO 32000-1 §7.5.6, §12.8) that fills a role's empty
// signature field: a signature dictionary (/V), a visible appearance for the widget, /SigFlags 3, and a
// CMS signature (cms.ts) over every byte of the file except the signature value itself. Earlier bytes
// are never touched, so earlier signatures stay valid; the file is never saved whole again.
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
import { ObjectNumbers, type UpdateObject, writeIncrementalUpdate } from './cos/writer.ts';
import * as der from './der.ts';
import { readForm } from './fields.ts';
import { OID } from './pki.ts';
import type { SignatureKey, SigningService, CertificateSubject } from './signing-service.ts';
import type { Trust } from './trust.ts';
import { parseTstInfo, requestTimestamp } from './tsa.ts';
import { verifyPdf } from './verify/index.ts';

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
  /** RFC 3161 time-stamping service; when set, signatures are PAdES B-T. */
  tsaUrl?: string;
  /** Anchors for the TSA's certificate; when set, an untrusted timestamp is refused. */
  tsaTrust?: Trust;
  tsaTimeoutMs?: number;
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
  level: 'PAdES-B-B' | 'PAdES-B-T';
  timestampTime?: Date;
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

/** Room for the CMS: certificates + signed attributes + signature, and a timestamp token if asked. */
function contentsCapacity(key: SignatureKey, withTimestamp: boolean, extra = 0): number {
  const certs = key.certificate.length + key.chain.reduce((n, c) => n + c.length, 0);
  const estimate = certs + 1024 + (withTimestamp ? 8192 : 0) + extra;
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

  let result = await writeSignedUpdate(update, key, contentsCapacity(key, !!deps.tsaUrl));
  if (typeof result === 'number') {
    // Only a timestamp token larger than expected gets here; the key signs once, so ask for a new one.
    key = await issueKey();
    result = await writeSignedUpdate(update, key, contentsCapacity(key, false, result + 2048));
    if (typeof result === 'number')
      throw new AppError('signing_failed', 'The signature does not fit its placeholder');
  }
  return {
    bytes: new Uint8Array(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength),
    sha256: sha256Hex(result.bytes),
    signature: {
      role: input.role,
      field: target.field.name,
      signerName,
      signedAt: input.signedAt,
      revision: target.file.revisions.length,
      byteRange: result.byteRange,
      certificate: certificateSummary(key.certificate),
      level: result.timestampTime ? 'PAdES-B-T' : 'PAdES-B-B',
      ...(result.timestampTime ? { timestampTime: result.timestampTime } : {}),
    },
  };
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
  const report = await verifyPdf(
    input.pdf,
    { trust: deps.trust, tsaTrust: deps.tsaTrust, now: input.signedAt },
    file,
  );
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
): Promise<{ bytes: Buffer; byteRange: [number, number, number, number]; timestampTime?: Date } | number> {
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
  const update = writeIncrementalUpdate(file, objects, numbers, { id: fileId(file, previousSha256) });
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
  let token: Uint8Array | undefined;
  if (deps.tsaUrl)
    token = await requestTimestamp(deps.tsaUrl, cms.signatureValue, {
      timeoutMs: deps.tsaTimeoutMs,
      trust: deps.tsaTrust,
    });
  const cmsDer = cms.encode(token);
  const timestampTime = token ? parseTstInfoOfToken(token) : undefined;
  if (cmsDer.length > capacity) return cmsDer.length;
  bytes.write(cmsDer.toString('hex'), contentsAt + 1, 'latin1');
  return { bytes, byteRange, timestampTime };
}

/** Trailer /ID (§14.4): the first element stays; the second changes with each update. */
function fileId(file: PdfFile, previousSha256: string): [PdfString, PdfString] {
  const id = file.trailer.get('ID');
  const first = Array.isArray(id) && id[0] instanceof PdfString ? id[0] : undefined;
  const second = new PdfString(Buffer.from(previousSha256.slice(0, 32), 'hex'), true);
  return [first ?? second, second];
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

function parseTstInfoOfToken(token: Uint8Array): Date | undefined {
  try {
    const sd = parseSignedData(token);
    return sd.eContent ? parseTstInfo(sd.eContent).genTime : undefined;
  } catch {
    return undefined;
  }
}

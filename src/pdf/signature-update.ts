// The PDF half of one signature (sign.ts), in two synchronous steps that need no key, no network and no
// I/O, so that the PDF workers (pdf-workers.ts) run them off the event loop (issue 14: twenty signatures
// at once must not hold the event loop that answers status checks):
// - `prepareSignatureUpdate`: the incremental update that fills the role's empty signature field (its
//   signature dictionary with a zero /Contents of the given size, the visible appearance, /SigFlags 3),
//   with its /ByteRange filled in, and the SHA-256 the CMS signs;
// - `finishSignatureUpdate`: the CMS written into /Contents, and the second incremental update that adds
//   the signer's and the TSA's validation data to the DSS (PAdES B-LT), with the level it gives.
// Between the two, sign.ts has the key sign and the TSA time-stamp (the key and the TSA client live in the
// main thread). Earlier bytes are never touched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { buildAppearance, signatureFonts } from './appearance.ts';
import { PdfFile } from './cos/document.ts';
import { dict, PdfRaw, PdfString, serialize } from './cos/objects.ts';
import { nextFileId, ObjectNumbers, type UpdateObject, writeIncrementalUpdate } from './cos/writer.ts';
import { appendToDss } from './dss.ts';
import { readForm } from './fields.ts';
import {
  mergeValidationData,
  parseValidationData,
  revocationStatus,
  type ValidationData,
} from './validation-data.ts';

/** What the first step needs: plain data, which survives the structured clone to a worker. */
export interface PrepareUpdateTask {
  /** The document as the service stored it (its latest revision). */
  pdf: Uint8Array;
  /** SHA-256 (hex) the service stored for that revision: the bytes must be exactly those. */
  expectedSha256: string;
  role: SignerRole;
  /** As shown in the appearance and /Name (NFC, single spaces). */
  signerName: string;
  place: string;
  signedAt: Date;
  /** Bytes of room for the CMS in /Contents. */
  capacity: number;
}

export interface PreparedUpdate {
  /** The document with the update, /Contents still zero. */
  bytes: Uint8Array;
  byteRange: [number, number, number, number];
  /** Offset of the '<' that opens /Contents. */
  contentsAt: number;
  /** SHA-256 of the bytes the byte range covers: what the CMS signs. */
  digest: Uint8Array;
}

/** What the second step needs. */
export interface FinishUpdateTask {
  /** The prepared update's bytes. */
  bytes: Uint8Array;
  contentsAt: number;
  /** The CMS SignedData, DER, at most the capacity the update was prepared with. */
  cms: Uint8Array;
  /** The signing service's validation data for the signer certificate, as of `at`. */
  signer: ValidationData;
  /** The TSA's validation data for its token, as of `at`. */
  tsa: ValidationData;
  /** The signer certificate and its chain up to the root, DER: their status decides the level. */
  signerChain: readonly Uint8Array[];
  /** The signature timestamp's time. */
  at: Date;
}

export interface FinishedUpdate {
  bytes: Uint8Array;
  sha256: string;
  /** B-LT when the DSS got revocation data for every certificate below the roots, else B-T. */
  level: 'PAdES-B-T' | 'PAdES-B-LT';
  /** Index of the revision that adds the validation data (the one after the signature's). */
  validationRevision: number;
}

/** Where the two steps run (pdf-workers.ts `PdfWorkerPool` is one; sign.ts's default is this thread). */
export interface SignaturePdfWork {
  prepareSignature(task: PrepareUpdateTask): Promise<PreparedUpdate>;
  finishSignature(task: FinishUpdateTask): Promise<FinishedUpdate>;
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
function signatureDictionary(task: PrepareUpdateTask): PdfRaw {
  const entries = [
    '/Type /Sig',
    '/Filter /Adobe.PPKLite',
    '/SubFilter /ETSI.CAdES.detached',
    BYTE_RANGE_PLACEHOLDER,
    `/Contents <${'0'.repeat(task.capacity * 2)}>`,
    `/M ${serialize(PdfString.text(pdfDate(task.signedAt)))}`,
    `/Name ${serialize(PdfString.text(task.signerName))}`,
    `/Reason ${serialize(PdfString.text(ROLE_REASON[task.role]))}`,
    `/Location ${serialize(PdfString.text(task.place.normalize('NFC').trim()))}`,
  ];
  return new PdfRaw(Buffer.from(`<<${entries.join(' ')}>>`, 'latin1'));
}

/** The document's SHA-256 (hex) when it is `expected`; refuses other bytes. */
export function refuseIfMismatch(pdf: Uint8Array, expected: string): string {
  const actual = sha256Hex(pdf);
  const a = Buffer.from(actual, 'hex');
  const e = Buffer.from(expected.toLowerCase(), 'hex');
  if (e.length !== a.length || !timingSafeEqual(a, e))
    throw new AppError('document_mismatch', 'The document is not the latest version the service stored');
  return actual;
}

type Form = ReturnType<typeof readForm>;
type SignatureField = Form['signatureFields'][number];

/** The document and the role's empty signature field with its widget. */
export interface SigningTarget {
  file: PdfFile;
  form: Form;
  acroForm: NonNullable<Form['acroForm']>;
  field: SignatureField;
  widget: SignatureField['widgets'][number];
}

/** Reads the form and finds the role's field: refuses what cannot be signed. */
export function openForSigning(pdf: Uint8Array, role: SignerRole): SigningTarget {
  let file: PdfFile;
  let form: Form;
  try {
    file = PdfFile.parse(pdf);
    form = readForm(file);
  } catch (cause) {
    throw new AppError('signing_failed', 'The document could not be read as a PDF form', { cause });
  }
  if (file.trailer.has('Encrypt'))
    throw new AppError('signing_failed', 'Encrypted documents cannot be signed');
  const acroForm = form.acroForm;
  if (!acroForm) throw new AppError('role_not_in_document', 'The document has no signature fields');
  const field = form.signatureFields.find((f) => f.name === role);
  if (!field) throw new AppError('role_not_in_document', `The document has no signature field for ${role}`);
  if (field.value)
    throw new AppError('role_already_signed', `The ${role} signature is already in the document`);
  const widget = field.widgets[0];
  if (!widget) throw new AppError('signing_failed', `The ${role} field has no widget`);
  return { file, form, acroForm, field, widget };
}

function widgetSize(widget: SigningTarget['widget'], role: SignerRole): { width: number; height: number } {
  const rect = widget.dict.get('Rect');
  if (!Array.isArray(rect) || rect.length !== 4 || !rect.every((n) => typeof n === 'number'))
    throw new AppError('signing_failed', `The ${role} widget has no rectangle`);
  const [x1, y1, x2, y2] = rect as number[];
  return { width: Math.abs(x2! - x1!), height: Math.abs(y2! - y1!) };
}

/** Step one: the update with room for the CMS, and the digest the CMS signs. */
export function prepareSignatureUpdate(task: PrepareUpdateTask): PreparedUpdate {
  const previousSha256 = refuseIfMismatch(task.pdf, task.expectedSha256);
  const { file, form, acroForm, field, widget } = openForSigning(task.pdf, task.role);
  const { width, height } = widgetSize(widget, task.role);
  const appearance = buildAppearance(signatureFonts(file, acroForm), width, height, {
    signerName: task.signerName,
    place: task.place,
    signedAt: task.signedAt,
  });
  const numbers = new ObjectNumbers(file);
  const sigRef = numbers.allocate();
  const apRef = numbers.allocate();
  const objects: UpdateObject[] = [
    { ref: sigRef, obj: signatureDictionary(task) },
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
  const text = bytes.subarray(sigStart, sigStart + 200 + task.capacity * 2).toString('latin1');
  const brAt = sigStart + text.indexOf(BYTE_RANGE_PLACEHOLDER);
  const contentsAt = sigStart + text.indexOf('/Contents <') + '/Contents '.length;
  const contentsEnd = contentsAt + task.capacity * 2 + 2;
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
  return { bytes, byteRange, contentsAt, digest };
}

/** The end of time, for "every piece of evidence counts" (it is all being made now). */
const ANY_TIME = new Date(8.64e15);

/**
 * Step two: the CMS into /Contents, then the validation data into the DSS. A revoked certificate of the
 * signature or its timestamp stops the signature; the level is B-LT when the data tells the status of
 * every certificate below the roots.
 */
export function finishSignatureUpdate(task: FinishUpdateTask): FinishedUpdate {
  const data = mergeValidationData(task.signer, task.tsa);
  const parsed = parseValidationData(data);
  const statuses = [
    ...revocationStatus(task.signerChain, parsed, task.at, ANY_TIME),
    ...revocationStatus(task.tsa.certificates, parsed, task.at, ANY_TIME),
  ];
  if (statuses.some((s) => s.status === 'revoked'))
    throw new AppError('signing_failed', 'A certificate of the signature or its timestamp is revoked');
  const complete = task.tsa.certificates.length > 0 && statuses.every((s) => s.status === 'good');

  // A copy: the prepared bytes stay as they were (in this thread they are the caller's own).
  const signedBytes = Buffer.from(task.bytes);
  const room = (signedBytes.indexOf('>', task.contentsAt) - task.contentsAt - 1) / 2;
  if (signedBytes[task.contentsAt] !== 0x3c || task.cms.length > room)
    throw new AppError('signing_failed', 'The signature does not fit its placeholder');
  signedBytes.write(Buffer.from(task.cms).toString('hex'), task.contentsAt + 1, 'latin1');
  const signed = PdfFile.parse(signedBytes);
  const bytes = appendToDss(signed, data, { id: nextFileId(signed, sha256Hex(signedBytes)) });
  return {
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    sha256: sha256Hex(bytes),
    level: complete ? 'PAdES-B-LT' : 'PAdES-B-T',
    validationRevision: signed.revisions.length,
  };
}

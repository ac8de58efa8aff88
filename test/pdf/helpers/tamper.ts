// Ways to break a signed PDF, for the tests that check both validators notice.

import { PdfFile } from '../../../src/pdf/cos/document.ts';
import { dict, name, PdfStream, type PdfString } from '../../../src/pdf/cos/objects.ts';
import { ObjectNumbers, writeIncrementalUpdate } from '../../../src/pdf/cos/writer.ts';
import * as der from '../../../src/pdf/der.ts';
import { readForm } from '../../../src/pdf/fields.ts';

/** The /Contents hole of a field's signature: offsets of the hex digits and the CMS bytes. */
export function signatureHole(
  bytes: Uint8Array,
  field: string,
): { start: number; end: number; cms: Uint8Array } {
  const file = PdfFile.parse(bytes);
  const f = readForm(file).signatureFields.find((x) => x.name === field);
  const sig = f?.value && file.resolveDict(f.value);
  if (!sig) throw new Error(`no signature in ${field}`);
  const [, a, b] = sig.get('ByteRange') as number[];
  const contents = sig.get('Contents') as PdfString;
  return { start: a! + 1, end: b! - 1, cms: contents.bytes };
}

/** Put another CMS into a field's /Contents hole (zero padded; it must fit). Every other byte stays. */
export function withCms(bytes: Uint8Array, field: string, cms: Uint8Array): Uint8Array {
  const hole = signatureHole(bytes, field);
  const hex = Buffer.from(cms).toString('hex');
  if (hex.length > hole.end - hole.start) throw new Error('the CMS does not fit');
  const out = Buffer.from(bytes);
  out.write(hex.padEnd(hole.end - hole.start, '0'), hole.start, 'latin1');
  return new Uint8Array(out);
}

/** The same ContentInfo/SignedData with its certificates replaced (everything else byte for byte). */
export function replaceCertificates(cms: Uint8Array, certificates: Uint8Array[]): Buffer {
  const ci = der.readTlv(cms, 0);
  const [type, explicit] = der.children(cms, ci);
  const sd = der.children(cms, explicit!)[0]!;
  const parts = der
    .children(cms, sd)
    .map((p) => (p.tag === 0xa0 ? der.ctx(0, ...certificates) : Buffer.from(der.rawOf(cms, p))));
  return der.seq(der.rawOf(cms, type!), der.ctx(0, der.seq(...parts)));
}

/** The certificates of a CMS, DER. */
export function certificatesOf(cms: Uint8Array): Uint8Array[] {
  const ci = der.readTlv(cms, 0);
  const [, explicit] = der.children(cms, ci);
  const sd = der.children(cms, explicit!)[0]!;
  const certs = der.children(cms, sd).find((p) => p.tag === 0xa0)!;
  return der.children(cms, certs).map((c) => der.rawOf(cms, c));
}

/**
 * An incremental update that draws an appearance on an empty signature field without signing it:
 * a "signature" that only looks like one.
 */
export function fakeAppearance(bytes: Uint8Array, field: string): Uint8Array {
  const file = PdfFile.parse(bytes);
  const f = readForm(file).signatureFields.find((x) => x.name === field);
  if (!f || f.value) throw new Error(`${field} is not an empty signature field`);
  const numbers = new ObjectNumbers(file);
  const ap = numbers.allocate();
  const stream = new PdfStream(
    dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 240, 60] }),
    Buffer.from('0 0 1 rg 10 10 100 20 re f', 'latin1'),
  );
  const widget = f.dict.clone().set('AP', dict({ N: ap }));
  return new Uint8Array(
    writeIncrementalUpdate(
      file,
      [
        { ref: ap, obj: stream },
        { ref: f.ref, obj: widget },
      ],
      numbers,
    ).bytes,
  );
}

/** An incremental update that empties /AcroForm /Fields: signatures stripped from the form. */
export function stripFields(bytes: Uint8Array): Uint8Array {
  const file = PdfFile.parse(bytes);
  const form = readForm(file);
  if (!form.acroForm || !form.acroFormRef) throw new Error('expected an indirect AcroForm');
  const numbers = new ObjectNumbers(file);
  return new Uint8Array(
    writeIncrementalUpdate(
      file,
      [{ ref: form.acroFormRef, obj: form.acroForm.clone().set('Fields', []) }],
      numbers,
    ).bytes,
  );
}

/** An incremental update that points a signed field's /V at another field's signature. */
export function repointSignature(bytes: Uint8Array, field: string, toField: string): Uint8Array {
  const file = PdfFile.parse(bytes);
  const fields = readForm(file).signatureFields;
  const f = fields.find((x) => x.name === field);
  const to = fields.find((x) => x.name === toField);
  if (!f?.value || !to?.value) throw new Error('both fields must be signed');
  const numbers = new ObjectNumbers(file);
  return new Uint8Array(
    writeIncrementalUpdate(file, [{ ref: f.ref, obj: f.dict.clone().set('V', to.value) }], numbers).bytes,
  );
}

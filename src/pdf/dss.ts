// The document security store (DSS, ETSI EN 319 142-1 §5.4.2; ISO 32000-2 §12.8.4.3): a dictionary in the
// catalog with arrays of streams holding certificates (/Certs), OCSP responses (/OCSPs) and CRLs (/CRLs),
// the validation data that lets a signature be validated long after its certificates expired (PAdES
// B-LT). It is added in an incremental update after each signature: what it holds is only added to, and a
// verifier allows exactly that after a signature (verify/changes.ts). No VRI entries: they are optional
// and validators use the DSS as one pool.
import type { PdfFile } from './cos/document.ts';
import { dict, name, PdfDict, type PdfObject, PdfRef, PdfStream } from './cos/objects.ts';
import {
  ObjectNumbers,
  type UpdateObject,
  type UpdateOptions,
  writeIncrementalUpdate,
} from './cos/writer.ts';
import { NO_VALIDATION_DATA, type ValidationData } from './validation-data.ts';

const KINDS = [
  ['Certs', 'certificates'],
  ['OCSPs', 'ocsps'],
  ['CRLs', 'crls'],
] as const;

/** The references in one of the DSS's arrays (direct or indirect). */
function arrayRefs(file: PdfFile, dss: PdfDict, key: string, rev?: number): PdfRef[] {
  const a = file.resolve(dss.get(key), rev);
  return Array.isArray(a) ? a.filter((r): r is PdfRef => r instanceof PdfRef) : [];
}

/** The catalog's DSS as of revision `rev` (default: newest), with its reference when indirect. */
function dssOf(file: PdfFile, rev?: number): { dict: PdfDict; ref: PdfRef | undefined } | undefined {
  const trailer = rev === undefined ? file.trailer : file.revisions[rev]!.trailer;
  const catalog = file.resolveDict(trailer.get('Root'), rev);
  const entry = catalog?.get('DSS');
  const d = file.resolveDict(entry, rev);
  return d ? { dict: d, ref: entry instanceof PdfRef ? entry : undefined } : undefined;
}

/** What the document's DSS holds (newest revision); nothing when it has none. Unreadable entries are skipped. */
export function readDss(file: PdfFile): ValidationData & { present: boolean } {
  const dss = dssOf(file);
  if (!dss) return { ...NO_VALIDATION_DATA, present: false };
  const read = (key: string): Uint8Array[] =>
    arrayRefs(file, dss.dict, key).flatMap((ref) => {
      try {
        const s = file.getObject(ref.num);
        return s instanceof PdfStream ? [new Uint8Array(file.decodeStream(s))] : [];
      } catch {
        return [];
      }
    });
  return { certificates: read('Certs'), ocsps: read('OCSPs'), crls: read('CRLs'), present: true };
}

/**
 * Append an incremental update that adds `data` to the document's DSS (creating it if need be): one
 * stream per item not already there. The catalog is written again only when the DSS is new.
 */
export function appendToDss(file: PdfFile, data: ValidationData, options: UpdateOptions = {}): Buffer {
  const numbers = new ObjectNumbers(file);
  const objects: UpdateObject[] = [];
  const existing = dssOf(file);
  const have = readDss(file);
  const dss = existing ? existing.dict.clone() : dict({ Type: name('DSS') });
  for (const [key, field] of KINDS) {
    const known = new Set(have[field].map((b) => Buffer.from(b).toString('base64')));
    const refs: PdfObject[] = existing ? arrayRefs(file, existing.dict, key) : [];
    for (const item of data[field]) {
      const id = Buffer.from(item).toString('base64');
      if (known.has(id)) continue;
      known.add(id);
      const ref = numbers.allocate();
      objects.push({ ref, obj: new PdfStream(new PdfDict(), item) });
      refs.push(ref);
    }
    if (refs.length) dss.set(key, refs);
  }
  if (existing?.ref) objects.push({ ref: existing.ref, obj: dss });
  else {
    const ref = numbers.allocate();
    objects.push({ ref, obj: dss });
    const rootRef = file.trailer.get('Root');
    const catalog = file.resolveDict(rootRef);
    if (!(rootRef instanceof PdfRef) || !catalog) throw new Error('the document has no catalog');
    objects.push({ ref: rootRef, obj: catalog.clone().set('DSS', ref) });
  }
  return writeIncrementalUpdate(file, objects, numbers, options).bytes;
}

// Finding the form's signature fields (ISO 32000-1 §12.7.3 field tree, §12.7.4.5 signature fields) in
// a given revision: shared by signing (which field to fill) and verification (which signatures exist).
import type { PdfFile } from './cos/document.ts';
import { type PdfDict, PdfRef, PdfString } from './cos/objects.ts';

export interface SignatureWidget {
  ref: PdfRef;
  dict: PdfDict;
}

export interface SignatureField {
  /** Fully qualified field name (§12.7.3.2): partial names joined with '.'. */
  name: string;
  ref: PdfRef;
  dict: PdfDict;
  /** The field's widget annotations; for a merged field/widget (our forms) the field itself. */
  widgets: SignatureWidget[];
  /** /V: the signature dictionary, when signed. */
  value: PdfRef | undefined;
}

export interface FormInfo {
  catalogRef: PdfRef;
  catalog: PdfDict;
  /** The AcroForm dictionary and, when it is an indirect object, its reference. */
  acroForm: PdfDict | undefined;
  acroFormRef: PdfRef | undefined;
  signatureFields: SignatureField[];
}

const MAX_FIELDS = 10_000;

/** The catalog, AcroForm and every signature field as of revision `rev` (default: newest). */
export function readForm(file: PdfFile, rev?: number): FormInfo {
  const trailer = rev === undefined ? file.trailer : file.revisions[rev]!.trailer;
  const catalogRef = trailer.get('Root');
  if (!(catalogRef instanceof PdfRef)) throw new Error('the trailer has no /Root reference');
  const catalog = file.resolveDict(catalogRef, rev);
  if (!catalog) throw new Error('the document catalog is missing');
  const acroFormObj = catalog.get('AcroForm');
  const acroFormRef = acroFormObj instanceof PdfRef ? acroFormObj : undefined;
  const acroForm = file.resolveDict(acroFormObj, rev);
  const signatureFields: SignatureField[] = [];
  const fields = file.resolve(acroForm?.get('Fields'), rev);
  const seen = new Set<number>();

  const walk = (ref: PdfRef, parentName: string, inheritedFT: string | undefined): void => {
    if (seen.has(ref.num) || seen.size > MAX_FIELDS) return;
    seen.add(ref.num);
    const d = file.resolveDict(ref, rev);
    if (!d) return;
    const t = d.get('T');
    const partial = t instanceof PdfString ? t.toText() : undefined;
    const fullName = partial === undefined ? parentName : parentName ? `${parentName}.${partial}` : partial;
    const ft = d.name('FT') ?? inheritedFT;
    const kids = file.resolve(d.get('Kids'), rev);
    const kidRefs = Array.isArray(kids) ? kids.filter((k): k is PdfRef => k instanceof PdfRef) : [];
    // Kids that have a /T are fields; kids without are this field's widgets (§12.7.3.1).
    const kidFields = kidRefs.filter((k) => file.resolveDict(k, rev)?.has('T'));
    for (const k of kidFields) walk(k, fullName, ft);
    if (ft !== 'Sig' || partial === undefined) return;
    const widgets: SignatureWidget[] = [];
    if (d.name('Subtype') === 'Widget') widgets.push({ ref, dict: d });
    for (const k of kidRefs) {
      if (kidFields.includes(k)) continue;
      const w = file.resolveDict(k, rev);
      if (w) widgets.push({ ref: k, dict: w });
    }
    const v = d.get('V');
    signatureFields.push({
      name: fullName,
      ref,
      dict: d,
      widgets,
      value: v instanceof PdfRef ? v : undefined,
    });
  };
  if (Array.isArray(fields)) for (const f of fields) if (f instanceof PdfRef) walk(f, '', undefined);
  return { catalogRef, catalog, acroForm, acroFormRef, signatureFields };
}

// What a revision changed, and whether that is allowed after a signature. A signature covers its own
// revision; later revisions are not covered, so each of their objects is compared with the version
// before it. Allowed, as for form filling and signing (ISO 32000-1 §12.8.2.2.2 DocMDP P=2 and the
// incremental-update practice of ETSI EN 319 142-1 §5.4 and the DSS of §5.4.2): filling an empty
// signature field (/V and its widget's appearance), new signature dictionaries and appearance streams,
// /AcroForm /SigFlags and new signature fields, and the document security store for long-term
// validation. Anything else — page content, resources, annotations, other fields, metadata — is a
// forbidden change.
import type { PdfFile } from '../cos/document.ts';
import { deepEqual, PdfDict, type PdfObject, PdfRef, PdfStream, PdfString } from '../cos/objects.ts';

export interface Change {
  /** Revision index (0 = the original document). */
  revision: number;
  object: number;
  kind: 'added' | 'changed' | 'deleted';
  /** What the object is, in words: "page", "signature field guardian1", "content stream"… */
  what: string;
  allowed: boolean;
}

const dictOf = (o: PdfObject): PdfDict | undefined =>
  o instanceof PdfDict ? o : o instanceof PdfStream ? o.dict : undefined;

/** Keys whose values differ between two dictionaries. */
function changedKeys(a: PdfDict, b: PdfDict): string[] {
  const keys = new Set([...a.map.keys(), ...b.map.keys()]);
  return [...keys].filter((k) => !deepEqual(a.get(k), b.get(k)));
}

function describe(file: PdfFile, num: number, obj: PdfObject, rev: number): string {
  const d = dictOf(obj);
  if (!d) return 'object';
  const type = d.name('Type');
  const ft = d.name('FT');
  if (ft === 'Sig' || d.has('T')) return `field ${fieldName(d)}`;
  if (type === 'Page') return 'page';
  if (type === 'Catalog' || num === refNum(file.revisions[rev]?.trailer.get('Root')))
    return 'document catalog';
  if (type === 'Annot' || d.name('Subtype') === 'Widget')
    return `${d.name('Subtype') ?? ''} annotation`.trim();
  if (type === 'Sig') return 'signature dictionary';
  if (type === 'DSS') return 'document security store (DSS)';
  if (type === 'XObject') return `${d.name('Subtype') ?? ''} XObject`.trim();
  if (type === 'Font' || type === 'FontDescriptor') return 'font';
  if (type === 'Metadata') return 'metadata';
  if (d.has('Fields')) return 'AcroForm';
  if (obj instanceof PdfStream) return 'stream (page content or data)';
  return type ? `${type} object` : 'object';
}

const refNum = (o: PdfObject | undefined): number | undefined => (o instanceof PdfRef ? o.num : undefined);

function fieldName(d: PdfDict): string {
  const t = d.get('T');
  return t instanceof PdfString ? t.toText() : '(unnamed)';
}

/** References reachable from `start` (through dictionaries, arrays and stream dictionaries), bounded. */
function reachable(file: PdfFile, start: PdfObject | undefined, rev: number, limit = 500): Set<number> {
  const out = new Set<number>();
  const stack: PdfObject[] = start === undefined ? [] : [start];
  while (stack.length && out.size < limit) {
    const o = stack.pop()!;
    if (o instanceof PdfRef) {
      if (out.has(o.num)) continue;
      out.add(o.num);
      stack.push(file.getObject(o.num, rev));
    } else if (Array.isArray(o)) stack.push(...o);
    else if (o instanceof PdfDict) stack.push(...o.map.values());
    else if (o instanceof PdfStream) stack.push(...o.dict.map.values());
  }
  return out;
}

const isSigField = (d: PdfDict | undefined): boolean => d?.name('FT') === 'Sig';

/**
 * A changed signature field or widget: only an empty field being signed — it gets /V and its widget
 * the appearance, in the same revision. Changing a signed field, or drawing an appearance on a field
 * nobody signs, is not allowed.
 */
function signatureFieldChange(file: PdfFile, before: PdfDict, after: PdfDict, rev: number): boolean {
  if (isSigField(before)) {
    if (before.has('V') || !after.has('V')) return false;
    return changedKeys(before, after).every((k) => k === 'V' || k === 'AP');
  }
  if (before.name('Subtype') !== 'Widget') return false;
  const parentBefore = file.resolveDict(before.get('Parent'), rev - 1);
  const parentAfter = file.resolveDict(after.get('Parent'), rev);
  if (!isSigField(parentBefore) || parentBefore?.has('V') || !parentAfter?.has('V')) return false;
  return changedKeys(before, after).every((k) => k === 'AP');
}

/** The AcroForm may gain SigFlags and new signature fields; nothing else. */
function acroFormChange(file: PdfFile, before: PdfDict, after: PdfDict, rev: number): boolean {
  for (const k of changedKeys(before, after)) {
    if (k === 'SigFlags') continue;
    if (k !== 'Fields') return false;
    const oldFields = file.resolve(before.get('Fields'), rev - 1);
    const newFields = file.resolve(after.get('Fields'), rev);
    if (!Array.isArray(oldFields) || !Array.isArray(newFields)) return false;
    if (!oldFields.every((f, i) => deepEqual(f, newFields[i]))) return false;
    if (!newFields.slice(oldFields.length).every((f) => isSigField(file.resolveDict(f, rev)))) return false;
  }
  return true;
}

function catalogChange(file: PdfFile, before: PdfDict, after: PdfDict, rev: number): boolean {
  for (const k of changedKeys(before, after)) {
    if (k === 'DSS') continue;
    if (k !== 'AcroForm') return false;
    const a = before.get('AcroForm');
    const b = after.get('AcroForm');
    // An inline AcroForm changed in place; an indirect one is judged as its own object.
    if (a instanceof PdfDict && b instanceof PdfDict) {
      if (!acroFormChange(file, a, b, rev)) return false;
    } else if (!(a === undefined && b instanceof PdfRef)) return false;
  }
  return true;
}

/** A page may only gain widget annotations of new signature fields. */
function pageChange(file: PdfFile, before: PdfDict, after: PdfDict, rev: number): boolean {
  for (const k of changedKeys(before, after)) {
    if (k !== 'Annots') return false;
    const oldAnnots = file.resolve(before.get('Annots'), rev - 1);
    const newAnnots = file.resolve(after.get('Annots'), rev);
    const olds = Array.isArray(oldAnnots) ? oldAnnots : [];
    if (!Array.isArray(newAnnots) || !olds.every((a, i) => deepEqual(a, newAnnots[i]))) return false;
    for (const a of newAnnots.slice(olds.length)) {
      const d = file.resolveDict(a, rev);
      if (
        d?.name('Subtype') !== 'Widget' ||
        !(isSigField(d) || isSigField(file.resolveDict(d.get('Parent'), rev)))
      )
        return false;
    }
  }
  return true;
}

/** What a DSS may hold (ETSI EN 319 142-1 §5.4.2): validation data, nothing a viewer shows. */
const DSS_KEYS = new Set(['Type', 'Certs', 'OCSPs', 'CRLs', 'VRI']);
const isDssDict = (d: PdfDict): boolean =>
  [...d.map.keys()].every((k) => DSS_KEYS.has(k)) && (d.name('Type') ?? 'DSS') === 'DSS';

/**
 * The DSS changed in place (it was the catalog's DSS before and is after): allowed when it holds only
 * validation data then and now. Its arrays written as objects of their own may be changed when they stay
 * arrays of references; what they newly reference must be new objects (judged as added).
 */
function dssChange(file: PdfFile, num: number, before: PdfObject, after: PdfObject, rev: number): boolean {
  const dssRef = (r: number) => file.resolveDict(file.revisions[r]?.trailer.get('Root'), r)?.get('DSS');
  const refBefore = dssRef(rev - 1);
  const refAfter = dssRef(rev);
  if (refNum(refBefore) === num && refNum(refAfter) === num)
    return before instanceof PdfDict && after instanceof PdfDict && isDssDict(before) && isDssDict(after);
  // One of its arrays, referenced by the DSS before and after under the same key.
  const dssBefore = file.resolveDict(refBefore, rev - 1);
  const dssAfter = file.resolveDict(refAfter, rev);
  if (!dssBefore || !dssAfter || !Array.isArray(before) || !Array.isArray(after)) return false;
  return ['Certs', 'OCSPs', 'CRLs'].some(
    (k) =>
      refNum(dssBefore.get(k)) === num &&
      refNum(dssAfter.get(k)) === num &&
      after.every((r) => r instanceof PdfRef),
  );
}

/** Every object revision `rev` adds, changes or frees, judged against the revision before it. */
export function revisionChanges(file: PdfFile, rev: number): Change[] {
  const revision = file.revisions[rev]!;
  const changes: Change[] = [];
  const rootNum = refNum(revision.trailer.get('Root'));
  const catalogAfter = file.resolveDict(revision.trailer.get('Root'), rev);
  const acroFormNum = refNum(catalogAfter?.get('AcroForm'));

  // New objects are allowed when something allowed in this revision uses them: appearance streams of
  // signature widgets, signature dictionaries, the DSS and what it holds.
  const allowedNew = new Set<number>();
  const changedSig: number[] = [];
  for (const [num] of revision.entries) {
    const after = dictOf(file.getObject(num, rev));
    if (after && (isSigField(after) || after.name('Subtype') === 'Widget')) changedSig.push(num);
  }
  for (const num of changedSig) {
    const d = dictOf(file.getObject(num, rev))!;
    for (const n of reachable(file, d.get('AP'), rev)) allowedNew.add(n);
    for (const n of reachable(file, d.get('V'), rev)) allowedNew.add(n);
  }
  const dssEntries = reachable(file, catalogAfter?.get('DSS'), rev);
  for (const n of dssEntries) allowedNew.add(n);

  for (const [num, entry] of revision.entries) {
    if (num === 0) continue;
    const beforeObj = file.getObject(num, rev - 1);
    const previous = file.entryAt(num, rev - 1)?.entry;
    const existed = previous !== undefined && previous.type !== 0;
    if (entry.type === 0) {
      if (existed)
        changes.push({
          revision: rev,
          object: num,
          kind: 'deleted',
          what: describe(file, num, beforeObj, rev - 1),
          allowed: false,
        });
      continue;
    }
    const afterObj = file.getObject(num, rev);
    const after = dictOf(afterObj);
    const type = after?.name('Type');
    if (!existed) {
      // Bookkeeping of the update itself.
      if (type === 'XRef' || type === 'ObjStm') continue;
      const allowed = allowedNew.has(num) || type === 'Sig';
      changes.push({
        revision: rev,
        object: num,
        kind: 'added',
        what:
          dssEntries.has(num) && !(after?.name('Type') === 'DSS')
            ? 'validation data in the DSS'
            : describe(file, num, afterObj, rev),
        allowed,
      });
      continue;
    }
    if (deepEqual(beforeObj, afterObj)) continue; // written again unchanged
    const before = dictOf(beforeObj);
    let allowed = false;
    if (dssChange(file, num, beforeObj, afterObj, rev)) allowed = true;
    else if (before && after && !(afterObj instanceof PdfStream)) {
      if (num === rootNum) allowed = catalogChange(file, before, after, rev);
      else if (num === acroFormNum) allowed = acroFormChange(file, before, after, rev);
      else if (before.name('Type') === 'Page') allowed = pageChange(file, before, after, rev);
      else allowed = signatureFieldChange(file, before, after, rev);
    }
    changes.push({
      revision: rev,
      object: num,
      kind: 'changed',
      what: describe(file, num, beforeObj, rev - 1),
      allowed,
    });
  }
  return changes;
}

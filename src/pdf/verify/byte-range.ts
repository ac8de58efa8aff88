// What a signature's /ByteRange covers (ISO 32000-1 §12.8.1): well formed around exactly its own
// /Contents, ending where a revision ends, and how many revisions came after it.
import type { PdfFile } from '../cos/document.ts';
import { type PdfDict, PdfString } from '../cos/objects.ts';

export interface ByteRangeReport {
  range: number[];
  /** The range is [0, a] + [b, end] around exactly this signature's /Contents. */
  wellFormed: boolean;
  /** Index of the revision the range ends with (0 = original document), if it ends at one. */
  revision: number | undefined;
  /** The range covers that revision completely (it ends at the revision's %%EOF). */
  coversRevision: boolean;
  coversWholeFile: boolean;
  /** How many revisions were appended after the signed one. */
  laterRevisions: number;
}

/** The byte range of the signature dictionary `sig` (object `sigNum` in revision `sigRevision`). */
export function checkByteRange(
  file: PdfFile,
  sig: PdfDict,
  sigNum: number,
  sigRevision: number,
): { report: ByteRangeReport; contents?: Uint8Array; problems: string[] } {
  const problems: string[] = [];
  const br = sig.get('ByteRange');
  const range = Array.isArray(br) && br.every((n) => typeof n === 'number') ? (br as number[]) : [];
  const report: ByteRangeReport = {
    range,
    wellFormed: false,
    revision: undefined,
    coversRevision: false,
    coversWholeFile: false,
    laterRevisions: 0,
  };
  const bytes = file.bytes;
  const [a0, a1, b0, b1] = range;
  if (
    range.length !== 4 ||
    a0 !== 0 ||
    a1 === undefined ||
    b0 === undefined ||
    b1 === undefined ||
    b0 <= a1 ||
    b0 + b1 > bytes.length
  ) {
    problems.push('the byte range is malformed');
    return { report, problems };
  }
  // The gap must be exactly this dictionary's /Contents hex string, delimiters included.
  const contents = sig.get('Contents');
  const sigOffset = file.offsetOf(sigNum, sigRevision);
  const gap = Buffer.from(bytes.subarray(a1, b0)).toString('latin1');
  const gapMatches =
    contents instanceof PdfString &&
    /^<[0-9A-Fa-f\s]*>$/.test(gap) &&
    Buffer.from(gap.slice(1, -1).replace(/\s+/g, ''), 'hex').equals(contents.bytes) &&
    sigOffset !== undefined &&
    sigOffset < a1;
  if (!gapMatches) problems.push('the byte range does not exclude exactly the signature value');
  report.wellFormed = gapMatches;
  const end = b0 + b1;
  const rev = file.revisions.find((r) => r.end === end || r.endWithoutEol === end);
  if (rev) {
    report.revision = rev.index;
    report.coversRevision = true;
    report.laterRevisions = file.revisions.length - 1 - rev.index;
  } else problems.push('the byte range does not end where a revision ends');
  report.coversWholeFile = end === bytes.length || (report.laterRevisions === 0 && rev?.end === bytes.length);
  return { report, contents: contents instanceof PdfString ? contents.bytes : undefined, problems };
}

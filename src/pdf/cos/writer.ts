// Writing an incremental update (ISO 32000-1 §7.5.6): the new and changed objects, a cross-reference
// section for them alone and a trailer with /Prev, appended after the last byte of the file. No earlier
// byte changes, so every earlier signature keeps covering exactly what it signed.
//
// The new section has the same form as the previous one: a classic table after a table, a
// cross-reference stream (§7.5.8) after a stream. Readers that follow /Prev accept either, but keeping
// the form avoids relying on that in validators (qpdf, poppler, PDF/A checkers all accept both).
import type { PdfFile } from './document.ts';
import {
  dict,
  name,
  type PdfObject,
  PdfRef,
  PdfStream,
  PdfString,
  serialize,
  serializeIndirect,
} from './objects.ts';

export interface UpdateObject {
  ref: PdfRef;
  obj: PdfObject;
}

export interface IncrementalUpdate {
  /** The whole new file: the old bytes, untouched, followed by the update. */
  bytes: Buffer;
  /** Absolute offset of each written object, by object number. */
  offsets: Map<number, number>;
}

export interface UpdateOptions {
  /** File identifier (§14.4); the first element must stay the same across updates. */
  id?: [PdfString, PdfString];
}

/** Allocate object numbers for new objects after the file's current highest one. */
export class ObjectNumbers {
  private next: number;
  constructor(file: PdfFile) {
    this.next = Math.max(1, file.size);
  }
  allocate(): PdfRef {
    return new PdfRef(this.next++, 0);
  }
  get size(): number {
    return this.next;
  }
}

export function writeIncrementalUpdate(
  file: PdfFile,
  objects: UpdateObject[],
  numbers: ObjectNumbers,
  options: UpdateOptions = {},
): IncrementalUpdate {
  const old = file.bytes;
  const chunks: Buffer[] = [];
  let length = old.length;
  const push = (b: Buffer): void => {
    chunks.push(b);
    length += b.length;
  };
  // Start the update on a line of its own.
  const last = old[old.length - 1];
  if (last !== 0x0a && last !== 0x0d) push(Buffer.from('\n', 'latin1'));

  const offsets = new Map<number, number>();
  const gens = new Map<number, number>();
  for (const { ref, obj } of objects) {
    offsets.set(ref.num, length);
    gens.set(ref.num, ref.gen);
    push(serializeIndirect(ref, obj));
  }

  const prevTrailer = file.trailer;
  const prev = file.latest.xrefOffset;
  const trailerEntries = (size: number): Record<string, PdfObject | undefined> => ({
    Size: size,
    Root: prevTrailer.get('Root'),
    Info: prevTrailer.get('Info'),
    ID: options.id ?? prevTrailer.get('ID'),
    Prev: prev,
  });

  const xrefOffset = length;
  if (file.latest.kind === 'table') {
    const size = Math.max(numbers.size, file.size);
    push(
      Buffer.from(
        `xref\n${xrefTable(offsets, gens)}trailer\n${serialize(dict(trailerEntries(size)))}\n`,
        'latin1',
      ),
    );
  } else {
    const xrefRef = numbers.allocate();
    offsets.set(xrefRef.num, xrefOffset);
    gens.set(xrefRef.num, 0);
    const size = Math.max(numbers.size, file.size);
    const { index, data } = xrefStreamData(offsets, gens);
    const d = dict(trailerEntries(size));
    d.set('Type', name('XRef'));
    d.set('W', [1, 4, 2]);
    d.set('Index', index);
    push(serializeIndirect(xrefRef, new PdfStream(d, data)));
  }
  push(Buffer.from(`startxref\n${xrefOffset}\n%%EOF\n`, 'latin1'));
  return { bytes: Buffer.concat([old, ...chunks]), offsets };
}

/** Contiguous runs of object numbers, as (start, count) pairs. */
function runs(nums: number[]): Array<[number, number]> {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const n of sorted) {
    const run = out[out.length - 1];
    if (run && run[0] + run[1] === n) run[1]++;
    else out.push([n, 1]);
  }
  return out;
}

/** Classic cross-reference subsections (§7.5.4): 20-byte entries. */
function xrefTable(offsets: Map<number, number>, gens: Map<number, number>): string {
  let out = '';
  for (const [start, count] of runs([...offsets.keys()])) {
    out += `${start} ${count}\n`;
    for (let n = start; n < start + count; n++) {
      out += `${String(offsets.get(n)).padStart(10, '0')} ${String(gens.get(n) ?? 0).padStart(5, '0')} n\r\n`;
    }
  }
  return out;
}

/** Cross-reference stream rows (§7.5.8.3), /W [1 4 2], uncompressed: it is a few dozen bytes. */
function xrefStreamData(
  offsets: Map<number, number>,
  gens: Map<number, number>,
): { index: number[]; data: Buffer } {
  const index: number[] = [];
  const rows: Buffer[] = [];
  for (const [start, count] of runs([...offsets.keys()])) {
    index.push(start, count);
    for (let n = start; n < start + count; n++) {
      const row = Buffer.alloc(7);
      row[0] = 1;
      row.writeUInt32BE(offsets.get(n)!, 1);
      row.writeUInt16BE(gens.get(n) ?? 0, 5);
      rows.push(row);
    }
  }
  return { index, data: Buffer.concat(rows) };
}

/**
 * Trailer /ID for an update (§14.4): the first element stays; the second changes with each update,
 * here the first 16 bytes of the SHA-256 (hex) of the file before it.
 */
export function nextFileId(file: PdfFile, previousSha256: string): [PdfString, PdfString] {
  const id = file.trailer.get('ID');
  const first = Array.isArray(id) && id[0] instanceof PdfString ? id[0] : undefined;
  const second = new PdfString(Buffer.from(previousSha256.slice(0, 32), 'hex'), true);
  return [first ?? second, second];
}

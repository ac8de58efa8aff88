// A PDF file as a chain of revisions (ISO 32000-1 §7.5.6 incremental updates): the original body
// and every appended update, each with its own cross-reference section (a classic table §7.5.4, a
// cross-reference stream §7.5.8, or both in a hybrid file §7.5.8.4) and trailer. Objects are parsed
// on demand and can be read as they were in any revision, which the verifier needs to compare them.
import { inflateSync } from 'node:zlib';
import { PdfDict, PdfName, type PdfObject, PdfRef, PdfStream } from './objects.ts';
import { indexOf, lastIndexOf, Parser, PdfSyntaxError } from './parser.ts';

export type XrefEntry =
  | { type: 1; offset: number; gen: number }
  | { type: 2; stream: number; index: number }
  | { type: 0; gen: number };

export interface Revision {
  /** 0 for the original file, then one per incremental update. */
  index: number;
  /** Where this revision's cross-reference section starts (the value of its `startxref`). */
  xrefOffset: number;
  kind: 'table' | 'stream';
  trailer: PdfDict;
  /** Entries this revision's section defines (objects added, changed or freed by it). */
  entries: Map<number, XrefEntry>;
  /** Offset just after this revision's `%%EOF` marker and its end-of-line. */
  end: number;
  /** Offset just after `%%EOF` without the end-of-line (some writers sign up to here). */
  endWithoutEol: number;
}

const STARTXREF = Buffer.from('startxref', 'latin1');
const EOF_MARK = Buffer.from('%%EOF', 'latin1');

export class PdfFile {
  /** Oldest first. */
  readonly revisions: Revision[];
  private readonly objectCache = new Map<string, PdfObject>();
  private readonly objStmCache = new Map<string, { parser: Parser; offsets: Map<number, number> }>();

  private constructor(
    readonly bytes: Uint8Array,
    revisions: Revision[],
  ) {
    this.revisions = revisions;
  }

  static parse(bytes: Uint8Array): PdfFile {
    if (Buffer.from(bytes.subarray(0, 1024)).indexOf('%PDF-') < 0)
      throw new PdfSyntaxError('not a PDF file', 0);
    const sx = lastIndexOf(bytes, STARTXREF);
    if (sx < 0) throw new PdfSyntaxError('no startxref', bytes.length);
    const p = new Parser(bytes, sx + STARTXREF.length);
    const first = p.parseObject();
    if (typeof first !== 'number') throw new PdfSyntaxError('bad startxref', sx);
    const file = new PdfFile(bytes, []);
    const newestFirst: Revision[] = [];
    const seen = new Set<number>();
    let offset: number | undefined = first;
    while (offset !== undefined) {
      if (seen.has(offset) || newestFirst.length > 10_000)
        throw new PdfSyntaxError('cross-reference loop', offset);
      seen.add(offset);
      const rev = file.readXrefSection(offset);
      newestFirst.push(rev);
      const prev = rev.trailer.get('Prev');
      offset = typeof prev === 'number' ? prev : undefined;
    }
    newestFirst.reverse().forEach((r, i) => {
      r.index = i;
    });
    file.revisions.push(...newestFirst);
    return file;
  }

  get latest(): Revision {
    return this.revisions[this.revisions.length - 1]!;
  }

  /** The trailer of the newest revision. */
  get trailer(): PdfDict {
    return this.latest.trailer;
  }

  /** The xref entry in force for object `num` as of revision `rev` (default: newest). */
  entryAt(num: number, rev = this.revisions.length - 1): { entry: XrefEntry; revision: number } | undefined {
    for (let r = rev; r >= 0; r--) {
      const entry = this.revisions[r]!.entries.get(num);
      if (entry) return { entry, revision: r };
    }
    return undefined;
  }

  /** Object `num` as it was in revision `rev` (default: newest). Missing or freed objects are null (§7.3.10). */
  getObject(num: number, rev = this.revisions.length - 1): PdfObject {
    const found = this.entryAt(num, rev);
    if (!found || found.entry.type === 0) return null;
    return this.readEntry(num, found.entry, found.revision);
  }

  /** Follow a reference (at revision `rev`); anything else is returned as it is. */
  resolve(obj: PdfObject | undefined, rev?: number): PdfObject {
    if (obj === undefined) return null;
    if (obj instanceof PdfRef) return this.getObject(obj.num, rev);
    return obj;
  }

  resolveDict(obj: PdfObject | undefined, rev?: number): PdfDict | undefined {
    const v = this.resolve(obj, rev);
    if (v instanceof PdfDict) return v;
    if (v instanceof PdfStream) return v.dict;
    return undefined;
  }

  /** Decoded stream data (FlateDecode with or without a PNG predictor is all we meet in our files). */
  decodeStream(stream: PdfStream): Buffer {
    return decodeStreamData(stream, (o) => this.resolve(o));
  }

  /** Objects in the newest revision: highest object number + 1 (trailer /Size). */
  get size(): number {
    const s = this.trailer.get('Size');
    return typeof s === 'number' ? s : 0;
  }

  /** The offset where the indirect object `num` starts (type 1 entries only). */
  offsetOf(num: number, rev?: number): number | undefined {
    const e = this.entryAt(num, rev)?.entry;
    return e?.type === 1 ? e.offset : undefined;
  }

  private readEntry(num: number, entry: XrefEntry, rev: number): PdfObject {
    if (entry.type === 2) return this.readFromObjectStream(num, entry.stream, rev);
    if (entry.type === 0) return null;
    const key = `o${entry.offset}`;
    const cached = this.objectCache.get(key);
    if (cached !== undefined) return cached;
    let obj: PdfObject;
    {
      const p = new Parser(this.bytes, entry.offset);
      const io = p.parseIndirectObject((ref) => {
        const v = this.resolve(ref);
        return typeof v === 'number' ? v : undefined;
      });
      if (io.num !== num)
        throw new PdfSyntaxError(`xref points to object ${io.num}, not ${num}`, entry.offset);
      obj = io.obj;
    }
    this.objectCache.set(key, obj);
    return obj;
  }

  private readFromObjectStream(num: number, streamNum: number, rev: number): PdfObject {
    // The object stream as of the revision whose section points into it; never itself compressed (§7.5.7).
    const found = this.entryAt(streamNum, rev);
    if (found?.entry.type !== 1) throw new PdfSyntaxError(`object stream ${streamNum} not found`, 0);
    const key = `${streamNum}@${found.entry.offset}`;
    const cachedObj = this.objectCache.get(`s${key}:${num}`);
    if (cachedObj !== undefined) return cachedObj;
    let objStm = this.objStmCache.get(key);
    if (!objStm) {
      const stream = this.readEntry(streamNum, found.entry, found.revision);
      if (!(stream instanceof PdfStream)) throw new PdfSyntaxError(`object ${streamNum} is not a stream`, 0);
      const data = this.decodeStream(stream);
      const n = stream.dict.get('N');
      const firstOffset = stream.dict.get('First');
      if (typeof n !== 'number' || typeof firstOffset !== 'number')
        throw new PdfSyntaxError('bad object stream', 0);
      const header = new Parser(data, 0);
      const offsets = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const objNum = header.parseObject();
        const off = header.parseObject();
        if (typeof objNum !== 'number' || typeof off !== 'number')
          throw new PdfSyntaxError('bad object stream', 0);
        offsets.set(objNum, firstOffset + off);
      }
      objStm = { parser: new Parser(data, 0), offsets };
      this.objStmCache.set(key, objStm);
    }
    const at = objStm.offsets.get(num);
    if (at === undefined) throw new PdfSyntaxError(`object ${num} not in object stream ${streamNum}`, 0);
    objStm.parser.pos = at;
    const obj = objStm.parser.parseObject();
    this.objectCache.set(`s${key}:${num}`, obj);
    return obj;
  }

  private readXrefSection(offset: number): Revision {
    const p = new Parser(this.bytes, offset);
    let rev: Revision;
    let sectionEnd: number;
    if (p.peekKeyword() === 'xref') {
      p.readKeyword();
      const entries = new Map<number, XrefEntry>();
      for (;;) {
        const k = p.peekKeyword();
        if (k === 'trailer') break;
        const start = p.parseObject();
        const count = p.parseObject();
        if (typeof start !== 'number' || typeof count !== 'number')
          throw new PdfSyntaxError('bad xref subsection', p.pos);
        for (let i = 0; i < count; i++) {
          const off = Number(p.readKeyword());
          const gen = Number(p.readKeyword());
          const t = p.readKeyword();
          if (t === 'n') entries.set(start + i, { type: 1, offset: off, gen });
          else if (t === 'f') entries.set(start + i, { type: 0, gen });
          else throw new PdfSyntaxError('bad xref entry', p.pos);
        }
      }
      p.readKeyword(); // trailer
      const trailer = p.parseObject();
      if (!(trailer instanceof PdfDict)) throw new PdfSyntaxError('bad trailer', p.pos);
      sectionEnd = p.pos;
      // Hybrid file (§7.5.8.4): the table's companion stream adds entries (e.g. compressed objects).
      const xrefStm = trailer.get('XRefStm');
      if (typeof xrefStm === 'number') {
        const hybrid = this.readXrefStream(xrefStm);
        for (const [num, e] of hybrid.entries) {
          const tableEntry = entries.get(num);
          if (!tableEntry || tableEntry.type === 0) entries.set(num, e);
        }
      }
      rev = { index: 0, xrefOffset: offset, kind: 'table', trailer, entries, end: 0, endWithoutEol: 0 };
    } else {
      const s = this.readXrefStream(offset);
      sectionEnd = s.end;
      rev = {
        index: 0,
        xrefOffset: offset,
        kind: 'stream',
        trailer: s.dict,
        entries: s.entries,
        end: 0,
        endWithoutEol: 0,
      };
    }
    const eof = indexOf(this.bytes, EOF_MARK, sectionEnd);
    if (eof < 0) throw new PdfSyntaxError('revision without %%EOF', sectionEnd);
    rev.endWithoutEol = eof + EOF_MARK.length;
    let end = rev.endWithoutEol;
    if (this.bytes[end] === 0x0d) end++;
    if (this.bytes[end] === 0x0a) end++;
    rev.end = end;
    return rev;
  }

  private readXrefStream(offset: number): { dict: PdfDict; entries: Map<number, XrefEntry>; end: number } {
    const p = new Parser(this.bytes, offset);
    const io = p.parseIndirectObject();
    const stream = io.obj;
    if (!(stream instanceof PdfStream) || stream.dict.name('Type') !== 'XRef')
      throw new PdfSyntaxError('expected a cross-reference stream', offset);
    const d = stream.dict;
    const data = decodeStreamData(stream, (o) => o ?? null);
    const w = d.get('W');
    if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => typeof x === 'number'))
      throw new PdfSyntaxError('bad /W in cross-reference stream', offset);
    const [w0, w1, w2] = w as [number, number, number];
    const size = d.get('Size');
    const index = d.get('Index') ?? [0, size ?? 0];
    if (!Array.isArray(index)) throw new PdfSyntaxError('bad /Index', offset);
    const entries = new Map<number, XrefEntry>();
    const rowLen = w0 + w1 + w2;
    let pos = 0;
    const field = (width: number, dflt: number): number => {
      if (width === 0) return dflt;
      let v = 0;
      for (let i = 0; i < width; i++) v = v * 256 + data[pos++]!;
      return v;
    };
    for (let i = 0; i + 1 < index.length; i += 2) {
      const start = index[i] as number;
      const count = index[i + 1] as number;
      for (let j = 0; j < count; j++) {
        if (pos + rowLen > data.length) throw new PdfSyntaxError('cross-reference stream too short', offset);
        const t = field(w0, 1);
        const f2 = field(w1, 0);
        const f3 = field(w2, 0);
        if (t === 1) entries.set(start + j, { type: 1, offset: f2, gen: f3 });
        else if (t === 2) entries.set(start + j, { type: 2, stream: f2, index: f3 });
        else if (t === 0) entries.set(start + j, { type: 0, gen: f3 });
      }
    }
    return { dict: d, entries, end: io.end };
  }
}

/** Decode FlateDecode data, with the PNG predictors of §7.4.4.4 when /DecodeParms asks for them. */
export function decodeStreamData(
  stream: PdfStream,
  resolve: (o: PdfObject | undefined) => PdfObject,
): Buffer {
  const filter = resolve(stream.dict.get('Filter'));
  const filters = Array.isArray(filter) ? filter : filter === null ? [] : [filter];
  const parmsObj = resolve(stream.dict.get('DecodeParms'));
  const parmsList = Array.isArray(parmsObj) ? parmsObj : [parmsObj];
  let data: Buffer = Buffer.from(stream.raw);
  filters.forEach((f, i) => {
    const fname = f instanceof PdfName ? f.value : undefined;
    if (fname !== 'FlateDecode') throw new Error(`unsupported stream filter ${fname ?? '?'}`);
    data = inflateSync(data);
    const parms = resolve(parmsList[i] ?? null);
    if (parms instanceof PdfDict) data = unpredict(data, parms);
  });
  return data;
}

function unpredict(data: Buffer, parms: PdfDict): Buffer {
  const predictor = parms.get('Predictor');
  if (typeof predictor !== 'number' || predictor < 10) return data;
  const columns = (parms.get('Columns') as number | undefined) ?? 1;
  const colors = (parms.get('Colors') as number | undefined) ?? 1;
  const bpc = (parms.get('BitsPerComponent') as number | undefined) ?? 8;
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((columns * colors * bpc) / 8);
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = Buffer.alloc(rows * rowLen);
  let prev = Buffer.alloc(rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)]!;
    const row = data.subarray(r * (rowLen + 1) + 1, (r + 1) * (rowLen + 1));
    const cur = out.subarray(r * rowLen, (r + 1) * rowLen);
    for (let i = 0; i < rowLen; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v = row[i]!;
      if (type === 1) v += a;
      else if (type === 2) v += b;
      else if (type === 3) v += (a + b) >> 1;
      else if (type === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

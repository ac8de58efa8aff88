// A small PDF object parser (ISO 32000-1 §7.2 lexical conventions, §7.3 objects) over the file's
// bytes. It reads only what it is asked for, which keeps signing and verification fast: a signature
// touches a handful of objects, not the whole document.
import { PdfDict, PdfName, type PdfObject, PdfRef, PdfStream, PdfString } from './objects.ts';

export class PdfSyntaxError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'PdfSyntaxError';
  }
}

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;

const isRegular = (c: number | undefined): boolean => c !== undefined && !WS[c] && !DELIM[c];

/** Resolves an indirect /Length while a stream is being read. */
export type LengthResolver = (ref: PdfRef) => number | undefined;

export interface IndirectObject {
  num: number;
  gen: number;
  obj: PdfObject;
  /** Offset just after `endobj` (or after the object when `endobj` is missing). */
  end: number;
}

export class Parser {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}

  skipWhitespace(): void {
    const b = this.buf;
    for (;;) {
      const c = b[this.pos];
      if (c === undefined) return;
      if (WS[c]) this.pos++;
      else if (c === 0x25) {
        // Comment: up to the end of the line.
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else return;
    }
  }

  /** The next regular-character token without consuming it (keywords and numbers). */
  peekKeyword(): string {
    this.skipWhitespace();
    let end = this.pos;
    while (isRegular(this.buf[end])) end++;
    return Buffer.from(this.buf.subarray(this.pos, end)).toString('latin1');
  }

  readKeyword(): string {
    const k = this.peekKeyword();
    this.pos += k.length;
    return k;
  }

  expectKeyword(keyword: string): void {
    const start = this.pos;
    const k = this.readKeyword();
    if (k !== keyword) throw new PdfSyntaxError(`expected '${keyword}', found '${k.slice(0, 20)}'`, start);
  }

  private readInteger(): number | undefined {
    const save = this.pos;
    const k = this.peekKeyword();
    if (/^\d+$/.test(k)) {
      this.pos += k.length;
      return Number(k);
    }
    this.pos = save;
    return undefined;
  }

  parseObject(): PdfObject {
    this.skipWhitespace();
    const b = this.buf;
    const start = this.pos;
    const c = b[this.pos];
    if (c === undefined) throw new PdfSyntaxError('unexpected end of file', start);
    if (c === 0x2f) return this.parseName();
    if (c === 0x28) return this.parseLiteralString();
    if (c === 0x5b) {
      this.pos++;
      const arr: PdfObject[] = [];
      for (;;) {
        this.skipWhitespace();
        if (b[this.pos] === 0x5d) {
          this.pos++;
          return arr;
        }
        if (this.pos >= b.length) throw new PdfSyntaxError('unterminated array', start);
        arr.push(this.parseObject());
      }
    }
    if (c === 0x3c) {
      if (b[this.pos + 1] === 0x3c) return this.parseDict();
      return this.parseHexString();
    }
    const k = this.readKeyword();
    if (k === 'true') return true;
    if (k === 'false') return false;
    if (k === 'null') return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(k)) {
      const n = Number(k);
      // An integer followed by another integer and R is an indirect reference (§7.3.10).
      if (/^\d+$/.test(k)) {
        const save = this.pos;
        const gen = this.readInteger();
        if (gen !== undefined && this.peekKeyword() === 'R') {
          this.pos++;
          return new PdfRef(n, gen);
        }
        this.pos = save;
      }
      return n;
    }
    throw new PdfSyntaxError(`unexpected token '${k.slice(0, 20) || String.fromCharCode(c)}'`, start);
  }

  private parseName(): PdfName {
    const b = this.buf;
    this.pos++; // '/'
    let s = '';
    while (isRegular(b[this.pos])) {
      const c = b[this.pos]!;
      if (c === 0x23 && this.pos + 2 < b.length) {
        s += String.fromCharCode(
          Number.parseInt(Buffer.from(b.subarray(this.pos + 1, this.pos + 3)).toString(), 16),
        );
        this.pos += 3;
      } else {
        s += String.fromCharCode(c);
        this.pos++;
      }
    }
    return PdfName.of(s);
  }

  private parseDict(): PdfDict {
    const start = this.pos;
    this.pos += 2;
    const map = new Map<string, PdfObject>();
    for (;;) {
      this.skipWhitespace();
      const c = this.buf[this.pos];
      if (c === 0x3e && this.buf[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return new PdfDict(map);
      }
      if (c !== 0x2f) throw new PdfSyntaxError('expected a name as dictionary key', this.pos);
      if (this.pos >= this.buf.length) throw new PdfSyntaxError('unterminated dictionary', start);
      const key = this.parseName().value;
      map.set(key, this.parseObject());
    }
  }

  private parseHexString(): PdfString {
    const b = this.buf;
    const start = this.pos;
    this.pos++;
    const digits: number[] = [];
    for (;;) {
      const c = b[this.pos++];
      if (c === undefined) throw new PdfSyntaxError('unterminated hex string', start);
      if (c === 0x3e) break;
      if (WS[c]) continue;
      const v = hexValue(c);
      if (v < 0) throw new PdfSyntaxError('bad hex digit', this.pos - 1);
      digits.push(v);
    }
    if (digits.length % 2 === 1) digits.push(0);
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i]! << 4) | digits[2 * i + 1]!;
    return new PdfString(out, true);
  }

  private parseLiteralString(): PdfString {
    const b = this.buf;
    const start = this.pos;
    this.pos++;
    const out: number[] = [];
    let depth = 1;
    for (;;) {
      const c = b[this.pos++];
      if (c === undefined) throw new PdfSyntaxError('unterminated string', start);
      if (c === 0x5c) {
        const e = b[this.pos++];
        if (e === undefined) throw new PdfSyntaxError('unterminated string', start);
        const simple: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 102: 12 };
        if (simple[e] !== undefined) out.push(simple[e]);
        else if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let i = 0; i < 2 && b[this.pos]! >= 0x30 && b[this.pos]! <= 0x37; i++)
            v = v * 8 + (b[this.pos++]! - 0x30);
          out.push(v & 0xff);
        } else if (e === 0x0d) {
          if (b[this.pos] === 0x0a) this.pos++; // line continuation
        } else if (e !== 0x0a) out.push(e);
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      out.push(c);
    }
    return new PdfString(Uint8Array.from(out));
  }

  /** `N G obj <object> [stream … endstream] endobj` at the current position. */
  parseIndirectObject(resolveLength?: LengthResolver): IndirectObject {
    const start = this.pos;
    const num = this.readInteger();
    const gen = this.readInteger();
    if (num === undefined || gen === undefined)
      throw new PdfSyntaxError('expected an indirect object', start);
    this.expectKeyword('obj');
    let obj = this.parseObject();
    this.skipWhitespace();
    if (obj instanceof PdfDict && this.peekKeyword() === 'stream') {
      obj = this.parseStreamBody(obj, resolveLength);
      this.skipWhitespace();
    }
    if (this.peekKeyword() === 'endobj') this.pos += 6;
    return { num, gen, obj, end: this.pos };
  }

  private parseStreamBody(d: PdfDict, resolveLength?: LengthResolver): PdfStream {
    const b = this.buf;
    this.pos += 6; // 'stream'
    // The keyword is followed by CRLF or LF (§7.3.8.1); tolerate a lone CR.
    if (b[this.pos] === 0x0d) this.pos++;
    if (b[this.pos] === 0x0a) this.pos++;
    const dataStart = this.pos;
    const lenObj = d.get('Length');
    let length =
      typeof lenObj === 'number' ? lenObj : lenObj instanceof PdfRef ? resolveLength?.(lenObj) : undefined;
    if (length === undefined || !endstreamFollows(b, dataStart + length)) {
      // Missing or wrong /Length: find 'endstream' instead.
      const at = indexOf(b, ENDSTREAM, dataStart);
      if (at < 0) throw new PdfSyntaxError('stream without endstream', dataStart);
      let end = at;
      if (b[end - 1] === 0x0a) end--;
      if (b[end - 1] === 0x0d) end--;
      length = end - dataStart;
    }
    const raw = b.subarray(dataStart, dataStart + length);
    this.pos = dataStart + length;
    this.skipWhitespace();
    this.expectKeyword('endstream');
    return new PdfStream(d, raw);
  }
}

const ENDSTREAM = Buffer.from('endstream', 'latin1');

function endstreamFollows(b: Uint8Array, at: number): boolean {
  let p = at;
  while (p < b.length && WS[b[p]!]) p++;
  return indexOf(b, ENDSTREAM, p) === p;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle, from);
}

export function lastIndexOf(haystack: Uint8Array, needle: Uint8Array, from?: number): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).lastIndexOf(needle, from);
}

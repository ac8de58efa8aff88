// The PDF object model (ISO 32000-1 §7.3) as far as signing and verification need it, and its
// serialisation. Bytes are kept as bytes: strings are byte strings, names are decoded byte strings
// (latin1), so an object read from a file and written again means the same thing.

export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly value: string) {}
  /** Names are interned so that `a === b` compares them. */
  static of(value: string): PdfName {
    let name = PdfName.interned.get(value);
    if (!name) {
      name = new PdfName(value);
      PdfName.interned.set(value, name);
    }
    return name;
  }
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
  toString(): string {
    return `${this.num} ${this.gen} R`;
  }
}

export class PdfString {
  constructor(
    readonly bytes: Uint8Array,
    /** Written as <hex> rather than (literal): kept from the source for byte strings such as /ID. */
    readonly hex = false,
  ) {}

  /**
   * A text string (ISO 32000-1 §7.9.2.2): PDFDocEncoding when the text is printable ASCII,
   * otherwise UTF-16BE with a byte order mark, so names such as "Łukasz" survive.
   */
  static text(text: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(text)) return new PdfString(Buffer.from(text, 'latin1'));
    const utf16 = Buffer.alloc(2 + text.length * 2);
    utf16[0] = 0xfe;
    utf16[1] = 0xff;
    for (let i = 0; i < text.length; i++) utf16.writeUInt16BE(text.charCodeAt(i), 2 + i * 2);
    return new PdfString(utf16, true);
  }

  /** Decode a text string: UTF-16BE (with BOM), UTF-8 (PDF 2.0 BOM) or PDFDocEncoding (latin1 here). */
  toText(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
      let s = '';
      for (let i = 2; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)
      return Buffer.from(b.subarray(3)).toString('utf8');
    return Buffer.from(b).toString('latin1');
  }
}

export class PdfDict {
  constructor(readonly map: Map<string, PdfObject> = new Map()) {}
  get(key: string): PdfObject | undefined {
    return this.map.get(key);
  }
  set(key: string, value: PdfObject): this {
    this.map.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  /** The value of a name entry (`/Type /Sig` → 'Sig'), if it is a direct name. */
  name(key: string): string | undefined {
    const v = this.map.get(key);
    return v instanceof PdfName ? v.value : undefined;
  }
  /** A shallow copy: the new version of an object in an incremental update starts from the old one. */
  clone(): PdfDict {
    return new PdfDict(new Map(this.map));
  }
}

export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    /** The stream data as stored in the file (still encoded with /Filter). */
    readonly raw: Uint8Array,
  ) {}
}

/** Bytes written as they are: used for the signature dictionary, whose placeholders we fill in place. */
export class PdfRaw {
  constructor(readonly bytes: Uint8Array) {}
}

export type PdfObject =
  null | boolean | number | PdfName | PdfString | PdfRef | PdfDict | PdfStream | PdfRaw | PdfObject[];

/** Build a dictionary from a plain object; `undefined` values are left out. Keys are names without '/'. */
export function dict(entries: Record<string, PdfObject | undefined>): PdfDict {
  const map = new Map<string, PdfObject>();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) map.set(k, v);
  return new PdfDict(map);
}

export const name = (value: string): PdfName => PdfName.of(value);

// ---------------------------------------------------------------------------------------------------
// Serialisation (ISO 32000-1 §7.3). Output is a latin1 string: one character per byte.

const NAME_REGULAR = /^[!-~]$/;
const NAME_DELIMITERS = new Set(['(', ')', '<', '>', '[', ']', '{', '}', '/', '%', '#']);

function nameToken(value: string): string {
  let out = '/';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (NAME_REGULAR.test(ch) && !NAME_DELIMITERS.has(ch)) out += ch;
    else out += `#${code.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Integers as integers; reals with at most 6 decimals and never in exponent form (§7.3.3). */
export function numberToken(n: number): string {
  if (!Number.isFinite(n)) throw new Error('a PDF number must be finite');
  if (Number.isInteger(n)) return String(n);
  const s = n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function stringToken(s: PdfString): string {
  const b = s.bytes;
  if (s.hex) return `<${Buffer.from(b).toString('hex')}>`;
  let out = '(';
  for (const c of b) {
    if (c === 0x28 || c === 0x29 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\${c.toString(8).padStart(3, '0')}`;
  }
  return `${out})`;
}

/** Serialise a direct object (streams only as indirect objects; see `serializeIndirect`). */
export function serialize(obj: PdfObject): string {
  if (obj === null) return 'null';
  if (typeof obj === 'boolean') return obj ? 'true' : 'false';
  if (typeof obj === 'number') return numberToken(obj);
  if (obj instanceof PdfName) return nameToken(obj.value);
  if (obj instanceof PdfString) return stringToken(obj);
  if (obj instanceof PdfRef) return obj.toString();
  if (obj instanceof PdfRaw) return Buffer.from(obj.bytes).toString('latin1');
  if (Array.isArray(obj)) return `[${obj.map(serialize).join(' ')}]`;
  if (obj instanceof PdfDict) {
    let out = '<<';
    for (const [k, v] of obj.map) out += `${nameToken(k)} ${serialize(v)}`;
    return `${out}>>`;
  }
  throw new Error('a stream cannot be a direct object');
}

/** `N G obj … endobj` as bytes, with the stream's /Length set from its data. */
export function serializeIndirect(ref: PdfRef, obj: PdfObject): Buffer {
  const head = `${ref.num} ${ref.gen} obj\n`;
  if (obj instanceof PdfStream) {
    const d = obj.dict.clone().set('Length', obj.raw.length);
    return Buffer.concat([
      Buffer.from(`${head}${serialize(d)}\nstream\n`, 'latin1'),
      obj.raw,
      Buffer.from('\nendstream\nendobj\n', 'latin1'),
    ]);
  }
  return Buffer.from(`${head}${serialize(obj)}\nendobj\n`, 'latin1');
}

/** Structural equality; references compare by number and generation, streams by dictionary and data. */
export function deepEqual(a: PdfObject | undefined, b: PdfObject | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof PdfRef) return b instanceof PdfRef && a.num === b.num && a.gen === b.gen;
  if (a instanceof PdfString) return b instanceof PdfString && Buffer.from(a.bytes).equals(b.bytes);
  if (a instanceof PdfRaw) return b instanceof PdfRaw && Buffer.from(a.bytes).equals(b.bytes);
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a instanceof PdfStream)
    return b instanceof PdfStream && deepEqual(a.dict, b.dict) && Buffer.from(a.raw).equals(b.raw);
  if (a instanceof PdfDict) {
    if (!(b instanceof PdfDict) || a.map.size !== b.map.size) return false;
    for (const [k, v] of a.map) if (!deepEqual(v, b.map.get(k))) return false;
    return true;
  }
  return false;
}

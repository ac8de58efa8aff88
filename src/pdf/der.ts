// Minimal DER (ITU-T X.690) writing and reading for the hot path of signing and verification.
// pkijs's schema-based parsing costs milliseconds per certificate (measured: ~3 ms per certificate,
// ~9 ms per SignedData); a signature must cost under 10 ms in all. So the per-signature structures —
// the signer certificate's TBSCertificate, the SignedData, the signed attributes — are assembled here
// from bytes, with certificates embedded as they are, and read back the same way. pkijs still does
// what it is good at off the hot path: chain validation, time-stamp protocol messages.

// ---------------------------------------------------------------------------------------------------
// Writing

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with a single-byte tag. */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...c: Uint8Array[]): Buffer => tlv(0x30, ...c);
export const set = (...c: Uint8Array[]): Buffer => tlv(0x31, ...c);
/** DER SET OF: elements sorted by their encodings (X.690 §11.6). */
export const setOf = (...c: Uint8Array[]): Buffer => tlv(0x31, ...[...c].sort(Buffer.compare));
/** [n] EXPLICIT, or IMPLICIT of a constructed type: context-specific constructed tag. */
export const ctx = (n: number, ...c: Uint8Array[]): Buffer => tlv(0xa0 | n, ...c);
export const octets = (b: Uint8Array): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'latin1'));
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const boolean = (v: boolean): Buffer => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
export const bitString = (b: Uint8Array, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), b);

/** INTEGER from unsigned big-endian bytes: minimal, with a leading zero when the top bit is set. */
export function unsignedInteger(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export const smallInteger = (n: number): Buffer =>
  unsignedInteger(Buffer.from([n >> 24, n >> 16, n >> 8, n].map((x) => x & 0xff)));

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  let out = oidCache.get(dotted);
  if (out) return out;
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [];
  const push = (v: number): void => {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  out = tlv(0x06, Buffer.from(bytes));
  oidCache.set(dotted, out);
  return out;
}

/** AlgorithmIdentifier, parameters absent (RFC 5754 §2 for SHA-2, §3.3 for ECDSA) or NULL (RSA). */
export const algorithm = (dotted: string, nullParameters = false): Buffer =>
  nullParameters ? seq(oid(dotted), nullValue()) : seq(oid(dotted));

/** UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds, Zulu. */
export function time(d: Date): Buffer {
  const iso = d.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1'))
    : tlv(0x18, Buffer.from(digits, 'latin1'));
}

/** GeneralizedTime in whole seconds, Zulu (RFC 5280 §4.1.2.5.2; RFC 6960 and RFC 3161 use it always). */
export function generalizedTime(d: Date): Buffer {
  const iso = d.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x18, Buffer.from(digits, 'latin1'));
}

export const enumerated = (n: number): Buffer => tlv(0x0a, Buffer.from([n]));

// ---------------------------------------------------------------------------------------------------
// Reading

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset after the last content byte. */
  end: number;
}

export class DerError extends Error {}

/** Read one TLV at `pos` (definite lengths only: DER). */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  const tag = buf[pos];
  let p = pos + 1;
  const first = buf[p++];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f)
    throw new DerError('unsupported or truncated tag');
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) throw new DerError('truncated');
  return { tag, start: pos, contentStart: p, end: p + len };
}

/** The TLVs inside a constructed TLV. */
export function children(buf: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.contentStart; p < t.end;) {
    const c = readTlv(buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export const contentOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.contentStart, t.end);
export const rawOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);

export function decodeOid(b: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

/** The OID of an AlgorithmIdentifier (or any SEQUENCE starting with an OID). */
export function algorithmOid(buf: Uint8Array, t: Tlv): string {
  const first = children(buf, t)[0];
  if (first?.tag !== 0x06) throw new DerError('expected an OID');
  return decodeOid(contentOf(buf, first));
}

export interface CertificateParts {
  tbs: Uint8Array;
  serial: Uint8Array;
  issuer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Uint8Array;
  spki: Uint8Array;
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z). */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(contentOf(buf, t)).toString('latin1');
  const full = t.tag === 0x17 ? `${Number(s.slice(0, 2)) < 50 ? '20' : '19'}${s}` : s;
  const m = full.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/);
  if (!m) throw new DerError('bad time');
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms));
}

/** Attribute type and text value of each RDN of a Name DER, in order (single-valued RDNs). */
export function readName(name: Uint8Array): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  for (const rdn of children(name, readTlv(name, 0))) {
    for (const atv of children(name, rdn)) {
      const [type, value] = children(name, atv);
      if (!type || !value) continue;
      const bytes = Buffer.from(contentOf(name, value));
      // BMPString is UTF-16BE; UTF8String, PrintableString, IA5String read as UTF-8.
      const text = value.tag === 0x1e ? bytes.swap16().toString('utf16le') : bytes.toString('utf8');
      out.push({ type: decodeOid(contentOf(name, type)), value: text });
    }
  }
  return out;
}

/** The parts of a certificate DER (RFC 5280 §4.1) that signing and verification need. */
export function certificateParts(cert: Uint8Array): CertificateParts {
  const outer = readTlv(cert, 0);
  const [tbsTlv] = children(cert, outer);
  if (!tbsTlv) throw new DerError('not a certificate');
  const f = children(cert, tbsTlv);
  const off = f[0]?.tag === 0xa0 ? 1 : 0; // [0] version is optional
  const [serial, , issuer, validity, subject, spki] = f.slice(off);
  if (!serial || !issuer || !validity || !subject || !spki) throw new DerError('not a certificate');
  const [notBefore, notAfter] = children(cert, validity);
  if (!notBefore || !notAfter) throw new DerError('not a certificate');
  return {
    tbs: rawOf(cert, tbsTlv),
    serial: contentOf(cert, serial),
    issuer: rawOf(cert, issuer),
    notBefore: readTime(cert, notBefore),
    notAfter: readTime(cert, notAfter),
    subject: rawOf(cert, subject),
    spki: rawOf(cert, spki),
  };
}

/** The subjectPublicKey BIT STRING's bits of a SubjectPublicKeyInfo (for key identifiers). */
export function publicKeyBits(spki: Uint8Array): Uint8Array {
  const [, bits] = children(spki, readTlv(spki, 0));
  if (bits?.tag !== 0x03) throw new DerError('not a SubjectPublicKeyInfo');
  return spki.subarray(bits.contentStart + 1, bits.end);
}

const EXT_KEY_USAGE = '2.5.29.37';

/** The extendedKeyUsage purposes of a certificate DER (RFC 5280 §4.2.1.12); none when it has none. */
export function extendedKeyUsages(cert: Uint8Array): string[] {
  const [tbsTlv] = children(cert, readTlv(cert, 0));
  const wrap = tbsTlv && children(cert, tbsTlv).find((t) => t.tag === 0xa3);
  const exts = wrap && children(cert, wrap)[0];
  if (!exts) return [];
  for (const ext of children(cert, exts)) {
    const parts = children(cert, ext);
    const id = parts[0];
    const value = parts.at(-1);
    if (!id || !value || decodeOid(contentOf(cert, id)) !== EXT_KEY_USAGE) continue;
    const v = contentOf(cert, value);
    return children(v, readTlv(v, 0)).map((p) => decodeOid(contentOf(v, p)));
  }
  return [];
}

// The one font family of our PDFs: DejaVu Sans, pre-subset to the Latin scripts names in Sweden use
// (see templates/fonts/README.md). Files are read and parsed once per process.
//
// Contract with the signing code: the form embeds these files WHOLE (`embedFont` below: Type0,
// Identity-H, CIDToGIDMap /Identity, /W and ToUnicode for every glyph) under the AcroForm /DR names
// below, so a visible signature can draw any character of the font with that resource, measuring with
// a FontMetrics on the same bytes (fontkit: glyph id = CID; widths = the PDF's /W, whole units).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import fontkit, { type Font } from '@cantoo/fontkit';
import { type PDFDocument, PDFName, type PDFRef, PDFString } from '@cantoo/pdf-lib';
import { templatesDir } from '../paths.ts';

export type FontWeight = 'regular' | 'bold';

/** The font files, shipped in the repository (built by src/cli/build-font.ts). */
export const fontFilePath: Readonly<Record<FontWeight, string>> = {
  regular: path.join(templatesDir, 'fonts', 'DejaVuSans-Latin.ttf'),
  bold: path.join(templatesDir, 'fonts', 'DejaVuSans-Bold-Latin.ttf'),
};

/** Names of the fonts in the form's `/AcroForm /DR /Font` dictionary. */
export const FONT_RESOURCE_NAME: Readonly<Record<FontWeight, string>> = {
  regular: 'SamtyckeSans',
  bold: 'SamtyckeSansBold',
};

/**
 * Unicode ranges kept in the font files: Basic Latin, Latin-1, Latin Extended-A, the parts of Latin
 * Extended-B that living languages' names use (Ə ə, Ơ ơ Ư ư, pinyin Ǎ…ǜ, Sami Ǥ ǥ Ǧ ǧ Ǩ ǩ Ʒ ʒ Ǯ ǯ,
 * Ǻ ǻ Ǽ ǽ Ǿ ǿ, Romanian Ș ș Ț ț), spacing modifiers (ˇ ˘ ˝ …), Latin Extended Additional (Vietnamese
 * Nguyễn Trần Đức, Welsh ẁ ẃ ẅ, ẞ; about 8.7 KB per file), general punctuation
 * (– — ‘ ’ “ ” • … ‰ ‹ ›), €, ™ and minus. The rest of Latin Extended-B (African and phonetic letters,
 * digraph ligatures) would add a quarter to the file size.
 */
export const FONT_UNICODE_RANGES = [
  'U+0020-007E',
  'U+00A0-00FF',
  'U+0100-017F',
  'U+018F',
  'U+0192',
  'U+01A0-01A1',
  'U+01AF-01B0',
  'U+01B7',
  'U+01CD-01DC',
  'U+01E4-01E9',
  'U+01EE-01EF',
  'U+01FA-01FF',
  'U+0218-021B',
  'U+0259',
  'U+0292',
  'U+02B9-02DD',
  'U+1E00-1EFF',
  'U+2010-2027',
  'U+2030',
  'U+2032-2033',
  'U+2039-203A',
  'U+2044',
  'U+20AC',
  'U+2122',
  'U+2212',
] as const;

const bytesCache = new Map<FontWeight, Uint8Array>();

/** The font file's bytes, read once per process. */
export function loadFontBytes(weight: FontWeight = 'regular'): Uint8Array {
  let bytes = bytesCache.get(weight);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(fontFilePath[weight]));
    bytesCache.set(weight, bytes);
  }
  return bytes;
}

/**
 * One font file as we use it: widths, coverage and glyph ids without per-call text layout, and the
 * /W array and ToUnicode CMap of its PDF embedding.
 */
export class FontMetrics {
  readonly font: Font;
  /** Advance widths in 1/1000 em rounded to whole units, by code point: exactly the PDF's /W numbers. */
  private readonly advance = new Map<number, number>();
  /** Glyph id by code point: with Identity-H and CIDToGIDMap /Identity this is the code in the PDF. */
  private readonly glyphIds = new Map<number, number>();
  /** Width by glyph id and the code point a glyph extracts as (the lowest one that maps to it). */
  private readonly glyphs = new Map<number, { width: number; codePoint: number }>();

  constructor(bytes: Uint8Array) {
    const font = fontkit.create(bytes);
    if (!('characterSet' in font)) throw new Error('expected a single font, not a collection');
    this.font = font;
    const scale = 1000 / font.unitsPerEm;
    for (const cp of [...font.characterSet].sort((a, b) => a - b)) {
      const glyph = font.glyphForCodePoint(cp);
      if (!glyph || glyph.id === 0) continue;
      // Whole units: PDF/A allows a width to differ from the font program by up to 1 unit, and whole
      // numbers keep the /W array small. Layout measures with the same rounded widths.
      const width = Math.round(glyph.advanceWidth * scale);
      this.advance.set(cp, width);
      this.glyphIds.set(cp, glyph.id);
      if (!this.glyphs.has(glyph.id)) this.glyphs.set(glyph.id, { width, codePoint: cp });
    }
  }

  has(codePoint: number): boolean {
    return this.advance.has(codePoint);
  }

  glyphId(codePoint: number): number | undefined {
    return this.glyphIds.get(codePoint);
  }

  /** Width of `text` at `size` points. Characters the font lacks are refused before drawing. */
  widthOf(text: string, size: number): number {
    let units = 0;
    for (const ch of text) units += this.advance.get(ch.codePointAt(0)!) ?? 1000;
    return (units * size) / 1000;
  }

  /** Characters of `text` the font cannot draw, in order of first appearance. */
  missing(text: string): string[] {
    const out = new Set<string>();
    for (const ch of text) if (!this.has(ch.codePointAt(0)!)) out.add(ch);
    return [...out];
  }

  /** `text` as a hex string of 2-byte glyph ids, for `Tj` with this font's Identity-H encoding. */
  encode(text: string): string {
    let hex = '';
    for (const ch of text) {
      const id = this.glyphIds.get(ch.codePointAt(0)!);
      if (id === undefined) throw new Error(`the font has no glyph for U+${ch.codePointAt(0)!.toString(16)}`);
      hex += id.toString(16).padStart(4, '0');
    }
    return hex;
  }

  /** Ascent and descent (positive, below the baseline) in points for `size`. */
  verticalMetrics(size: number): { ascent: number; descent: number } {
    const scale = size / this.font.unitsPerEm;
    return { ascent: this.font.ascent * scale, descent: -this.font.descent * scale };
  }

  /** The CIDFont /W array: runs of three or more equal widths as `first last w`, the rest as `first [w …]`. */
  pdfWidths(): (number | number[])[] {
    const ids = [...this.glyphs.keys()].sort((a, b) => a - b);
    const width = (id: number): number => this.glyphs.get(id)!.width;
    const out: (number | number[])[] = [];
    let pending: number[] = [];
    let pendingStart = 0;
    const flush = (): void => {
      if (pending.length > 0) out.push(pendingStart, pending);
      pending = [];
    };
    let i = 0;
    while (i < ids.length) {
      let j = i;
      const w = width(ids[i]!);
      while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1 && width(ids[j + 1]!) === w) j++;
      if (j - i >= 2) {
        flush();
        out.push(ids[i]!, ids[j]!, w);
      } else {
        for (let k = i; k <= j; k++) {
          const id = ids[k]!;
          if (pending.length > 0 && id !== pendingStart + pending.length) flush();
          if (pending.length === 0) pendingStart = id;
          pending.push(width(id));
        }
      }
      i = j + 1;
    }
    flush();
    return out;
  }

  /** A ToUnicode CMap for every glyph, so text copies and searches as the characters it shows. */
  toUnicodeCMap(): string {
    const entries = [...this.glyphs.entries()].sort((a, b) => a[0] - b[0]);
    const utf16 = (cp: number): string =>
      String.fromCodePoint(cp)
        .split('')
        .map((u) => u.charCodeAt(0).toString(16).padStart(4, '0'))
        .join('');
    const blocks: string[] = [];
    // A bfchar block holds at most 100 entries (Adobe technical note #5014).
    for (let i = 0; i < entries.length; i += 100) {
      const chunk = entries.slice(i, i + 100);
      blocks.push(
        `${chunk.length} beginbfchar\n${chunk
          .map(([id, g]) => `<${id.toString(16).padStart(4, '0')}> <${utf16(g.codePoint)}>`)
          .join('\n')}\nendbfchar`,
      );
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <FFFF>',
      'endcodespacerange',
      ...blocks,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
    ].join('\n');
  }
}

const metricsCache = new Map<FontWeight, FontMetrics>();

/** Parsed font for measuring, once per process. */
export function fontMetrics(weight: FontWeight = 'regular'): FontMetrics {
  let m = metricsCache.get(weight);
  if (!m) {
    m = new FontMetrics(loadFontBytes(weight));
    metricsCache.set(weight, m);
  }
  return m;
}

/**
 * Text as we draw it: Unicode NFC (a name typed as "o" + combining diaeresis becomes "ö", which the
 * font has, since combining marks would need layout tables we dropped), control characters and line
 * breaks turned into spaces, runs of white space collapsed.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
}

/** The parts of a font's PDF embedding that do not depend on the document: built once per process. */
interface EmbeddingParts {
  fontFile: Uint8Array;
  fontFileLength: number;
  toUnicode: Uint8Array;
  widths: (number | number[])[];
  baseFont: string;
  descriptor: Record<string, number | number[]>;
}
const partsCache = new Map<FontWeight, EmbeddingParts>();

function embeddingParts(weight: FontWeight): EmbeddingParts {
  const cached = partsCache.get(weight);
  if (cached) return cached;
  {
    const bytes = loadFontBytes(weight);
    const m = fontMetrics(weight);
    const f = m.font;
    const scale = 1000 / f.unitsPerEm;
    const r = (n: number): number => Math.round(n * scale);
    const parts: EmbeddingParts = {
      fontFile: deflateSync(bytes, { level: 9 }),
      fontFileLength: bytes.length,
      toUnicode: deflateSync(Buffer.from(m.toUnicodeCMap(), 'latin1'), { level: 9 }),
      widths: m.pdfWidths(),
      baseFont: f.postscriptName ?? (weight === 'bold' ? 'DejaVuSans-Bold' : 'DejaVuSans'),
      descriptor: {
        // 32 = Nonsymbolic (Latin text font); 2^18 = ForceBold for the bold face.
        Flags: weight === 'bold' ? 32 + 2 ** 18 : 32,
        FontBBox: [r(f.bbox.minX), r(f.bbox.minY), r(f.bbox.maxX), r(f.bbox.maxY)],
        ItalicAngle: f.italicAngle,
        Ascent: r(f.ascent),
        Descent: r(f.descent),
        CapHeight: r(f.capHeight),
        XHeight: r(f.xHeight),
        // Not in TrueType fonts; a conventional estimate (regular ~80, bold ~140) is what writers use.
        StemV: weight === 'bold' ? 140 : 80,
      },
    };
    partsCache.set(weight, parts);
    return parts;
  }
}

/**
 * Embed the whole font file as a Type0 / CIDFontType2 font with Identity-H encoding and
 * CIDToGIDMap /Identity: a content stream shows glyph ids (`FontMetrics.encode`), widths and ToUnicode
 * cover every glyph. The compressed streams are computed once per process and shared by every document.
 */
export function embedFont(doc: PDFDocument, weight: FontWeight): PDFRef {
  const p = embeddingParts(weight);
  const ctx = doc.context;
  const fontFile = ctx.register(ctx.stream(p.fontFile, { Filter: 'FlateDecode', Length1: p.fontFileLength }));
  const descriptor = ctx.register(
    ctx.obj({ Type: 'FontDescriptor', FontName: p.baseFont, ...p.descriptor, FontFile2: fontFile }),
  );
  const cidFont = ctx.register(
    ctx.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: p.baseFont,
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: descriptor,
      CIDToGIDMap: 'Identity',
      W: p.widths,
    }),
  );
  const toUnicode = ctx.register(ctx.stream(p.toUnicode, { Filter: 'FlateDecode' }));
  return ctx.register(
    ctx.obj({
      Type: 'Font',
      Subtype: 'Type0',
      BaseFont: p.baseFont,
      Encoding: 'Identity-H',
      DescendantFonts: [cidFont],
      ToUnicode: toUnicode,
    }),
  );
}

/** The name a font resource has in our pages and in `/AcroForm /DR`. */
export const fontResourceName = (weight: FontWeight): PDFName => PDFName.of(FONT_RESOURCE_NAME[weight]);

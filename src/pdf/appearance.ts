// The visible signature (ISO 32000-1 §12.7.3.1 widget appearance, §12.8 signature fields): a form
// XObject for the widget's /AP /N with the signer's name, "Signerat med e-legitimation", the place and
// the date and time in Swedish time. Never the personal identity number.
//
// It draws with the fonts the form already carries in /AcroForm /DR (embedded whole by the renderer,
// Type0/Identity-H, see fonts.ts), so signing embeds and subsets no font: it only measures. The font is
// read from the document itself, so a document keeps signing correctly whichever template version (and
// font file) it was rendered from; the parsed font is cached per process by the hash of its bytes.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { AppError } from '../errors.ts';
import type { PdfFile } from './cos/document.ts';
import { dict, name, type PdfDict, PdfName, type PdfObject, PdfRef, PdfStream } from './cos/objects.ts';
import { formatStockholmDateTime } from './datetime.ts';
import { FONT_RESOURCE_NAME, FontMetrics, normalizeText } from './fonts.ts';
import { fitText, LINE_HEIGHT } from './layout.ts';

export const SIGNED_WITH_TEXT = 'Signerat med e-legitimation';

interface DocumentFont {
  resourceName: string;
  ref: PdfRef;
  metrics: FontMetrics;
  /** The PDF's /W widths by glyph id (1/1000 em), where they are given. */
  pdfWidths: Map<number, number>;
  defaultWidth: number;
}

const metricsCache = new Map<string, FontMetrics>();
const MAX_CACHED_FONTS = 16;

function metricsFor(fontFile: PdfStream, file: PdfFile): FontMetrics {
  const key = createHash('sha256').update(fontFile.raw).digest('hex');
  let m = metricsCache.get(key);
  if (!m) {
    m = new FontMetrics(file.decodeStream(fontFile));
    if (metricsCache.size >= MAX_CACHED_FONTS) metricsCache.delete(metricsCache.keys().next().value!);
    metricsCache.set(key, m);
  }
  return m;
}

/** Parse a CIDFont /W array (ISO 32000-1 §9.7.4.3). */
function parseWidths(w: PdfObject, file: PdfFile): Map<number, number> {
  const out = new Map<number, number>();
  const arr = file.resolve(w);
  if (!Array.isArray(arr)) return out;
  for (let i = 0; i < arr.length;) {
    const first = arr[i];
    const next = file.resolve(arr[i + 1]);
    if (typeof first !== 'number') break;
    if (Array.isArray(next)) {
      next.forEach((v, k) => {
        if (typeof v === 'number') out.set(first + k, v);
      });
      i += 2;
    } else {
      const last = next;
      const width = arr[i + 2];
      if (typeof last !== 'number' || typeof width !== 'number') break;
      for (let c = first; c <= last; c++) out.set(c, width);
      i += 3;
    }
  }
  return out;
}

/** The form font under `resourceName` in /AcroForm /DR /Font, if it is one we can draw with. */
function documentFont(file: PdfFile, drFonts: PdfDict, resourceName: string): DocumentFont | undefined {
  const ref = drFonts.get(resourceName);
  if (!(ref instanceof PdfRef)) return undefined;
  const font = file.resolveDict(ref);
  if (font?.name('Subtype') !== 'Type0' || font.name('Encoding') !== 'Identity-H') return undefined;
  const descendants = file.resolve(font.get('DescendantFonts'));
  const cid = Array.isArray(descendants) ? file.resolveDict(descendants[0]) : undefined;
  if (cid?.name('Subtype') !== 'CIDFontType2') return undefined;
  const map = cid.get('CIDToGIDMap');
  if (map !== undefined && !(map instanceof PdfName && map.value === 'Identity')) return undefined;
  const descriptor = file.resolveDict(cid.get('FontDescriptor'));
  const fontFile = file.resolve(descriptor?.get('FontFile2'));
  if (!(fontFile instanceof PdfStream)) return undefined;
  const dw = file.resolve(cid.get('DW'));
  return {
    resourceName,
    ref,
    metrics: metricsFor(fontFile, file),
    pdfWidths: parseWidths(cid.get('W') ?? null, file),
    defaultWidth: typeof dw === 'number' ? dw : 1000,
  };
}

export interface SignatureFonts {
  regular: DocumentFont;
  bold: DocumentFont;
}

/** The fonts for the appearance: the form's regular and bold fonts (bold falls back to regular). */
export function signatureFonts(file: PdfFile, acroForm: PdfDict): SignatureFonts {
  const dr = file.resolveDict(acroForm.get('DR'));
  const fonts = file.resolveDict(dr?.get('Font'));
  const regular = fonts && documentFont(file, fonts, FONT_RESOURCE_NAME.regular);
  if (!regular)
    throw new AppError('signing_failed', 'The form has no embedded font for the signature appearance');
  const bold = (fonts && documentFont(file, fonts, FONT_RESOURCE_NAME.bold)) ?? regular;
  return { regular, bold };
}

// ---------------------------------------------------------------------------------------------------

export interface AppearanceText {
  signerName: string;
  place: string;
  signedAt: Date;
}

const fmt = (n: number): string => (Math.round(n * 100) / 100).toString();

/** One line of text as `TJ`, with kerning-free positions corrected where the PDF's /W differs. */
function showText(font: DocumentFont, text: string): string {
  const parts: string[] = [];
  let run = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const gid = font.metrics.glyphId(cp)!;
    run += gid.toString(16).padStart(4, '0');
    const wanted = font.metrics.widthOf(ch, 1000);
    const given = font.pdfWidths.get(gid) ?? font.defaultWidth;
    if (Math.abs(given - wanted) > 0.5) {
      parts.push(`<${run}>`, fmt(given - wanted));
      run = '';
    }
  }
  if (run) parts.push(`<${run}>`);
  return `[${parts.join(' ')}] TJ`;
}

interface Block {
  font: DocumentFont;
  text: string;
  size: number;
  minSize: number;
}

/**
 * The appearance stream for a widget of `width` × `height` points. Text shrinks and wraps to stay
 * inside the box; it is never cut.
 */
export function buildAppearance(
  fonts: SignatureFonts,
  width: number,
  height: number,
  text: AppearanceText,
): PdfStream {
  const signerName = normalizeText(text.signerName);
  const placeTime = `${normalizeText(text.place)}, ${formatStockholmDateTime(text.signedAt, { seconds: false })}`;
  const blocks: Block[] = [
    { font: fonts.bold, text: signerName, size: 10.5, minSize: 8 },
    { font: fonts.regular, text: SIGNED_WITH_TEXT, size: 8, minSize: 6 },
    { font: fonts.regular, text: placeTime, size: 8, minSize: 6 },
  ];
  for (const b of blocks) {
    const missing = b.font.metrics.missing(b.text);
    // The count only: the characters would be personal data in a log.
    if (missing.length)
      throw new AppError(
        'signing_failed',
        `The form's font cannot draw ${missing.length} character(s) of the signature text`,
      );
  }

  const pad = 4;
  const maxWidth = width - 2 * pad;
  const available = height - 2 * pad;
  let scale = 1;
  let fitted = blocks.map((b) => ({
    b,
    fit: fitText(b.text, b.font.metrics, { size: b.size, minSize: b.minSize, maxWidth }),
  }));
  // Too tall (a very long name wraps onto many lines): everything smaller, until it fits.
  while (fitted.reduce((h, f) => h + f.fit.height, 0) > available && scale > 0.3) {
    scale *= 0.9;
    fitted = blocks.map((b) => ({
      b,
      fit: fitText(b.text, b.font.metrics, { size: b.size * scale, minSize: b.minSize * scale, maxWidth }),
    }));
  }

  let ops = 'q\n0.55 0.6 0.65 RG 0.6 w\n';
  ops += `0.3 0.3 ${fmt(width - 0.6)} ${fmt(height - 0.6)} re S\nBT\n0 0 0 rg\n`;
  // The text block sits in the middle of the box.
  const total = fitted.reduce((h, f) => h + f.fit.height, 0);
  let y = height - pad - Math.max(0, (available - total) / 2);
  for (const { b, fit } of fitted) {
    const { ascent } = b.font.metrics.verticalMetrics(fit.size);
    const lead = fit.size * LINE_HEIGHT;
    ops += `/${b.font.resourceName} ${fmt(fit.size)} Tf\n`;
    fit.lines.forEach((line, i) => {
      const baseline = y - (lead - fit.size) / 2 - ascent - i * lead;
      ops += `1 0 0 1 ${fmt(pad)} ${fmt(baseline)} Tm ${showText(b.font, line)}\n`;
    });
    y -= fit.height;
  }
  ops += 'ET\nQ\n';

  const fontResources = dict({ [fonts.regular.resourceName]: fonts.regular.ref });
  fontResources.set(fonts.bold.resourceName, fonts.bold.ref);
  return new PdfStream(
    dict({
      Type: name('XObject'),
      Subtype: name('Form'),
      BBox: [0, 0, width, height],
      Resources: dict({ Font: fontResources }),
      Filter: name('FlateDecode'),
    }),
    deflateSync(Buffer.from(ops, 'latin1')),
  );
}

// A small page builder over pdf-lib shared by the form and the receipt: top-down coordinates, blocks
// that flow onto new pages without splitting, footers drawn once the page count is known, and the
// embedded fonts. pdf-lib's own coordinates start at the bottom left; only this file converts.
import {
  beginText,
  type Color,
  endText,
  LineCapStyle,
  PDFDocument,
  PDFHexString,
  type PDFPage,
  type PDFRef,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  setFillingColor,
  setFontAndSize,
  setTextMatrix,
  showText,
} from '@cantoo/pdf-lib';
import { embedFont, type FontMetrics, type FontWeight, fontMetrics, fontResourceName } from './fonts.ts';
import { LINE_HEIGHT, wrapText } from './layout.ts';
import type { TemplateLayout } from './template.ts';

/** Something drawn as one piece: never split across pages. */
export interface Block {
  height: number;
  /** Keep on the same page as the next block (a heading with its first row, a whole section). */
  keepWithNext?: boolean;
  /** Pure space: dropped at the bottom or top of a page instead of pushing content on. */
  spacer?: boolean;
  draw(canvas: PdfCanvas, top: number): void;
}

export interface TextStyle {
  weight?: FontWeight;
  size: number;
  colour?: Color;
}

export const hexToRgb = (hex: string): Color =>
  rgb(
    Number.parseInt(hex.slice(1, 3), 16) / 255,
    Number.parseInt(hex.slice(3, 5), 16) / 255,
    Number.parseInt(hex.slice(5, 7), 16) / 255,
  );

const round = (n: number): number => Math.round(n * 100) / 100;

export class PdfCanvas {
  readonly doc: PDFDocument;
  readonly layout: TemplateLayout;
  /** The embedded fonts (Type0 font dictionaries), also listed in each page's resources. */
  readonly fonts: Readonly<Record<FontWeight, PDFRef>>;
  readonly metrics: Readonly<Record<FontWeight, FontMetrics>>;
  readonly colours: Readonly<Record<keyof TemplateLayout['colour'], Color>>;
  readonly pages: PDFPage[] = [];
  /** Distance of the drawing cursor from the top of the current page. */
  y = 0;
  private target: PDFPage | undefined;

  private constructor(doc: PDFDocument, layout: TemplateLayout) {
    this.doc = doc;
    this.layout = layout;
    this.fonts = { regular: embedFont(doc, 'regular'), bold: embedFont(doc, 'bold') };
    this.metrics = { regular: fontMetrics('regular'), bold: fontMetrics('bold') };
    const c = layout.colour;
    this.colours = {
      text: hexToRgb(c.text),
      muted: hexToRgb(c.muted),
      rule: hexToRgb(c.rule),
      band: hexToRgb(c.band),
      accent: hexToRgb(c.accent),
    };
    this.addPage();
  }

  static async create(layout: TemplateLayout): Promise<PdfCanvas> {
    // updateMetadata: false: we write the Info dictionary ourselves (no pdf-lib producer string).
    const doc = await PDFDocument.create({ updateMetadata: false });
    return new PdfCanvas(doc, layout);
  }

  /** The page the primitives draw on: the last page, or the one `onPage` points at. */
  get page(): PDFPage {
    return this.target ?? this.pages.at(-1)!;
  }
  get pageHeight(): number {
    return this.layout.pageSize[1];
  }
  get left(): number {
    return this.layout.margin.left;
  }
  get contentWidth(): number {
    return this.layout.pageSize[0] - this.layout.margin.left - this.layout.margin.right;
  }
  get contentBottom(): number {
    return this.pageHeight - this.layout.margin.bottom;
  }
  get contentHeight(): number {
    return this.contentBottom - this.layout.margin.top;
  }

  addPage(): void {
    const page = this.doc.addPage(this.layout.pageSize);
    for (const weight of ['regular', 'bold'] as const) {
      page.node.setFontDictionary(fontResourceName(weight), this.fonts[weight]);
    }
    this.pages.push(page);
    this.y = this.layout.margin.top;
  }

  /**
   * Place blocks in order. Runs of blocks marked keepWithNext stay on one page (moving to a fresh page
   * if needed); a run taller than a whole page is placed block by block.
   */
  flow(blocks: Block[]): void {
    let i = 0;
    while (i < blocks.length) {
      let end = i;
      while (end < blocks.length - 1 && blocks[end]!.keepWithNext) end++;
      const run = blocks.slice(i, end + 1);
      const runHeight = run.reduce((h, b) => h + b.height, 0);
      i = end + 1;
      if (run.length === 1 && run[0]!.spacer) {
        const fits = this.y + runHeight <= this.contentBottom;
        if (fits && this.y > this.layout.margin.top) this.y += runHeight;
        continue;
      }
      if (this.y + runHeight > this.contentBottom && runHeight <= this.contentHeight) this.addPage();
      for (const block of run) {
        if (this.y + block.height > this.contentBottom && this.y > this.layout.margin.top) this.addPage();
        block.draw(this, this.y);
        this.y += block.height;
      }
    }
  }

  /** Vertical space between blocks; never starts a page or pushes content onto the next one. */
  static gap(height: number): Block {
    return { height, spacer: true, draw: () => {} };
  }

  // --- Drawing, in top-down coordinates on the current page ---

  /** Draw one line of text with its baseline `baseline` points below the page top. */
  text(s: string, x: number, baseline: number, style: TextStyle): void {
    if (!s) return;
    // Our own text operators (not page.drawText): glyph ids come from our cached metrics, and every
    // page names the fonts /SamtyckeSans and /SamtyckeSansBold, as the AcroForm /DR does.
    const weight = style.weight ?? 'regular';
    this.page.pushOperators(
      pushGraphicsState(),
      setFillingColor(style.colour ?? this.colours.text),
      beginText(),
      setFontAndSize(fontResourceName(weight), style.size),
      setTextMatrix(1, 0, 0, 1, round(x), round(this.pageHeight - baseline)),
      showText(PDFHexString.of(this.metrics[weight].encode(s))),
      endText(),
      popGraphicsState(),
    );
  }

  /** Baseline offset from the top of a line box: the font's ascent+descent centred in the box. */
  baselineOffset(style: TextStyle): number {
    const { ascent, descent } = this.metrics[style.weight ?? 'regular'].verticalMetrics(style.size);
    return (style.size * LINE_HEIGHT - ascent - descent) / 2 + ascent;
  }

  /** Draw lines from `top` (the top of the first line box). Returns the height used. */
  lines(lines: string[], x: number, top: number, style: TextStyle): number {
    const lh = style.size * LINE_HEIGHT;
    const offset = this.baselineOffset(style);
    lines.forEach((line, i) => {
      this.text(line, x, top + i * lh + offset, style);
    });
    return lines.length * lh;
  }

  /** Wrapped paragraph: returns the lines, so a Block can know its height before drawing. */
  wrap(s: string, width: number, style: TextStyle): string[] {
    return wrapText(s, this.metrics[style.weight ?? 'regular'], style.size, width);
  }

  width(s: string, style: TextStyle): number {
    return this.metrics[style.weight ?? 'regular'].widthOf(s, style.size);
  }

  rect(
    x: number,
    top: number,
    width: number,
    height: number,
    opts: { fill?: Color; stroke?: Color; lineWidth?: number },
  ): void {
    this.page.drawRectangle({
      x,
      y: this.pageHeight - top - height,
      width,
      height,
      color: opts.fill,
      borderColor: opts.stroke,
      borderWidth: opts.stroke ? (opts.lineWidth ?? 0.6) : 0,
    });
  }

  line(x1: number, y1: number, x2: number, y2: number, colour: Color, thickness = 0.6): void {
    this.page.drawLine({
      start: { x: x1, y: this.pageHeight - y1 },
      end: { x: x2, y: this.pageHeight - y2 },
      thickness,
      color: colour,
      lineCap: LineCapStyle.Butt,
    });
  }

  /** Footer on every page, under a thin rule: `left` at the left margin, `right(page, pages)` at the right. */
  footers(left: string, right: (page: number, pages: number) => string): void {
    const style: TextStyle = { size: this.layout.fontSize.footer, colour: this.colours.muted };
    const ruleY = this.contentBottom + 18;
    const baseline = ruleY + style.size + 5;
    const rightEdge = this.left + this.contentWidth;
    this.pages.forEach((page, i) => {
      this.target = page;
      this.line(this.left, ruleY, rightEdge, ruleY, this.colours.rule, 0.4);
      this.text(left, this.left, baseline, style);
      const r = right(i + 1, this.pages.length);
      this.text(r, rightEdge - this.width(r, style), baseline, style);
    });
    this.target = undefined;
  }
}

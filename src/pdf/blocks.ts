// Building blocks shared by the form and the receipt: section title bands, rows of boxed fields,
// paragraphs. Each returns Blocks with a known height, so PdfCanvas.flow can paginate them.
import { type Block, PdfCanvas, type TextStyle } from './canvas.ts';
import { fitText, LINE_HEIGHT } from './layout.ts';

/** Inner padding of boxes, points. */
export const PAD = 5;

/** Text styles from a template's type sizes. */
export function styles(c: PdfCanvas) {
  const f = c.layout.fontSize;
  return {
    heading: { size: f.heading, weight: 'bold' } as TextStyle,
    subheading: { size: f.subheading } as TextStyle,
    sectionTitle: { size: f.sectionTitle, weight: 'bold' } as TextStyle,
    label: { size: f.label } as TextStyle,
    value: { size: f.value } as TextStyle,
    body: { size: f.body } as TextStyle,
  };
}

export const lineHeight = (style: TextStyle): number => style.size * LINE_HEIGHT;

/** A section title on a light band with an accent bar; kept with what follows it. */
export function titleBlock(c: PdfCanvas, title: string): Block {
  const st = styles(c).sectionTitle;
  const height = lineHeight(st) + 8;
  return {
    height,
    keepWithNext: true,
    draw(canvas, top) {
      canvas.rect(canvas.left, top, canvas.contentWidth, height, { fill: canvas.colours.band });
      canvas.rect(canvas.left, top, 3, height, { fill: canvas.colours.accent });
      canvas.lines([title], canvas.left + 10, top + 4, { ...st, colour: canvas.colours.accent });
    },
  };
}

/**
 * The heading at the top of the first page: the document's title when there is one, the heading, a
 * subtitle, a short muted intro and an accent rule. Without a title it draws exactly what it always drew,
 * so documents of older template versions render byte for byte as before.
 */
export function headingBlock(
  c: PdfCanvas,
  heading: string,
  subheading: string | undefined,
  intro: string,
  title?: string,
): Block {
  const s = styles(c);
  const width = c.contentWidth;
  // Under a title, the heading steps down to the heading size and the title takes the larger one.
  const titleStyle: TextStyle = { size: c.layout.fontSize.title ?? s.heading.size, weight: 'bold' };
  const t = title ? c.wrap(title, width, titleStyle) : [];
  const h = c.wrap(heading, width, s.heading);
  const sub = subheading ? c.wrap(subheading, width, s.subheading) : [];
  const introLines = c.wrap(intro, width, s.body);
  const height =
    (t.length > 0 ? t.length * lineHeight(titleStyle) + 3 : 0) +
    h.length * lineHeight(s.heading) +
    2 +
    sub.length * lineHeight(s.subheading) +
    8 +
    introLines.length * lineHeight(s.body) +
    10;
  return {
    height,
    draw(canvas, top) {
      let y = top;
      if (t.length > 0)
        y += canvas.lines(t, canvas.left, y, { ...titleStyle, colour: canvas.colours.accent }) + 3;
      y += canvas.lines(h, canvas.left, y, { ...s.heading, colour: canvas.colours.accent }) + 2;
      y += canvas.lines(sub, canvas.left, y, s.subheading) + 8;
      y += canvas.lines(introLines, canvas.left, y, { ...s.body, colour: canvas.colours.muted });
      canvas.line(canvas.left, y + 6, canvas.left + canvas.contentWidth, y + 6, canvas.colours.accent, 1.2);
    },
  };
}

/** A boxed field: `value` text, or a boolean for a tick box whose text is the label. */
export interface FieldCell {
  label: string;
  /** Fraction of the content width. */
  width: number;
  value: string | boolean;
}

/**
 * Rows of boxed fields: a small label at the top of each box and the value below it, shrunk (down to the
 * template's valueMin) or wrapped to fit; a row is as tall as its tallest box. Rows of one group stay
 * together on a page.
 */
export function fieldRows(c: PdfCanvas, rows: FieldCell[][]): Block[] {
  const s = styles(c);
  const labelH = lineHeight(s.label);
  return rows.map((row, rowIndex) => {
    const cells = row.map((cell) => {
      const width = cell.width * c.contentWidth;
      if (typeof cell.value === 'boolean') {
        const lines = c.wrap(cell.label, width - 2 * PAD - 18, s.value);
        return {
          cell,
          width,
          checked: cell.value,
          size: s.value.size,
          lines,
          height: 2 * PAD + lines.length * lineHeight(s.value),
        };
      }
      const fit = fitText(cell.value, c.metrics.regular, {
        size: s.value.size,
        minSize: c.layout.fontSize.valueMin,
        maxWidth: width - 2 * PAD,
      });
      return {
        cell,
        width,
        checked: undefined,
        size: fit.size,
        lines: fit.lines,
        height: PAD - 2 + labelH + 1 + fit.height + PAD - 1,
      };
    });
    const height = Math.max(30, ...cells.map((cell) => cell.height));
    return {
      height,
      keepWithNext: rowIndex < rows.length - 1,
      draw(canvas, top) {
        let x = canvas.left;
        for (const { cell, width, checked, size, lines } of cells) {
          canvas.rect(x, top, width, height, { stroke: canvas.colours.rule, lineWidth: 0.6 });
          if (checked === undefined) {
            canvas.lines([cell.label], x + PAD, top + PAD - 2, { ...s.label, colour: canvas.colours.muted });
            canvas.lines(lines, x + PAD, top + PAD - 2 + labelH + 1, { size });
          } else {
            drawCheckbox(canvas, x + PAD + 2, top + height / 2 - 5.5, checked);
            const textH = lines.length * lineHeight(s.value);
            canvas.lines(lines, x + PAD + 18, top + (height - textH) / 2, s.value);
          }
          x += width;
        }
      },
    };
  });
}

/** A tick box. Ticked is a bold "X": it reads as ticked on paper and as "X" in extracted text. */
function drawCheckbox(c: PdfCanvas, x: number, top: number, checked: boolean): void {
  const size = 11;
  c.rect(x, top, size, size, { stroke: c.colours.text, lineWidth: 0.8 });
  if (checked) {
    const st: TextStyle = { size: 9, weight: 'bold' };
    c.text('X', x + (size - c.width('X', st)) / 2, top + size / 2 + 3.3, st);
  }
}

/** Paragraphs of body text, indented to line up with section titles. */
export function paragraphBlocks(c: PdfCanvas, paragraphs: string[], style?: Partial<TextStyle>): Block[] {
  const st: TextStyle = { ...styles(c).body, ...style };
  return paragraphs.map((p, i) => {
    const lines = c.wrap(p, c.contentWidth - 10, st);
    const height = lines.length * lineHeight(st) + 6 + (i < paragraphs.length - 1 ? 0 : 4);
    return { height, draw: (canvas, top) => void canvas.lines(lines, canvas.left + 10, top + 6, st) };
  });
}

/** A section: title, then its blocks kept on one page when they fit, then the template's section gap. */
export function section(c: PdfCanvas, title: string, body: Block[]): Block[] {
  const kept = body.map((b, i) => ({ ...b, keepWithNext: i < body.length - 1 }));
  return [titleBlock(c, title), ...kept, PdfCanvas.gap(c.layout.sectionGap)];
}

// A QR code drawn as vector squares in the page's content (one path, one fill): no image, so nothing to
// embed or colour-manage under PDF/A, and it stays sharp when printed. The receipt carries one with the
// public verification page's link (issue 16 §7).
import {
  type Color,
  fill,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  setFillingColor,
} from '@cantoo/pdf-lib';
import type { PdfCanvas } from './canvas.ts';

export interface QrMatrix {
  /** Modules per side, without the quiet zone. */
  size: number;
  dark(row: number, col: number): boolean;
}

/** Modules of quiet zone around the symbol (ISO/IEC 18004 asks for 4). */
export const QUIET_ZONE = 4;

/** The QR code of `text` (error correction M: survives a crease or a stain on a printed receipt). */
export async function qrMatrix(text: string): Promise<QrMatrix> {
  // Loaded when a receipt is made, not at start (as the staff pages' links page does).
  const { default: QRCode } = await import('qrcode');
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  return { size: modules.size, dark: (row, col) => modules.get(row, col) === 1 };
}

/** Draws `qr` (with its quiet zone) in a `side`-point square whose top left is (x, top), top-down. */
export function drawQr(canvas: PdfCanvas, qr: QrMatrix, x: number, top: number, side: number, colour: Color) {
  const cell = side / (qr.size + 2 * QUIET_ZONE);
  const bottom = canvas.pageHeight - top - side;
  const ops = [pushGraphicsState(), setFillingColor(colour)];
  for (let row = 0; row < qr.size; row++) {
    // A run of dark modules in a row is one rectangle: fewer operators, no hairline seams between them.
    let col = 0;
    while (col < qr.size) {
      if (!qr.dark(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < qr.size && qr.dark(row, col)) col++;
      const px = x + (start + QUIET_ZONE) * cell;
      const py = bottom + (qr.size + QUIET_ZONE - row - 1) * cell;
      ops.push(rectangle(round(px), round(py), round((col - start) * cell), round(cell)));
    }
  }
  ops.push(fill(), popGraphicsState());
  canvas.page.pushOperators(...ops);
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

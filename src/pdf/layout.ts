// Text measuring, wrapping and fitting. Pure functions over FontMetrics: no PDF objects here.
// Rule: text is never cut. A value that does not fit first shrinks (to a floor that stays readable),
// then wraps onto more lines; the box around it grows instead.
import type { FontMetrics } from './fonts.ts';

/** Line height as a multiple of the font size. */
export const LINE_HEIGHT = 1.25;

/**
 * Greedy word wrap. Breaks at spaces; a word longer than the line breaks after a hyphen if it has one,
 * otherwise between characters. Every character of `text` (bar the spaces a break replaces) is kept.
 */
export function wrapText(text: string, metrics: FontMetrics, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((w) => w.length > 0)) {
    const candidate = line ? `${line} ${word}` : word;
    if (metrics.widthOf(candidate, size) <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    // The word alone is too wide: break it, keeping the last piece open for the next word.
    const pieces = breakWord(word, metrics, size, maxWidth);
    lines.push(...pieces.slice(0, -1));
    line = pieces.at(-1) ?? '';
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

function breakWord(word: string, metrics: FontMetrics, size: number, maxWidth: number): string[] {
  if (metrics.widthOf(word, size) <= maxWidth) return [word];
  const chars = [...word];
  const pieces: string[] = [];
  let start = 0;
  while (start < chars.length) {
    // Longest prefix that fits (at least one character, so this always moves on).
    let end = start + 1;
    while (end < chars.length && metrics.widthOf(chars.slice(start, end + 1).join(''), size) <= maxWidth)
      end++;
    if (end < chars.length) {
      // Prefer to break just after a hyphen inside the piece (double-barrelled names).
      const hyphen = chars.slice(start, end).lastIndexOf('-');
      if (hyphen > 0) end = start + hyphen + 1;
    }
    pieces.push(chars.slice(start, end).join(''));
    start = end;
  }
  return pieces;
}

export interface FitOptions {
  /** Preferred font size. */
  size: number;
  /** Smallest size to shrink a single line to before wrapping instead. */
  minSize: number;
  maxWidth: number;
}

export interface FittedText {
  size: number;
  lines: string[];
  /** Height of the lines block: lines × size × LINE_HEIGHT. */
  height: number;
}

/** Fit a field value into a width: one line at the preferred size, else shrunk, else wrapped. */
export function fitText(text: string, metrics: FontMetrics, opts: FitOptions): FittedText {
  const natural = metrics.widthOf(text, opts.size);
  if (natural <= opts.maxWidth) return fitted([text], opts.size);
  // Shrink in quarter points: the largest size that still fits on one line.
  const shrunk = Math.floor(((opts.size * opts.maxWidth) / natural) * 4) / 4;
  if (shrunk >= opts.minSize) return fitted([text], shrunk);
  // Too long for one readable line: wrap at the preferred size, which reads better than tiny print.
  return fitted(wrapText(text, metrics, opts.size, opts.maxWidth), opts.size);
}

function fitted(lines: string[], size: number): FittedText {
  return { size, lines, height: lines.length * size * LINE_HEIGHT };
}

/** 12 digits → YYYYMMDD-XXXX, the way Swedish forms print a personal identity number. */
export const formatPersonalNumber = (pn: string): string => `${pn.slice(0, 8)}-${pn.slice(8)}`;

/** Replace `{name}` placeholders. A placeholder without a value is a template bug: fail loudly. */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template placeholder {${key}} has no value`);
    return value;
  });
}

// What personal data looks like in free text: a Swedish personal identity number (10 or 12 digits, with or
// without separator, coordination numbers included) or an e-mail address. The logger masks it in every
// line; the audit trail refuses details that carry it. Pure: text in, text out.
//
// A number reaches a log in more shapes than it is typed in: percent-encoded in a URL or a form body
// (`19850615%2D2340`, any digit as `%3N`, lowercase `%2d`, encoded twice as `%252D`), with `+` or `%20` for
// a space in a query string, with a typographic dash or a no-break space pasted from a document, or in
// full-width digits from an East Asian input method. Each is read as the plain character it stands for
// before the number is looked for, and the whole encoded span is masked.

/**
 * 10 or 12 digits, optional -/+/space separator, a plausible date (day + 60 for coordination numbers); not
 * part of a longer number or a decimal (a full stop that ends a sentence is no decimal point).
 */
const NUMBER = String.raw`(?<!\d|\d\.)(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])[-+ ]?\d{4}(?!\d|\.\d)`;
const PERSONAL_NUMBER = new RegExp(NUMBER, 'g');
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/**
 * A whole UUID (8-4-4-4-12 hex digits, not part of a longer word): an id, never a personal number, though
 * about one random UUID in 1,100 holds a run that reads as one (`6c380274-3372-…`: 38-02-74, a
 * coordination number, then -3372). Masked, it broke the id a log line is found by.
 */
const UUID =
  /(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z-])/g;

/** Characters that stand for a digit, a separator or a space in some encoding; absent, the text is plain. */
const ENCODED = /[%\u00a0\u00ad\u2007\u2009\u2010-\u2015\u202f\u2212\ufe63\uff0b\uff0d\uff10-\uff19]/;

/** Dashes, minus signs and spaces a number may be written with, as the ASCII character they stand for. */
function plainCharacter(c: string): string {
  const code = c.charCodeAt(0);
  if (code >= 0xff10 && code <= 0xff19) return String.fromCharCode(code - 0xff10 + 0x30); // full-width digit
  if (code === 0xff0b) return '+';
  if (
    code === 0xad ||
    (code >= 0x2010 && code <= 0x2015) ||
    code === 0x2212 ||
    code === 0xfe63 ||
    code === 0xff0d
  )
    return '-';
  if (code === 0xa0 || code === 0x2007 || code === 0x2009 || code === 0x202f) return ' ';
  return c;
}

/** One percent-escape, encoded any number of times over (`%2D`, `%252D`, `%25252D`): its byte. */
const ESCAPE = /%(?:25)*([0-9A-Fa-f]{2})/y;

function escapeAt(text: string, at: number): { byte: number; end: number } | undefined {
  ESCAPE.lastIndex = at;
  const m = ESCAPE.exec(text);
  return m ? { byte: parseInt(m[1]!, 16), end: ESCAPE.lastIndex } : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The character a run of percent-escapes at `at` stands for (UTF-8 decoded), and where the run ends. */
function decodeEscapes(text: string, at: number): { char: string; end: number } | undefined {
  const first = escapeAt(text, at);
  if (!first) return undefined;
  if (first.byte < 0x80) return { char: String.fromCharCode(first.byte), end: first.end };
  const length = first.byte >= 0xf0 ? 4 : first.byte >= 0xe0 ? 3 : first.byte >= 0xc0 ? 2 : 0;
  const bytes = [first.byte];
  let end = first.end;
  for (let i = 1; i < length; i++) {
    const next = escapeAt(text, end);
    if (!next) break;
    bytes.push(next.byte);
    end = next.end;
  }
  if (bytes.length !== length) return { char: '\ufffd', end: first.end };
  try {
    return { char: utf8.decode(new Uint8Array(bytes)), end };
  } catch {
    return { char: '\ufffd', end: first.end };
  }
}

/**
 * The text as it reads once decoded, with where each decoded character came from: `starts[i]` is the
 * offset in `text` of the span `view[i]` stands for (one more entry for the end).
 */
function decodedView(text: string): { view: string; starts: number[] } {
  let view = '';
  const starts: number[] = [];
  let i = 0;
  while (i < text.length) {
    starts.push(i);
    const decoded = text[i] === '%' ? decodeEscapes(text, i) : undefined;
    if (decoded) {
      // One character per span: a decoded surrogate pair (outside the BMP) is no digit anyway.
      view += plainCharacter(decoded.char[0]!);
      i = decoded.end;
    } else {
      view += plainCharacter(text[i]!);
      i += 1;
    }
  }
  starts.push(text.length);
  return { view, starts };
}

/** Whether an offset of `text` lies inside a whole UUID of it (looked for once a number is found). */
function insideUuids(text: string): (offset: number) => boolean {
  let spans: (readonly [number, number])[] | undefined;
  return (offset) => {
    spans ??= [...text.matchAll(UUID)].map((m) => [m.index, m.index + m[0].length] as const);
    return spans.some(([from, to]) => offset >= from && offset < to);
  };
}

/** Every personal number in `text`, however encoded, replaced by a placeholder (not inside a UUID). */
function maskPersonalNumbers(text: string): string {
  const inUuid = insideUuids(text);
  if (!ENCODED.test(text))
    return text.replace(PERSONAL_NUMBER, (m: string, offset: number) =>
      inUuid(offset) ? m : '[personnummer]',
    );
  const { view, starts } = decodedView(text);
  let out = '';
  let from = 0;
  for (const m of view.matchAll(PERSONAL_NUMBER)) {
    const start = starts[m.index]!;
    if (inUuid(start)) continue;
    out += `${text.slice(from, start)}[personnummer]`;
    from = starts[m.index + m[0].length]!;
  }
  return out + text.slice(from);
}

/** `text` with every personal number and e-mail address replaced by a placeholder. */
export function maskPersonalData(text: string): string {
  const masked = maskPersonalNumbers(text);
  // Without an @ there is no address, and the pattern is not tried: tried from every position of a long run
  // of letters and digits (an id, a hash), it was most of the time a log line took to mask.
  return masked.includes('@') ? masked.replace(EMAIL, '[e-post]') : masked;
}

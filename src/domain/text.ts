// Text that reaches us from outside (a form, the API, an identity provider): which characters it may hold.
// No name, address, place or note needs a control character, and some cannot be stored at all: PostgreSQL
// refuses U+0000 in text and jsonb, a lone UTF-16 surrogate is not Unicode text (it has no UTF-8 form), and
// U+FFFE/U+FFFF are noncharacters (Unicode §23.7). Refused at the edge, they are a 400 naming the field,
// never a 500 from the database. Free text over several lines (notes, reasons) may hold tab and line breaks.
import { z } from 'zod';

/** C0 controls, DEL and the C1 controls (Unicode general category Cc), U+FFFE/U+FFFF, lone surrogates. */
const NOT_IN_A_LINE = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|\p{Cs}/u;
/** The same, but tab, line feed and carriage return are allowed. */
const NOT_IN_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|\p{Cs}/u;

/** `line`: a name, an address, an id (no control character at all); `lines`: free text (tab, line breaks). */
export type TextKind = 'line' | 'lines';

/** Whether `value` holds a character no text of this kind may hold. */
export function hasForbiddenCharacter(value: string, kind: TextKind = 'line'): boolean {
  return (kind === 'lines' ? NOT_IN_LINES : NOT_IN_A_LINE).test(value);
}

/** The field message (Swedish, like every field message); it never quotes the value. */
export const FORBIDDEN_CHARACTER_MESSAGE =
  'Texten innehåller tecken som inte är tillåtna (till exempel styrtecken).';

/**
 * The one text type for input: a string that holds no forbidden character. Checked first, and when it fails
 * nothing else is checked (one message per field). Chain the field's own rules after it:
 * `textInput().trim().min(1).max(200)`.
 */
export function textInput(options: { kind?: TextKind; error?: string } = {}) {
  const kind = options.kind ?? 'line';
  return z
    .string(options.error === undefined ? undefined : { error: options.error })
    .refine((value) => !hasForbiddenCharacter(value, kind), {
      error: FORBIDDEN_CHARACTER_MESSAGE,
      abort: true,
    });
}

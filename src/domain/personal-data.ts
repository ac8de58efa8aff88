// What personal data looks like in free text: a Swedish personal identity number (10 or 12 digits, with or
// without separator, coordination numbers included) or an e-mail address. The logger masks it in every
// line; the audit trail refuses details that carry it. Pure: text in, text out.

/** 10 or 12 digits, optional -/+ separator, a plausible date (day + 60 for coordination numbers). */
const PERSONAL_NUMBER =
  /(?<![\d.])(?:(?:18|19|20)\d{2}|\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])[-+]?\d{4}(?![\d.])/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** `text` with every personal number and e-mail address replaced by a placeholder. */
export function maskPersonalData(text: string): string {
  return text.replace(PERSONAL_NUMBER, '[personnummer]').replace(EMAIL, '[e-post]');
}

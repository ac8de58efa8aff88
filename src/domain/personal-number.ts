// Swedish personal identity numbers (personnummer, folkbokföringslagen (1991:481) 18 §) and coordination
// numbers (samordningsnummer, 18 a §: the day of birth plus 60).
//
// Our own parser rather than the npm `personnummer` package (v3.2.1, evaluated): that package decides the
// century of a 10-digit number and the `-`/`+` separator from `new Date()`, the process clock, with no way
// to pass a reference date; it reports every problem as one generic error, and its age helper reads
// `Date.now()`. Everything else it does (Luhn, day + 60) is a few lines, written out below.
//
// A PersonalNumber prints masked (`YYYYMMDD-****`) through toString, JSON and util.inspect so that it cannot
// reach a log or an answer by accident. `reveal()` is the one deliberate way to show the whole number.

import { AppError } from '../errors.ts';
import { isValidDate, type LocalDate, localDateFromParts, partsOf } from './dates.ts';

export type PersonalNumberProblem =
  /** Not one of the accepted shapes: YYMMDD[-+]NNNC, YYMMDDNNNC, YYYYMMDD[-+]NNNC, YYYYMMDDNNNC. */
  | 'format'
  /** The control digit (Luhn, modulus 10 with weights 2 and 1) does not match. */
  | 'checksum'
  /** The date part is not a calendar date (also after taking 60 off a coordination number's day). */
  | 'date'
  /** A coordination number with an unknown day or month (day 60 or month 00): no birth date to count age. */
  | 'incomplete_date'
  /** Birth number 000, which is never assigned (födelsenummer 001–999). */
  | 'serial'
  /** A coordination number where the caller asked for a personal identity number only. */
  | 'coordination_not_allowed'
  /** The birth date is after the reference date. */
  | 'date_in_future'
  /** A 12-digit number written with `+` for someone who does not turn 100 or more in the reference year. */
  | 'separator';

export type LegalSex = 'female' | 'male';

export interface ParseOptions {
  /**
   * The date the number is read on (Europe/Stockholm, normally today's date). It decides the century of a
   * 10-digit number: the separator is `-`, and becomes `+` from the calendar year the person turns 100
   * (folkbokföringslagen 18 §), so only the year matters for that. Also used to reject future birth dates.
   */
  referenceDate: LocalDate;
  /** Accept coordination numbers (default true). */
  allowCoordinationNumber?: boolean;
}

export type ParseResult = { ok: true; value: PersonalNumber } | { ok: false; reason: PersonalNumberProblem };

/** Messages for callers (Swedish, shown in forms). They never contain the number. */
export const PROBLEM_MESSAGES: Record<PersonalNumberProblem, string> = {
  format: 'Personnumret har fel format. Skriv 12 siffror, ÅÅÅÅMMDD-NNNN, eller 10 siffror, ÅÅMMDD-NNNN.',
  checksum: 'Personnumrets kontrollsiffra stämmer inte. Kontrollera siffrorna.',
  date: 'Personnumret innehåller inget giltigt födelsedatum.',
  incomplete_date: 'Samordningsnummer utan fullständigt födelsedatum kan inte användas här.',
  serial: 'Personnumrets födelsenummer är ogiltigt.',
  coordination_not_allowed: 'Samordningsnummer kan inte användas här, ange ett personnummer.',
  date_in_future: 'Personnumrets födelsedatum ligger i framtiden.',
  separator: 'Plustecken används bara för den som fyller 100 år eller mer i år.',
};

const INPUT_RE = /^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$/;
const DIGITS_RE = /^\d{12}$/;
const COORDINATION_OFFSET = 60;
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** The Luhn control digit over the 9 digits YYMMDDNNN (Skatteverket: modulus 10, weights 2,1,2,1,…). */
export function luhnControlDigit(nineDigits: string): number {
  let sum = 0;
  for (let i = 0; i < nineDigits.length; i++) {
    const product = Number(nineDigits[i]) * (i % 2 === 0 ? 2 : 1);
    sum += product > 9 ? product - 9 : product;
  }
  return (10 - (sum % 10)) % 10;
}

export class PersonalNumber {
  readonly #digits: string;
  readonly #birthDate: LocalDate;

  private constructor(digits: string, birthDate: LocalDate) {
    this.#digits = digits;
    this.#birthDate = birthDate;
    Object.freeze(this);
  }

  /** Parses any accepted written form. Surrounding white space is ignored. */
  static parse(input: string, options: ParseOptions): ParseResult {
    if (typeof input !== 'string') return fail('format');
    const m = INPUT_RE.exec(input.trim());
    if (m === null) return fail('format');
    const century = m[1];
    const [yy, mm, dd, separator, serial, control] = [m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!];
    const reference = partsOf(options.referenceDate);
    let year: number;
    if (century === undefined) {
      // Latest year ending in yy that is not after the reference year; a `+` moves it a century back.
      year = reference.year - ((((reference.year - Number(yy)) % 100) + 100) % 100);
      if (separator === '+') year -= 100;
    } else {
      year = Number(century + yy);
    }
    if (year < 1) return fail('date');
    const digits = `${pad4(year)}${mm}${dd}${serial}${control}`;
    const checked = PersonalNumber.#check(digits, options.allowCoordinationNumber ?? true);
    if (!checked.ok) return checked;
    if (checked.value.birthDate > options.referenceDate) return fail('date_in_future');
    if (century !== undefined && separator === '+' && reference.year - year < 100) return fail('separator');
    return checked;
  }

  /** Like `parse`, but throws `AppError('invalid_personal_number')` with the reason in `extra.reason`. */
  static parseOrThrow(input: string, options: ParseOptions): PersonalNumber {
    const result = PersonalNumber.parse(input, options);
    if (!result.ok) throw invalidPersonalNumber(result.reason);
    return result.value;
  }

  /**
   * Rebuilds a number from its stored 12 digits (as `digits` gave them). Checks shape, date and control digit
   * again, but not the reference-date rules, which applied when it was first entered.
   */
  static fromDigits(digits: string): PersonalNumber {
    if (typeof digits !== 'string' || !DIGITS_RE.test(digits)) throw invalidPersonalNumber('format');
    const result = PersonalNumber.#check(digits, true);
    if (!result.ok) throw invalidPersonalNumber(result.reason);
    return result.value;
  }

  /** The normalised 12 digits YYYYMMDDNNNC, for storage and comparison. Never log it. */
  get digits(): string {
    return this.#digits;
  }

  /**
   * The birth date the number states (for a coordination number, the day minus 60). Since 2009 Skatteverket
   * may use a neighbouring day of the month when a date runs out of birth numbers (FOL 18 §), so for a few
   * people this is off by some days; the form carries no other birth date, so ages are counted from it.
   */
  get birthDate(): LocalDate {
    return this.#birthDate;
  }

  get isCoordinationNumber(): boolean {
    return Number(this.#digits.slice(6, 8)) >= COORDINATION_OFFSET;
  }

  /** Legal sex from the third digit of the birth number: odd for men, even for women (FOL 18 §, 18 a §). */
  get legalSex(): LegalSex {
    return Number(this.#digits[10]) % 2 === 1 ? 'male' : 'female';
  }

  equals(other: PersonalNumber): boolean {
    return other instanceof PersonalNumber && other.#digits === this.#digits;
  }

  /** The whole number as `YYYYMMDD-NNNC`, for the few places that must show it (the signed form). */
  reveal(): string {
    return `${this.#digits.slice(0, 8)}-${this.#digits.slice(8)}`;
  }

  /**
   * The whole number in the 10-digit form `YYMMDD-NNNC`, with `+` from the calendar year of `referenceDate`
   * in which the person turns 100 (FOL 18 §).
   */
  revealShort(referenceDate: LocalDate): string {
    const separator = partsOf(referenceDate).year - Number(this.#digits.slice(0, 4)) >= 100 ? '+' : '-';
    return `${this.#digits.slice(2, 8)}${separator}${this.#digits.slice(8)}`;
  }

  /** `YYYYMMDD-****`: the date part only. */
  masked(): string {
    return `${this.#digits.slice(0, 8)}-****`;
  }

  toString(): string {
    return this.masked();
  }

  toJSON(): string {
    return this.masked();
  }

  [Symbol.toPrimitive](): string {
    return this.masked();
  }

  [inspectCustom](): string {
    return `PersonalNumber(${this.masked()})`;
  }

  /** Checks 12 digits YYYYMMDDNNNC: control digit, date (or coordination date), birth number. */
  static #check(digits: string, allowCoordinationNumber: boolean): ParseResult {
    if (luhnControlDigit(digits.slice(2, 11)) !== Number(digits[11])) return fail('checksum');
    const year = Number(digits.slice(0, 4));
    const month = Number(digits.slice(4, 6));
    let day = Number(digits.slice(6, 8));
    const coordination = day >= COORDINATION_OFFSET;
    if (coordination) {
      day -= COORDINATION_OFFSET;
      // Skatteverket writes 00 for a day or month it does not know (day 60 in a coordination number).
      if (month === 0 || day === 0) return fail('incomplete_date');
    }
    if (!isValidDate(year, month, day)) return fail('date');
    if (digits.slice(8, 11) === '000') return fail('serial');
    if (coordination && !allowCoordinationNumber) return fail('coordination_not_allowed');
    return { ok: true, value: new PersonalNumber(digits, localDateFromParts(year, month, day)) };
  }
}

function fail(reason: PersonalNumberProblem): ParseResult {
  return { ok: false, reason };
}

function invalidPersonalNumber(reason: PersonalNumberProblem): AppError {
  return new AppError('invalid_personal_number', PROBLEM_MESSAGES[reason], { extra: { reason } });
}

function pad4(year: number): string {
  return String(year).padStart(4, '0');
}

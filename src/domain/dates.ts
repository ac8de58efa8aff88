// Calendar dates and instants in Swedish local time (Europe/Stockholm).
// Consent validity, ages and birthdays are counted in whole local days, so a calendar date is its own type
// (`LocalDate`, 'YYYY-MM-DD') and only becomes an instant through `startOfLocalDay`. Time is always a
// parameter: nothing here reads the clock.

export const TIME_ZONE = 'Europe/Stockholm';

declare const localDateBrand: unique symbol;
/** A calendar date 'YYYY-MM-DD' (proleptic Gregorian, years 0001–9999), with no time and no zone. */
export type LocalDate = string & { readonly [localDateBrand]: true };

const DAY_MS = 86_400_000;
const LOCAL_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** Whether year/month/day name a real calendar date in the range a LocalDate can hold. */
export const isValidDate = (year: number, month: number, day: number): boolean =>
  Number.isInteger(year) &&
  Number.isInteger(month) &&
  Number.isInteger(day) &&
  year >= 1 &&
  year <= 9999 &&
  month >= 1 &&
  month <= 12 &&
  day >= 1 &&
  day <= daysInMonth(year, month);

export function isLocalDate(value: unknown): value is LocalDate {
  if (typeof value !== 'string') return false;
  const m = LOCAL_DATE_RE.exec(value);
  return m !== null && isValidDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * The dates the service takes from outside (list filters, stated dates, a list cursor's instant): years
 * 1900–2199. A LocalDate can hold years 0001–9999, but the day after 9999-12-31 is none, PostgreSQL's
 * timestamptz ends in year 294276, and no consent, birth or act of this service lies outside this window.
 */
export const DATE_WINDOW = { first: '1900-01-01' as LocalDate, last: '2199-12-31' as LocalDate } as const;
const WINDOW_MS = { from: Date.UTC(1899, 11, 31), to: Date.UTC(2200, 0, 2) } as const;

/** Whether `value` is a calendar date 'YYYY-MM-DD' inside DATE_WINDOW. */
export function isDateInWindow(value: unknown): value is LocalDate {
  return isLocalDate(value) && value >= DATE_WINDOW.first && value <= DATE_WINDOW.last;
}

/** Whether `instant` is a valid time whose day lies inside DATE_WINDOW (a day of slack for time zones). */
export function isInstantInWindow(instant: Date): boolean {
  const ms = instant.getTime();
  return ms >= WINDOW_MS.from && ms < WINDOW_MS.to;
}

/** Checks and brands a 'YYYY-MM-DD' string. Throws RangeError for anything else (a programming error). */
export function localDate(value: string): LocalDate {
  if (!isLocalDate(value)) throw new RangeError('Not a calendar date in the form YYYY-MM-DD');
  return value;
}

export function localDateFromParts(year: number, month: number, day: number): LocalDate {
  if (!isValidDate(year, month, day)) throw new RangeError('Not a calendar date');
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}` as LocalDate;
}

export function partsOf(date: LocalDate): { year: number; month: number; day: number } {
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)), day: Number(date.slice(8, 10)) };
}

/** Negative, zero or positive as in Array.prototype.sort. The ISO form sorts as text. */
export const compareLocalDates = (a: LocalDate, b: LocalDate): number => (a < b ? -1 : a > b ? 1 : 0);

export function addDays(date: LocalDate, days: number): LocalDate {
  if (!Number.isInteger(days)) throw new RangeError('days must be a whole number');
  const { year, month, day } = partsOf(date);
  const d = new Date(utcMidnightMs(year, month, day) + days * DAY_MS);
  return localDateFromParts(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * Adds whole years. A 29 February that does not exist in the target year becomes 28 February: when time is
 * counted in years and the end month has no corresponding day, its last day counts (lag (1930:173) om
 * beräkning av lagstadgad tid, 1 §). So 2028-02-29 + 1 year = 2029-02-28.
 */
export function addYears(date: LocalDate, years: number): LocalDate {
  if (!Number.isInteger(years)) throw new RangeError('years must be a whole number');
  const { year, month, day } = partsOf(date);
  const y = year + years;
  return localDateFromParts(y, month, Math.min(day, daysInMonth(y, month)));
}

/**
 * Age in whole years on `onDate`. A year is added on the birthday as `addYears` counts it, so a person born
 * on 29 February becomes a year older on 28 February in common years.
 *
 * Why 28 February and not 1 March: Swedish law has no special rule for leap-day birthdays; the general rule
 * for periods counted in years (lag (1930:173) om beräkning av lagstadgad tid, 1 §) makes the last day of
 * February the end day when the 29th is missing. It is also the rule the one-year consent validity uses
 * (signed 2028-02-29 → expired from 2029-02-28), and it is the cautious choice here: a child counts as 18
 * (so the guardians' consent ends) and reaches the youth-signature age one day earlier, never later.
 */
export function ageOn(birthDate: LocalDate, onDate: LocalDate): number {
  if (onDate < birthDate) throw new RangeError('onDate is before birthDate');
  const years = partsOf(onDate).year - partsOf(birthDate).year;
  return addYears(birthDate, years) <= onDate ? years : years - 1;
}

/** The day a person born on `birthDate` comes of age: under 18 is underårig (föräldrabalken 9 kap. 1 §). */
export const eighteenthBirthday = (birthDate: LocalDate): LocalDate => addYears(birthDate, 18);

// Intl carries the IANA time-zone data (Node's full ICU); formatters are costly to build, so build it once.
const dateTimeFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function assertValidInstant(instant: Date): void {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) throw new RangeError('Invalid instant');
}

function numericParts(format: Intl.DateTimeFormat, instant: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of format.formatToParts(instant)) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return out;
}

/** The calendar date in Europe/Stockholm at `instant`. */
export function localDateOf(instant: Date): LocalDate {
  assertValidInstant(instant);
  const wall = new Date(instant.getTime() + utcOffsetMs(instant));
  return localDateFromParts(wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate());
}

/** The date and the time of day (hour 0–23) in Europe/Stockholm at `instant`, to the second. */
export function localDateTimeOf(instant: Date): {
  date: LocalDate;
  hour: number;
  minute: number;
  second: number;
} {
  assertValidInstant(instant);
  const wall = new Date(instant.getTime() + utcOffsetMs(instant));
  return {
    date: localDateFromParts(wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

/** The offset as Intl reads it from the time-zone data, at one instant (a few µs: the slow path). */
function intlOffsetMs(ms: number): number {
  const instant = new Date(ms);
  const p = numericParts(dateTimeFormat, instant);
  const wall =
    utcMidnightMs(p.year!, p.month!, p.day!) + ((p.hour! * 60 + p.minute!) * 60 + p.second!) * 1000;
  return wall - (ms - instant.getUTCMilliseconds());
}

// The offset of each UTC hour whose first and last millisecond have the same offset. Europe/Stockholm has
// never changed its offset twice within one hour (its changes are at whole hours since 1900, and the one
// before, from local mean time, is a single change), so such an hour has that offset throughout; an hour
// with a change in it is never stored and is read exactly every time. Every date computation asks for
// offsets (a status check several), and reading them from Intl was most of its CPU time. Bounded: when
// full, it starts over.
const OFFSET_CACHE_LIMIT = 100_000;
const MAX_DATE_MS = 8.64e15;
const hourOffsets = new Map<number, number>();

/** Milliseconds Europe/Stockholm is ahead of UTC at `instant` (3 600 000 in winter, 7 200 000 in summer). */
export function utcOffsetMs(instant: Date): number {
  assertValidInstant(instant);
  const ms = instant.getTime();
  const hour = Math.floor(ms / HOUR_MS);
  const known = hourOffsets.get(hour);
  if (known !== undefined) return known;
  const first = intlOffsetMs(hour * HOUR_MS);
  // (The last hour a Date can hold ends at its limit, 8.64e15 ms.)
  if (first !== intlOffsetMs(Math.min(hour * HOUR_MS + HOUR_MS - 1, MAX_DATE_MS))) return intlOffsetMs(ms);
  if (hourOffsets.size >= OFFSET_CACHE_LIMIT) hourOffsets.clear();
  hourOffsets.set(hour, first);
  return first;
}

/**
 * The instant of 00:00 in Europe/Stockholm on `date`. The offset is looked up for that very night, so a
 * daylight-saving change (at 02:00/03:00 local, on the last Sundays of March and October) never moves the
 * result to another day.
 */
export function startOfLocalDay(date: LocalDate): Date {
  let ms = midnights.get(date);
  if (ms === undefined) {
    ms = computeStartOfLocalDay(date).getTime();
    if (midnights.size >= OFFSET_CACHE_LIMIT) midnights.clear();
    midnights.set(date, ms);
  }
  return new Date(ms);
}

// Midnights already worked out (each costs four offset look-ups): a status check asks for two or three.
const midnights = new Map<LocalDate, number>();

function computeStartOfLocalDay(date: LocalDate): Date {
  const { year, month, day } = partsOf(date);
  const wallMs = utcMidnightMs(year, month, day);
  // Guess with the offset at that wall time read as UTC, then take the offset at the guessed instant itself,
  // which is the right one even when a change falls between the two.
  const guess = wallMs - utcOffsetMs(new Date(wallMs));
  const offset = utcOffsetMs(new Date(guess));
  const before = utcOffsetMs(new Date(guess - 3 * HOUR_MS));
  const after = utcOffsetMs(new Date(guess + 3 * HOUR_MS));
  if (before === offset && after === offset) return new Date(wallMs - offset);
  // A change near midnight (Sweden ended summer time at 01:00 → 00:00 on 1916-10-01, so that midnight came
  // twice): of the offsets in force around it, take the one giving the earliest instant still on `date`.
  let first: number | undefined;
  for (const o of new Set([before, offset, after])) {
    const candidate = wallMs - o;
    if (localDateOf(new Date(candidate)) === date && (first === undefined || candidate < first))
      first = candidate;
  }
  return new Date(first ?? wallMs - offset);
}

/**
 * The instant the clocks in Europe/Stockholm show `hour`:`minute` on `date`. A time that comes twice (the
 * night summer time ends) is its first coming; a time that does not come (the hour skipped the night summer
 * time begins) is the instant as far after the change as the time is after its start (02:30 → 03:30).
 */
export function localInstantOf(date: LocalDate, hour: number, minute: number): Date {
  const within = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;
  if (!within(hour, 23) || !within(minute, 59)) throw new RangeError('Invalid time of day');
  const { year, month, day } = partsOf(date);
  const wallMs = utcMidnightMs(year, month, day) + (hour * 60 + minute) * 60_000;
  // The offsets in force around that wall time (the instant is 1 or 2 hours before it read as UTC): one, or
  // two the night the clocks change.
  const offsets = new Set([wallMs - 3 * HOUR_MS, wallMs].map((ms) => utcOffsetMs(new Date(ms))));
  let first: number | undefined;
  for (const offset of offsets) {
    const candidate = wallMs - offset;
    const shown = localDateTimeOf(new Date(candidate));
    if (shown.date === date && shown.hour === hour && shown.minute === minute)
      first = first === undefined ? candidate : Math.min(first, candidate);
  }
  // Skipped: read with the offset before the change (the larger instant of the two, 01:30 UTC for 02:30).
  return new Date(first ?? wallMs - Math.min(...offsets));
}

const HOUR_MS = 3_600_000;

function utcMidnightMs(year: number, month: number, day: number): number {
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * The last local day an end instant still covers. Validity, link and request ends are exclusive instants
 * (00:00 on the day after); people are told the day before ("gäller till och med").
 */
export const lastDayBefore = (end: Date): LocalDate => localDateOf(new Date(end.getTime() - 1));

const MONTHS_SV = [
  'januari',
  'februari',
  'mars',
  'april',
  'maj',
  'juni',
  'juli',
  'augusti',
  'september',
  'oktober',
  'november',
  'december',
] as const;

/** 2026-04-09 → "9 april 2026": how pages, messages and documents write a date in Swedish. */
export function swedishDate(date: LocalDate): string {
  const { year, month, day } = partsOf(date);
  return `${day} ${MONTHS_SV[month - 1]} ${year}`;
}

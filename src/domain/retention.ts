// Retention and deletion (gallring, issue 16 §4): when a consent's documents and personal data are due to
// be deleted, and what the tombstone that stays keeps (nothing that identifies anyone).
//
// A consent that ended — withdrawn, ended, expired, declined, cancelled or its request lapsed — is kept for
// its organisation's retention time in whole months, counted from the Swedish calendar day it ended, and
// deleted from 00:00 Europe/Stockholm on the day after that many months have passed: ended on 15 March
// with 24 months → kept through 15 March two years later, deleted from 16 March 00:00. A month without
// the day counts its last day (31 August + 6 months → 28/29 February), as periods in months are counted
// under lag (1930:173) 1 §. A consent still pending or active is never due.
import { type ConsentStatusAt, isTerminal, type TerminalStatus } from './consent.ts';
import {
  addDays,
  ageOn,
  daysInMonth,
  type LocalDate,
  localDateFromParts,
  localDateOf,
  partsOf,
  startOfLocalDay,
} from './dates.ts';

/** The retention time when an organisation has set none (RETENTION_MONTHS). */
export const DEFAULT_RETENTION_MONTHS = 24;
/** Limits of a retention time in months: at least a month, at most ten years. */
export const RETENTION_MONTHS = { min: 1, max: 120 } as const;

/** Adds whole months; a day the target month lacks becomes its last day (lag (1930:173) 1 §). */
export function addMonths(date: LocalDate, months: number): LocalDate {
  if (!Number.isInteger(months)) throw new RangeError('months must be a whole number');
  const { year, month, day } = partsOf(date);
  const index = year * 12 + (month - 1) + months;
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  return localDateFromParts(y, m, Math.min(day, daysInMonth(y, m)));
}

/** The instant from which a consent that ended at `endedAt` is due for deletion after `months`. */
export function deletionDueAt(endedAt: Date, months: number): Date {
  if (!Number.isInteger(months) || months < RETENTION_MONTHS.min || months > RETENTION_MONTHS.max)
    throw new RangeError(`months must be a whole number ${RETENTION_MONTHS.min}–${RETENTION_MONTHS.max}`);
  return startOfLocalDay(addDays(addMonths(localDateOf(endedAt), months), 1));
}

export interface RetentionDecision {
  /** The consent's outcome (its terminal status). */
  outcome: TerminalStatus;
  endedAt: Date;
  dueAt: Date;
  due: boolean;
}

/** Whether a consent in `status` (as statusAt says it at `now`) is due for deletion; null while it lives. */
export function retentionDecision(
  status: ConsentStatusAt,
  months: number,
  now: Date,
): RetentionDecision | null {
  if (!isTerminal(status.status)) return null;
  const dueAt = deletionDueAt(status.since, months);
  return { outcome: status.status, endedAt: status.since, dueAt, due: now.getTime() >= dueAt.getTime() };
}

/** Age groups of the child for statistics: wide enough that no group points at a person. */
export const AGE_GROUPS = ['0-5', '6-12', '13-15', '16-17'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];

/** The child's age group on `onDate` (the day the consent was requested). */
export function ageGroup(birthDate: LocalDate, onDate: LocalDate): AgeGroup {
  const age = ageOn(birthDate, onDate);
  if (age <= 5) return '0-5';
  if (age <= 12) return '6-12';
  if (age <= 15) return '13-15';
  return '16-17';
}

/** "2026-03": the Swedish calendar month of an instant, the finest time a tombstone keeps. */
export function yearMonthOf(instant: Date): string {
  return localDateOf(instant).slice(0, 7);
}

// The consent lifecycle and its validity, as a pure function of stored facts and the time of asking.
// Status is computed at read time (never only by a background job), so a status check is right the instant a
// withdrawal is stored or at 00:00 on the expiry day. Rules: ../shared/spec/hlt-consent.md.

import { AppError } from '../errors.ts';
import {
  addDays,
  addYears,
  eighteenthBirthday,
  type LocalDate,
  localDateOf,
  startOfLocalDay,
} from './dates.ts';
import type { SignerRole } from './roles.ts';

export const CONSENT_STATUSES = [
  'pending',
  'active',
  'declined',
  'cancelled',
  'request_expired',
  'withdrawn',
  'ended',
  'expired',
] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Once here, a consent stays here whatever later facts say. */
export const TERMINAL_STATUSES = [
  'declined',
  'cancelled',
  'request_expired',
  'withdrawn',
  'ended',
  'expired',
] as const satisfies readonly ConsentStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export const isTerminal = (status: ConsentStatus): status is TerminalStatus =>
  (TERMINAL_STATUSES as readonly ConsentStatus[]).includes(status);

export type StatusReason =
  | 'awaiting_signatures'
  | 'all_signed'
  | 'declined'
  | 'cancelled'
  | 'request_lifetime_passed'
  | 'withdrawn'
  | 'support_ended'
  | 'one_year_passed'
  | 'child_turned_18';

/** What the database stores about one consent. */
export interface ConsentFacts {
  /** When the request was created. */
  requestedAt: Date;
  /** Set at creation (`requestExpiry`). Exclusive: a signature at this very instant is too late. */
  requestExpiresAt: Date;
  childBirthDate: LocalDate;
  /** The roles that must sign for completion. */
  requiredRoles: readonly SignerRole[];
  signatures: readonly { role: SignerRole; signedAt: Date }[];
  /** Any signer declined. */
  declinedAt?: Date | null;
  /** Staff cancelled before completion. */
  cancelledAt?: Date | null;
  /** Any signer (or staff on their behalf) withdrew. */
  withdrawnAt?: Date | null;
  /** The organisation marked coordinated support ended. May lie ahead: it counts from that instant on. */
  endedAt?: Date | null;
}

export interface ConsentStatusAt {
  status: ConsentStatus;
  reason: StatusReason;
  /** When the consent entered this status (the request time while pending). */
  since: Date;
  /** When the last required signature made it complete; absent if it never was. */
  completedAt?: Date;
  /** Set once the consent was complete: in force from here… */
  validFrom?: Date;
  /** …until here, exclusive. For `active` the scheduled expiry; afterwards the instant it stopped. */
  validUntil?: Date;
  /** While pending: the required roles that have not signed yet, in form order. */
  awaitingRoles?: SignerRole[];
}

export interface ValidityWindow {
  validFrom: Date;
  /** Exclusive. */
  validUntil: Date;
}

export type ExpiryReason = 'one_year_passed' | 'child_turned_18';

/** Default request lifetime (REQUEST_LIFETIME_DAYS). */
export const DEFAULT_REQUEST_LIFETIME_DAYS = 30;

/**
 * When a request made at `requestedAt` lapses if not completed: 00:00 Europe/Stockholm after the
 * `lifetimeDays`-th day from the request date, so signers always get whole days (requested any time on
 * 2026-03-10 with 30 days → lapses 2026-04-10 00:00).
 */
export function requestExpiry(requestedAt: Date, lifetimeDays = DEFAULT_REQUEST_LIFETIME_DAYS): Date {
  if (!Number.isInteger(lifetimeDays) || lifetimeDays < 1) throw new RangeError('lifetimeDays must be ≥ 1');
  return startOfLocalDay(addDays(localDateOf(requestedAt), lifetimeDays + 1));
}

/**
 * When a consent stops being valid by time alone, as the signatures stand: the earlier of 00:00 on the
 * anniversary of the earliest signature's local date (at most one year from signing, counted from the first
 * signer so that it is never more than a year for anyone; 29 February → 28 February, lag (1930:173) 1 §) and
 * 00:00 on the child's 18th birthday (guardians' consent cannot outlast custody, föräldrabalken 6 kap. 2 §).
 * With no signature yet, only the 18th birthday applies. On a tie the reason is `child_turned_18`.
 */
export function scheduledExpiry(facts: ConsentFacts): { at: Date; reason: ExpiryReason } {
  const { at, reason } = scheduledExpiryOf(facts, earliestSignature(facts.signatures));
  return { at, reason };
}

/** The status at `now`. Facts dated after `now` are not counted yet. */
export function statusAt(facts: ConsentFacts, now: Date): ConsentStatusAt {
  assertInstant(now, 'now');
  return resolve(facts, now);
}

/** The window the consent is (or was) in force, from all stored facts; null if it was never complete. */
export function validityWindow(facts: ConsentFacts): ValidityWindow | null {
  const result = resolve(facts, END_OF_TIME);
  if (result.validFrom === undefined || result.validUntil === undefined) return null;
  return { validFrom: result.validFrom, validUntil: result.validUntil };
}

/**
 * Whether an active consent expires by time within `days` local days: from 00:00 on the day `days` days
 * before its expiry date (for the notice to staff to renew it).
 */
export function endingSoon(facts: ConsentFacts, now: Date, days: number): boolean {
  if (!Number.isInteger(days) || days < 0) throw new RangeError('days must be a whole number ≥ 0');
  const current = statusAt(facts, now);
  if (current.status !== 'active' || current.validUntil === undefined) return false;
  return now.getTime() >= startOfLocalDay(addDays(localDateOf(current.validUntil), -days)).getTime();
}

// --- Acts and the states they are allowed in ------------------------------------------------------------

export const CONSENT_ACTS = ['sign', 'decline', 'cancel', 'remind', 'withdraw', 'end', 'renew'] as const;
export type ConsentAct = (typeof CONSENT_ACTS)[number];

/**
 * The states in which each act is allowed. The resulting state is not listed: it follows from the new fact
 * through `statusAt`.
 * - sign, decline, remind: only while the request waits for signatures.
 * - cancel: staff, only before completion.
 * - withdraw: a signer (or staff on their behalf) while pending — ends the request for everyone — or active.
 * - end: coordinated support ended, while active, and also while pending (the request is moot; the status
 *   then becomes `ended` without ever having been active).
 * - renew: makes a new request from this one and leaves this one as it is; for a consent that is active
 *   (expiring), has expired or ended, or whose request lapsed. Not after a decline or withdrawal: those
 *   were the signers' own choice.
 */
export const transitions: Readonly<Record<ConsentAct, readonly ConsentStatus[]>> = {
  sign: ['pending'],
  decline: ['pending'],
  remind: ['pending'],
  cancel: ['pending'],
  withdraw: ['pending', 'active'],
  end: ['pending', 'active'],
  renew: ['active', 'expired', 'ended', 'request_expired'],
};

export const canTransition = (status: ConsentStatus, act: ConsentAct): boolean =>
  transitions[act].includes(status);

/** Throws `AppError('consent_state_conflict')` (409) unless `act` is allowed in `status`. */
export function assertCanTransition(status: ConsentStatus, act: ConsentAct): void {
  if (!canTransition(status, act)) {
    throw new AppError(
      'consent_state_conflict',
      `Det går inte att ${ACT_LABELS_SV[act]} ett samtycke som är ${STATUS_LABELS_SV[status]}.`,
      { extra: { status, act } },
    );
  }
}

/** Swedish adjectives for "ett samtycke som är …". */
export const STATUS_LABELS_SV: Record<ConsentStatus, string> = {
  pending: 'väntande på underskrifter',
  active: 'gällande',
  declined: 'avböjt',
  cancelled: 'avbrutet',
  request_expired: 'förfallet utan att ha undertecknats',
  withdrawn: 'återkallat',
  ended: 'avslutat',
  expired: 'utgånget',
};

const ACT_LABELS_SV: Record<ConsentAct, string> = {
  sign: 'signera',
  decline: 'avböja',
  remind: 'skicka påminnelse om',
  cancel: 'avbryta',
  withdraw: 'återkalla',
  end: 'avsluta',
  renew: 'förnya',
};

// --- Resolution -----------------------------------------------------------------------------------------

const END_OF_TIME = new Date(8.64e15);

/** The events that end a consent carry their own status reason as their name. */
type Ending = Exclude<StatusReason, 'awaiting_signatures' | 'all_signed'>;
type EventKind = Ending | 'completed';

/**
 * Order of events at the same instant. End instants are exclusive, so what happens by time at T comes first
 * (a signature at the very instant the request lapses is too late; a withdrawal at 00:00 on the expiry day
 * finds it expired). Then the acts that end a consent, and completion last: a consent completed at the same
 * instant as it was withdrawn, declined or ended was never in force.
 */
const ORDER: Record<EventKind, number> = {
  child_turned_18: 0,
  one_year_passed: 1,
  request_lifetime_passed: 2,
  withdrawn: 3,
  support_ended: 4,
  declined: 5,
  cancelled: 6,
  completed: 7,
};

const PENDING_OUTCOME: Record<Ending, ConsentStatus> = {
  child_turned_18: 'request_expired',
  one_year_passed: 'request_expired',
  request_lifetime_passed: 'request_expired',
  withdrawn: 'withdrawn',
  support_ended: 'ended',
  declined: 'declined',
  cancelled: 'cancelled',
};

/** What may end an active consent; declines, cancellations and the request lifetime no longer apply. */
const ACTIVE_OUTCOME: Partial<Record<Ending, ConsentStatus>> = {
  child_turned_18: 'expired',
  one_year_passed: 'expired',
  withdrawn: 'withdrawn',
  support_ended: 'ended',
};

/**
 * Replays the facts known at `now` in time order. Before completion the first ending event decides the
 * (terminal) status; a consent is only ever `active` after its last required signature and before anything
 * ends it. Decision: when the child turns 18 or a year passes from the first signature before the last
 * required signature, the request has lapsed: `request_expired` with that reason (it never was in force,
 * so it is not `expired`, which counts consents that were).
 */
function resolve(facts: ConsentFacts, now: Date): ConsentStatusAt {
  if (facts.requiredRoles.length === 0) throw new RangeError('A consent needs at least one required role');
  const nowMs = now.getTime();
  const known = (at: Date | null | undefined): at is Date =>
    at instanceof Date && !Number.isNaN(at.getTime()) && at.getTime() <= nowMs;

  const signatures = facts.signatures.filter((s) => known(s.signedAt));
  const firstByRole = new Map<SignerRole, Date>();
  for (const s of signatures) {
    const seen = firstByRole.get(s.role);
    if (seen === undefined || s.signedAt < seen) firstByRole.set(s.role, s.signedAt);
  }
  const awaitingRoles = facts.requiredRoles.filter((role) => !firstByRole.has(role));
  const completedAt =
    awaitingRoles.length === 0
      ? maxDate(facts.requiredRoles.map((role) => firstByRole.get(role)!))
      : undefined;

  const expiry = scheduledExpiryOf(facts, earliestSignature(signatures));
  const candidates: [Date | null | undefined, EventKind][] = [
    [expiry.adulthood, 'child_turned_18'],
    [expiry.anniversary, 'one_year_passed'],
    [facts.requestExpiresAt, 'request_lifetime_passed'],
    [facts.withdrawnAt, 'withdrawn'],
    [facts.endedAt, 'support_ended'],
    [facts.declinedAt, 'declined'],
    [facts.cancelledAt, 'cancelled'],
    [completedAt, 'completed'],
  ];
  const events = candidates
    .filter((c): c is [Date, EventKind] => known(c[0]))
    .sort((a, b) => a[0].getTime() - b[0].getTime() || ORDER[a[1]] - ORDER[b[1]]);

  let result: ConsentStatusAt = {
    status: 'pending',
    reason: 'awaiting_signatures',
    since: facts.requestedAt,
    awaitingRoles,
  };
  for (const [at, kind] of events) {
    if (result.status === 'pending') {
      if (kind === 'completed') {
        result = {
          status: 'active',
          reason: 'all_signed',
          since: at,
          completedAt: at,
          validFrom: at,
          validUntil: expiry.at,
        };
      } else {
        result = { status: PENDING_OUTCOME[kind], reason: kind, since: at };
      }
    } else if (result.status === 'active') {
      // Only one completion event exists, so here `kind` is always an ending.
      const outcome = ACTIVE_OUTCOME[kind as Ending];
      if (outcome !== undefined) {
        result = { ...result, status: outcome, reason: kind as Ending, since: at, validUntil: at };
      }
    } else {
      break;
    }
  }
  return result;
}

function scheduledExpiryOf(
  facts: ConsentFacts,
  earliest: Date | undefined,
): { at: Date; reason: ExpiryReason; adulthood: Date; anniversary: Date | undefined } {
  const adulthood = startOfLocalDay(eighteenthBirthday(facts.childBirthDate));
  const anniversary =
    earliest === undefined ? undefined : startOfLocalDay(addYears(localDateOf(earliest), 1));
  if (anniversary !== undefined && anniversary < adulthood) {
    return { at: anniversary, reason: 'one_year_passed', adulthood, anniversary };
  }
  return { at: adulthood, reason: 'child_turned_18', adulthood, anniversary };
}

function earliestSignature(signatures: readonly { signedAt: Date }[]): Date | undefined {
  let earliest: Date | undefined;
  for (const s of signatures) {
    if (!(s.signedAt instanceof Date) || Number.isNaN(s.signedAt.getTime())) continue;
    if (earliest === undefined || s.signedAt < earliest) earliest = s.signedAt;
  }
  return earliest;
}

function maxDate(dates: Date[]): Date {
  return new Date(Math.max(...dates.map((d) => d.getTime())));
}

function assertInstant(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new RangeError(`${name} must be a valid Date`);
}

import fc from 'fast-check';
import t from 'tap';
import {
  assertCanTransition,
  CONSENT_ACTS,
  CONSENT_STATUSES,
  type ConsentAct,
  type ConsentFacts,
  type ConsentStatus,
  canTransition,
  endingSoon,
  isTerminal,
  requestExpiry,
  STATUS_LABELS_SV,
  scheduledExpiry,
  statusAt,
  TERMINAL_STATUSES,
  validityWindow,
} from '../../src/domain/consent.ts';
import { type LocalDate, localDate } from '../../src/domain/dates.ts';
import type { SignerRole } from '../../src/domain/roles.ts';
import { AppError } from '../../src/errors.ts';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A two-guardian request made 2026-03-09 10:00 UTC for a child born 2015-05-05, with 30 days to sign. */
function facts(over: Partial<ConsentFacts> = {}): ConsentFacts {
  const requestedAt = over.requestedAt ?? at('2026-03-09T10:00:00Z');
  return {
    requestedAt,
    requestExpiresAt: requestExpiry(requestedAt, 30),
    childBirthDate: localDate('2015-05-05'),
    requiredRoles: ['guardian1', 'guardian2'],
    signatures: [],
    ...over,
  };
}
const signed = (role: SignerRole, iso: string) => ({ role, signedAt: at(iso) });
/** Both guardians signed: g1 on 2026-03-10 09:00 local, g2 on 2026-03-12 09:00 local. */
const bothSigned = [signed('guardian1', '2026-03-10T08:00:00Z'), signed('guardian2', '2026-03-12T08:00:00Z')];
const statusOf = (f: ConsentFacts, iso: string) => {
  const s = statusAt(f, at(iso));
  return `${s.status}/${s.reason}`;
};

t.test('requestExpiry gives whole local days', async (t) => {
  t.equal(
    requestExpiry(at('2026-03-09T10:00:00Z'), 30).toISOString(),
    '2026-04-08T22:00:00.000Z',
    '2026-04-09 00:00 CEST',
  );
  t.equal(
    requestExpiry(at('2026-03-08T23:30:00Z'), 30).toISOString(),
    '2026-04-08T22:00:00.000Z',
    'already 03-09 locally',
  );
  t.equal(
    requestExpiry(at('2026-03-09T10:00:00Z')).toISOString(),
    '2026-04-08T22:00:00.000Z',
    'default 30 days',
  );
  t.equal(
    requestExpiry(at('2026-10-24T10:00:00Z'), 1).toISOString(),
    '2026-10-25T23:00:00.000Z',
    'across the October change',
  );
  t.throws(() => requestExpiry(at('2026-03-09T10:00:00Z'), 0), RangeError);
  t.throws(() => requestExpiry(at('2026-03-09T10:00:00Z'), 1.5), RangeError);
});

t.test('pending until the last required signature, then active', async (t) => {
  const f = facts({ signatures: bothSigned });
  const before = statusAt(f, at('2026-03-09T12:00:00Z'));
  t.same(before, {
    status: 'pending',
    reason: 'awaiting_signatures',
    since: f.requestedAt,
    awaitingRoles: ['guardian1', 'guardian2'],
  });
  t.same(statusAt(f, at('2026-03-11T00:00:00Z')).awaitingRoles, ['guardian2']);
  t.equal(statusOf(f, '2026-03-12T07:59:59.999Z'), 'pending/awaiting_signatures');
  const active = statusAt(f, at('2026-03-12T08:00:00Z'));
  t.same(active, {
    status: 'active',
    reason: 'all_signed',
    since: at('2026-03-12T08:00:00Z'),
    completedAt: at('2026-03-12T08:00:00Z'),
    validFrom: at('2026-03-12T08:00:00Z'),
    // One year from the EARLIEST signature's date (2026-03-10): 2027-03-10 00:00 CET.
    validUntil: at('2027-03-09T23:00:00Z'),
  });
});

t.test('signing order is free', async (t) => {
  const f = facts({
    signatures: [signed('guardian2', '2026-03-10T08:00:00Z'), signed('guardian1', '2026-03-11T08:00:00Z')],
  });
  t.equal(statusAt(f, at('2026-03-11T08:00:00Z')).status, 'active');
});

t.test('expires at 00:00 Stockholm on the anniversary of the earliest signature', async (t) => {
  const f = facts({ signatures: bothSigned });
  t.equal(statusOf(f, '2027-03-09T22:59:59.999Z'), 'active/all_signed', '2027-03-09 23:59:59.999 local');
  const expired = statusAt(f, at('2027-03-09T23:00:00Z'));
  t.same(
    { status: expired.status, reason: expired.reason, since: expired.since, validUntil: expired.validUntil },
    {
      status: 'expired',
      reason: 'one_year_passed',
      since: at('2027-03-09T23:00:00Z'),
      validUntil: at('2027-03-09T23:00:00Z'),
    },
  );
  t.same(expired.validFrom, at('2026-03-12T08:00:00Z'), 'keeps when it was in force');
  t.same(validityWindow(f), {
    validFrom: at('2026-03-12T08:00:00Z'),
    validUntil: at('2027-03-09T23:00:00Z'),
  });
});

t.test('signed on 29 February: expired from 28 February the next year', async (t) => {
  const f = facts({
    requestedAt: at('2028-02-28T09:00:00Z'),
    signatures: [signed('guardian1', '2028-02-29T09:00:00Z'), signed('guardian2', '2028-03-02T09:00:00Z')],
  });
  t.same(validityWindow(f)?.validUntil, at('2029-02-27T23:00:00Z'), '2029-02-28 00:00 CET');
  t.equal(statusOf(f, '2029-02-27T22:59:59Z'), 'active/all_signed');
  t.equal(statusOf(f, '2029-02-27T23:00:00Z'), 'expired/one_year_passed');
});

t.test('signatures around the daylight-saving changes count by their local date', async (t) => {
  const cases: [string, string, string][] = [
    // [signedAt UTC, local date, expiry instant]
    ['2026-03-28T23:30:00Z', '2026-03-29 00:30 CET, the change day', '2027-03-28T22:00:00.000Z'],
    ['2026-03-29T21:30:00Z', '2026-03-29 23:30 CEST', '2027-03-28T22:00:00.000Z'],
    ['2026-03-28T22:30:00Z', '2026-03-28 23:30 CET', '2027-03-27T23:00:00.000Z'],
    ['2026-10-24T22:30:00Z', '2026-10-25 00:30 CEST, the change day', '2027-10-24T22:00:00.000Z'],
    ['2026-10-25T22:30:00Z', '2026-10-25 23:30 CET', '2027-10-24T22:00:00.000Z'],
    ['2026-10-24T21:30:00Z', '2026-10-24 23:30 CEST', '2027-10-23T22:00:00.000Z'],
    [
      '2027-03-27T23:30:00Z',
      '2027-03-28 00:30 CET; a year on it is 2028-03-28, CEST',
      '2028-03-27T22:00:00.000Z',
    ],
  ];
  for (const [signedAt, label, expiry] of cases) {
    const f = facts({
      requestedAt: new Date(Date.parse(signedAt) - HOUR),
      requiredRoles: ['guardian1'],
      signatures: [signed('guardian1', signedAt)],
    });
    t.equal(validityWindow(f)?.validUntil.toISOString(), expiry, label);
    t.equal(statusAt(f, new Date(Date.parse(expiry) - 1)).status, 'active', `${label}: active 1 ms before`);
    t.equal(statusAt(f, at(expiry)).status, 'expired', `${label}: expired at`);
  }
});

t.test("expires at 00:00 on the child's 18th birthday when that comes first", async (t) => {
  const f = facts({ childBirthDate: localDate('2008-06-01'), signatures: bothSigned });
  t.same(validityWindow(f)?.validUntil, at('2026-05-31T22:00:00Z'), '2026-06-01 00:00 CEST');
  t.same(scheduledExpiry(f), { at: at('2026-05-31T22:00:00Z'), reason: 'child_turned_18' });
  t.equal(statusOf(f, '2026-05-31T21:59:59.999Z'), 'active/all_signed');
  t.equal(statusOf(f, '2026-05-31T22:00:00Z'), 'expired/child_turned_18');
});

t.test('a child born on 29 February turns 18 on 28 February in a common year', async (t) => {
  const f = facts({
    requestedAt: at('2025-06-01T08:00:00Z'),
    childBirthDate: localDate('2008-02-29'),
    signatures: [signed('guardian1', '2025-06-02T08:00:00Z'), signed('guardian2', '2025-06-02T09:00:00Z')],
  });
  t.same(validityWindow(f)?.validUntil, at('2026-02-27T23:00:00Z'), '2026-02-28 00:00 CET');
  t.equal(statusOf(f, '2026-02-27T23:00:00Z'), 'expired/child_turned_18');
});

t.test('anniversary and 18th birthday on the same day: reason child_turned_18', async (t) => {
  const f = facts({ childBirthDate: localDate('2009-03-10'), signatures: bothSigned });
  t.same(scheduledExpiry(f), { at: at('2027-03-09T23:00:00Z'), reason: 'child_turned_18' });
  t.equal(statusOf(f, '2027-03-09T23:00:00Z'), 'expired/child_turned_18');
});

t.test('scheduledExpiry before any signature is the 18th birthday', async (t) => {
  t.same(scheduledExpiry(facts()), { at: at('2033-05-04T22:00:00Z'), reason: 'child_turned_18' });
});

t.test('withdrawal ends an active consent at once; a future withdrawal does not count yet', async (t) => {
  const f = facts({ signatures: bothSigned, withdrawnAt: at('2026-06-01T12:00:00Z') });
  t.equal(statusOf(f, '2026-06-01T11:59:59.999Z'), 'active/all_signed');
  t.same(statusAt(f, at('2026-06-01T11:59:59.999Z')).validUntil, at('2027-03-09T23:00:00Z'));
  const s = statusAt(f, at('2026-06-01T12:00:00Z'));
  t.equal(s.status, 'withdrawn');
  t.equal(s.reason, 'withdrawn');
  t.same(s.validUntil, at('2026-06-01T12:00:00Z'));
  t.same(validityWindow(f), {
    validFrom: at('2026-03-12T08:00:00Z'),
    validUntil: at('2026-06-01T12:00:00Z'),
  });
});

t.test(
  'withdrawal before completion: withdrawn, never active, later signatures change nothing',
  async (t) => {
    const f = facts({ signatures: bothSigned, withdrawnAt: at('2026-03-11T08:00:00Z') });
    const s = statusAt(f, at('2026-04-01T00:00:00Z'));
    t.same(s, { status: 'withdrawn', reason: 'withdrawn', since: at('2026-03-11T08:00:00Z') });
    t.equal(validityWindow(f), null);
  },
);

t.test('end of support', async (t) => {
  const active = facts({ signatures: bothSigned, endedAt: at('2026-09-01T10:00:00Z') });
  t.equal(
    statusOf(active, '2026-08-31T00:00:00Z'),
    'active/all_signed',
    'an end date ahead does not count yet',
  );
  t.equal(statusOf(active, '2026-09-01T10:00:00Z'), 'ended/support_ended');
  t.same(validityWindow(active)?.validUntil, at('2026-09-01T10:00:00Z'));
  const pending = facts({ signatures: bothSigned, endedAt: at('2026-03-11T10:00:00Z') });
  t.same(statusAt(pending, at('2026-03-20T00:00:00Z')), {
    status: 'ended',
    reason: 'support_ended',
    since: at('2026-03-11T10:00:00Z'),
  });
  t.equal(validityWindow(pending), null);
});

t.test('declined: terminal for everyone; a decline after completion is ignored', async (t) => {
  const early = facts({ signatures: bothSigned, declinedAt: at('2026-03-11T08:00:00Z') });
  t.equal(statusOf(early, '2026-03-11T07:00:00Z'), 'pending/awaiting_signatures');
  t.equal(statusOf(early, '2026-03-13T00:00:00Z'), 'declined/declined');
  t.equal(validityWindow(early), null);
  const late = facts({ signatures: bothSigned, declinedAt: at('2026-03-13T08:00:00Z') });
  t.equal(statusOf(late, '2026-03-14T00:00:00Z'), 'active/all_signed');
});

t.test('cancelled by staff before completion; a cancellation after completion is ignored', async (t) => {
  const early = facts({ signatures: bothSigned, cancelledAt: at('2026-03-11T08:00:00Z') });
  t.equal(statusOf(early, '2026-03-13T00:00:00Z'), 'cancelled/cancelled');
  const late = facts({ signatures: bothSigned, cancelledAt: at('2026-03-13T08:00:00Z') });
  t.equal(statusOf(late, '2026-03-14T00:00:00Z'), 'active/all_signed');
});

t.test('request lifetime: a signature at the expiry instant is too late', async (t) => {
  const base = facts();
  const lapse = base.requestExpiresAt.toISOString();
  const lastAt = (iso: string) =>
    facts({ signatures: [signed('guardian1', '2026-03-10T08:00:00Z'), signed('guardian2', iso)] });
  t.equal(
    statusOf(lastAt(new Date(Date.parse(lapse) - 1).toISOString()), '2026-05-01T00:00:00Z'),
    'active/all_signed',
  );
  t.equal(statusOf(lastAt(lapse), '2026-05-01T00:00:00Z'), 'request_expired/request_lifetime_passed');
  const s = statusAt(base, at(lapse));
  t.same(s, { status: 'request_expired', reason: 'request_lifetime_passed', since: base.requestExpiresAt });
  t.equal(statusOf(base, new Date(Date.parse(lapse) - 1).toISOString()), 'pending/awaiting_signatures');
});

t.test('the child turns 18 before the last signature: the request lapses', async (t) => {
  const f = facts({
    childBirthDate: localDate('2008-03-20'),
    signatures: [signed('guardian1', '2026-03-10T08:00:00Z'), signed('guardian2', '2026-03-25T08:00:00Z')],
  });
  t.equal(statusOf(f, '2026-03-19T22:59:59Z'), 'pending/awaiting_signatures');
  t.equal(statusOf(f, '2026-03-19T23:00:00Z'), 'request_expired/child_turned_18');
  t.equal(statusOf(f, '2026-03-26T00:00:00Z'), 'request_expired/child_turned_18');
  t.equal(validityWindow(f), null);
});

t.test('a year passes from the first signature before the last: the request lapses', async (t) => {
  const requestedAt = at('2026-03-09T10:00:00Z');
  const f = facts({
    requestExpiresAt: requestExpiry(requestedAt, 365 + 30),
    signatures: [signed('guardian1', '2026-03-10T08:00:00Z'), signed('guardian2', '2027-03-20T08:00:00Z')],
  });
  t.equal(statusOf(f, '2027-03-09T23:00:00Z'), 'request_expired/one_year_passed');
  t.equal(statusOf(f, '2027-03-21T00:00:00Z'), 'request_expired/one_year_passed');
});

t.test('terminal states stay terminal; the first ending event wins', async (t) => {
  const f = facts({
    signatures: bothSigned,
    withdrawnAt: at('2026-06-01T00:00:00Z'),
    endedAt: at('2026-05-01T00:00:00Z'),
    declinedAt: at('2026-07-01T00:00:00Z'),
  });
  t.equal(statusOf(f, '2026-05-15T00:00:00Z'), 'ended/support_ended');
  t.equal(statusOf(f, '2030-01-01T00:00:00Z'), 'ended/support_ended');
  const expiredThenWithdrawn = facts({ signatures: bothSigned, withdrawnAt: at('2027-06-01T00:00:00Z') });
  t.equal(statusOf(expiredThenWithdrawn, '2027-07-01T00:00:00Z'), 'expired/one_year_passed');
});

t.test('ties at one instant: time first, then acts, completion last', async (t) => {
  const last = '2026-03-12T08:00:00Z';
  t.equal(statusOf(facts({ signatures: bothSigned, withdrawnAt: at(last) }), last), 'withdrawn/withdrawn');
  t.equal(statusOf(facts({ signatures: bothSigned, declinedAt: at(last) }), last), 'declined/declined');
  const expiry = '2027-03-09T23:00:00Z';
  t.equal(
    statusOf(facts({ signatures: bothSigned, withdrawnAt: at(expiry) }), expiry),
    'expired/one_year_passed',
  );
  t.equal(
    statusOf(facts({ signatures: bothSigned, withdrawnAt: at(last), endedAt: at(last) }), last),
    'withdrawn/withdrawn',
  );
});

t.test('sole guardian with the youth signing', async (t) => {
  const f = facts({
    requiredRoles: ['guardian1', 'youth'],
    signatures: [signed('youth', '2026-03-10T08:00:00Z'), signed('guardian1', '2026-03-10T09:00:00Z')],
  });
  t.equal(statusOf(f, '2026-03-10T08:30:00Z'), 'pending/awaiting_signatures');
  t.same(statusAt(f, at('2026-03-10T08:30:00Z')).awaitingRoles, ['guardian1']);
  t.equal(statusOf(f, '2026-03-10T09:00:00Z'), 'active/all_signed');
});

t.test('a signature of a role that is not required never completes, but counts for the year', async (t) => {
  const f = facts({
    requiredRoles: ['guardian1'],
    signatures: [signed('youth', '2026-03-09T12:00:00Z'), signed('guardian1', '2026-03-10T08:00:00Z')],
  });
  t.equal(statusOf(f, '2026-03-09T13:00:00Z'), 'pending/awaiting_signatures');
  t.same(validityWindow(f), {
    validFrom: at('2026-03-10T08:00:00Z'),
    validUntil: at('2027-03-08T23:00:00Z'),
  });
});

t.test('a role signed twice counts from its first signature', async (t) => {
  const f = facts({
    requiredRoles: ['guardian1'],
    signatures: [signed('guardian1', '2026-03-11T08:00:00Z'), signed('guardian1', '2026-03-10T08:00:00Z')],
  });
  t.same(statusAt(f, at('2026-03-12T00:00:00Z')).validFrom, at('2026-03-10T08:00:00Z'));
});

t.test('bad input', async (t) => {
  t.throws(() => statusAt(facts({ requiredRoles: [] }), at('2026-03-10T00:00:00Z')), RangeError);
  t.throws(() => statusAt(facts(), new Date('nope')), RangeError);
  const f = facts({
    requiredRoles: ['guardian1'],
    signatures: [signed('guardian1', 'nope'), signed('guardian1', '2026-03-10T08:00:00Z')],
    withdrawnAt: new Date('nope'),
  });
  t.equal(statusOf(f, '2026-03-11T00:00:00Z'), 'active/all_signed', 'invalid dates are no facts');
  t.same(scheduledExpiry(f).at, at('2027-03-09T23:00:00Z'));
});

t.test('endingSoon: from 00:00 the given number of days before the expiry date', async (t) => {
  const f = facts({ signatures: bothSigned }); // expires 2027-03-10 00:00 CET
  t.notOk(endingSoon(f, at('2027-02-07T22:59:59.999Z'), 30));
  t.ok(endingSoon(f, at('2027-02-07T23:00:00Z'), 30), '2027-02-08 00:00 CET');
  t.ok(endingSoon(f, at('2027-03-09T22:59:59Z'), 30));
  t.notOk(endingSoon(f, at('2027-03-09T23:00:00Z'), 30), 'expired is not ending soon');
  t.notOk(endingSoon(f, at('2026-03-11T00:00:00Z'), 30), 'pending');
  t.notOk(endingSoon(f, at('2027-03-09T22:59:59Z'), 0), '0 days: never, it has expired by then');
  t.notOk(endingSoon(f, at('2027-03-08T22:59:59Z'), 1));
  t.ok(endingSoon(f, at('2027-03-08T23:00:00Z'), 1), '1 day: from 00:00 the day before');
  t.throws(() => endingSoon(f, at('2027-03-01T00:00:00Z'), -1), RangeError);
  t.throws(() => endingSoon(f, at('2027-03-01T00:00:00Z'), 1.5), RangeError);
  // Counted in local days, not 24-hour blocks: 30 days before 2027-04-10 00:00 CEST is 2027-03-11 00:00 CET.
  const acrossDst = facts({
    requestedAt: at('2026-04-09T10:00:00Z'),
    requiredRoles: ['guardian1'],
    signatures: [signed('guardian1', '2026-04-10T10:00:00Z')],
  });
  t.notOk(endingSoon(acrossDst, at('2027-03-10T22:30:00Z'), 30), '2027-03-10 23:30 CET');
  t.ok(endingSoon(acrossDst, at('2027-03-10T23:00:00Z'), 30), '2027-03-11 00:00 CET');
  const summer = facts({ childBirthDate: localDate('2008-06-01'), signatures: bothSigned });
  t.notOk(endingSoon(summer, at('2026-05-01T21:59:59Z'), 30));
  t.ok(endingSoon(summer, at('2026-05-01T22:00:00Z'), 30), '2026-05-02 00:00 CEST, 30 days before 06-01');
});

t.test('the transitions table, cell by cell', async (t) => {
  const allowed: Record<ConsentAct, ConsentStatus[]> = {
    sign: ['pending'],
    decline: ['pending'],
    remind: ['pending'],
    cancel: ['pending'],
    withdraw: ['pending', 'active'],
    end: ['pending', 'active'],
    renew: ['active', 'expired', 'ended', 'request_expired'],
  };
  for (const act of CONSENT_ACTS) {
    for (const status of CONSENT_STATUSES) {
      const expected = allowed[act].includes(status);
      t.equal(canTransition(status, act), expected, `${act} in ${status}`);
      if (expected) {
        t.doesNotThrow(() => assertCanTransition(status, act));
      } else {
        const err = t.throws(() => assertCanTransition(status, act)) as AppError;
        t.ok(err instanceof AppError && err.code === 'consent_state_conflict' && err.status === 409);
        t.same(err.extra, { status, act });
        t.ok(err.message.includes(STATUS_LABELS_SV[status]));
      }
    }
  }
});

t.test('terminal statuses allow nothing that changes the consent', async (t) => {
  t.same(
    CONSENT_STATUSES.filter((s) => isTerminal(s)),
    [...TERMINAL_STATUSES],
  );
  t.notOk(isTerminal('pending'));
  t.notOk(isTerminal('active'));
  for (const status of TERMINAL_STATUSES) {
    for (const act of CONSENT_ACTS)
      if (act !== 'renew') t.notOk(canTransition(status, act), `${act} in ${status}`);
  }
});

// --- Properties -----------------------------------------------------------------------------------------

const TZ = 'Europe/Stockholm';
/** Oracle, written apart from src/domain/dates.ts: 00:00 Stockholm on the anniversary of `instant`'s date. */
function oracleAnniversaryMidnight(instant: Date): number {
  const [y, m, d] = instant.toLocaleDateString('sv-SE', { timeZone: TZ }).split('-').map(Number) as [
    number,
    number,
    number,
  ];
  const leap = (yy: number) => new Date(Date.UTC(yy, 1, 29)).getUTCDate() === 29;
  const day = m === 2 && d === 29 && !leap(y + 1) ? 28 : d;
  return oracleMidnight(y + 1, m, day);
}
function oracleMidnight(y: number, m: number, d: number): number {
  const want = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')} 00:00:00`;
  for (const hours of [1, 2]) {
    const candidate = Date.UTC(y, m - 1, d) - hours * HOUR;
    if (new Date(candidate).toLocaleString('sv-SE', { timeZone: TZ }) === want) return candidate;
  }
  throw new Error(`no midnight found for ${want}`);
}
function oracle18(birth: LocalDate): number {
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  const leap = (yy: number) => new Date(Date.UTC(yy, 1, 29)).getUTCDate() === 29;
  return oracleMidnight(y + 18, m, m === 2 && d === 29 && !leap(y + 18) ? 28 : d);
}

const T0 = Date.parse('2024-01-01T00:00:00Z');
const maybe = (arb: fc.Arbitrary<number>, weight: number) =>
  fc.oneof({ arbitrary: fc.constant(null), weight }, { arbitrary: arb, weight: 1 });
// Offsets from the request, biased to land near day boundaries and within the year.
const offset = fc.oneof(
  fc.integer({ min: 0, max: 450 * DAY }),
  fc.integer({ min: 0, max: 450 }).map((days) => days * DAY + 22 * HOUR + (days % 3) * HOUR),
);
const arbFacts = fc
  .record({
    requestedAt: fc.integer({ min: T0, max: T0 + 4 * 365 * DAY }),
    lifetime: fc.integer({ min: 1, max: 400 }),
    childAgeDays: fc.oneof(
      fc.integer({ min: 0, max: 18 * 365 }),
      fc.integer({ min: 17 * 365, max: 18 * 365 + 4 }),
    ),
    soleGuardian: fc.boolean(),
    youthSigns: fc.boolean(),
    g1: maybe(offset, 1),
    g2: maybe(offset, 1),
    youth: maybe(offset, 1),
    declined: maybe(offset, 4),
    cancelled: maybe(offset, 4),
    withdrawn: maybe(offset, 3),
    ended: maybe(offset, 3),
  })
  .map((r): ConsentFacts => {
    const requestedAt = new Date(r.requestedAt);
    const birth = new Date(r.requestedAt - r.childAgeDays * DAY).toLocaleDateString('sv-SE', {
      timeZone: TZ,
    });
    const when = (o: number | null) => (o === null ? null : new Date(r.requestedAt + o));
    const signatures = (['guardian1', 'guardian2', 'youth'] as const)
      .map((role) => ({
        role,
        signedAt: when(r[role === 'guardian1' ? 'g1' : role === 'guardian2' ? 'g2' : 'youth']),
      }))
      .filter((s): s is { role: SignerRole; signedAt: Date } => s.signedAt !== null);
    const requiredRoles: SignerRole[] = ['guardian1'];
    if (!r.soleGuardian) requiredRoles.push('guardian2');
    if (r.youthSigns) requiredRoles.push('youth');
    return {
      requestedAt,
      requestExpiresAt: requestExpiry(requestedAt, r.lifetime),
      childBirthDate: localDate(birth),
      requiredRoles,
      signatures,
      declinedAt: when(r.declined),
      cancelledAt: when(r.cancelled),
      withdrawnAt: when(r.withdrawn),
      endedAt: when(r.ended),
    };
  });
const arbNow = (f: ConsentFacts) =>
  fc
    .oneof(
      fc.integer({ min: -5 * DAY, max: 800 * DAY }),
      fc.constantFrom(...f.signatures.map((s) => s.signedAt.getTime() - f.requestedAt.getTime()), 0),
    )
    .map((o) => new Date(f.requestedAt.getTime() + o));
const scenario = arbFacts.chain((f) => fc.tuple(fc.constant(f), arbNow(f), arbNow(f)));
const RUNS = { numRuns: 2000 };
const known = (f: ConsentFacts, now: Date) => f.signatures.filter((s) => s.signedAt <= now);

t.test('property: never active at or after its expiry', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, now]) => {
      if (statusAt(f, now).status !== 'active') return true;
      const earliest = Math.min(...known(f, now).map((s) => s.signedAt.getTime()));
      return (
        now.getTime() < oracleAnniversaryMidnight(new Date(earliest)) &&
        now.getTime() < oracle18(f.childBirthDate)
      );
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: never active before every required signature', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, now]) => {
      const s = statusAt(f, now);
      if (s.status !== 'active') return true;
      return f.requiredRoles.every((role) =>
        known(f, now).some((sig) => sig.role === role && sig.signedAt <= s.validFrom!),
      );
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: any withdrawal or end of support ⇒ not active afterwards', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, now]) => {
      const stopped = [f.withdrawnAt, f.endedAt].some((d) => d != null && d <= now);
      return !stopped || statusAt(f, now).status !== 'active';
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: validUntil − earliest signature ≤ one year', async (t) => {
  fc.assert(
    fc.property(arbFacts, (f) => {
      const w = validityWindow(f);
      if (w === null) return true;
      const earliest = new Date(Math.min(...f.signatures.map((s) => s.signedAt.getTime())));
      // 366 days, plus the hour a summer-time signature gains against a winter-time anniversary.
      return (
        w.validFrom < w.validUntil &&
        w.validUntil.getTime() <= oracleAnniversaryMidnight(earliest) &&
        w.validUntil.getTime() - earliest.getTime() <= 366 * DAY + HOUR
      );
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: terminal states stay terminal; active only turns into an ending state', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, a, b]) => {
      const [t1, t2] = a <= b ? [a, b] : [b, a];
      const s1 = statusAt(f, t1);
      const s2 = statusAt(f, t2);
      if (isTerminal(s1.status))
        return s2.status === s1.status && s2.reason === s1.reason && +s2.since === +s1.since;
      if (s1.status === 'active') return ['active', 'withdrawn', 'ended', 'expired'].includes(s2.status);
      return true;
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: facts dated after now do not count', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, now]) => {
      const past = (d: Date | null | undefined) => (d != null && d <= now ? d : null);
      const pruned: ConsentFacts = {
        ...f,
        signatures: known(f, now),
        declinedAt: past(f.declinedAt),
        cancelledAt: past(f.cancelledAt),
        withdrawnAt: past(f.withdrawnAt),
        endedAt: past(f.endedAt),
      };
      return JSON.stringify(statusAt(f, now)) === JSON.stringify(statusAt(pruned, now));
    }),
    RUNS,
  );
  t.pass();
});

t.test('property: statusAt and validityWindow agree', async (t) => {
  fc.assert(
    fc.property(scenario, ([f, now]) => {
      const s = statusAt(f, now);
      const w = validityWindow(f);
      if (s.status === 'active') {
        return w !== null && +w.validFrom === +s.validFrom! && now < w.validUntil && now >= w.validFrom;
      }
      // Not active now: either the window (from all facts) does not contain now, or it starts later.
      return w === null || now < w.validFrom || now >= w.validUntil;
    }),
    RUNS,
  );
  t.pass();
});

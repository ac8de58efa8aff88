// When an ended consent is due for deletion (src/domain/retention.ts): whole months from the Swedish day it
// ended, deleted from 00:00 Stockholm the day after; month ends, leap days and the changes to and from
// summer time; never while pending or active; and what a tombstone keeps.
import fc from 'fast-check';
import t from 'tap';
import { statusAt } from '../../src/domain/consent.ts';
import { localDate, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import {
  addMonths,
  ageGroup,
  deletionDueAt,
  retentionDecision,
  yearMonthOf,
} from '../../src/domain/retention.ts';

const d = localDate;
/** An instant given as Stockholm wall time 'YYYY-MM-DD HH:MM'. */
const at = (wall: string): Date => {
  const [day, time] = wall.split(' ') as [string, string];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return new Date(startOfLocalDay(d(day)).getTime() + (hh * 60 + mm) * 60_000);
};

t.test('addMonths: whole months, the last day when the month lacks the day', async (t) => {
  t.equal(addMonths(d('2026-03-15'), 24), '2028-03-15');
  t.equal(addMonths(d('2026-08-31'), 6), '2027-02-28');
  t.equal(addMonths(d('2027-08-31'), 6), '2028-02-29', 'leap year');
  t.equal(addMonths(d('2028-02-29'), 12), '2029-02-28');
  t.equal(addMonths(d('2026-01-31'), 1), '2026-02-28');
  t.equal(addMonths(d('2026-12-15'), 1), '2027-01-15', 'over the year end');
  t.equal(addMonths(d('2026-03-15'), -3), '2025-12-15', 'backwards');
  t.throws(() => addMonths(d('2026-03-15'), 1.5), RangeError);
});

t.test('addMonths then back never lands later than the day it started from', async (t) => {
  fc.assert(
    fc.property(
      fc.date({ min: new Date('1950-01-01'), max: new Date('2150-12-31'), noInvalidDate: true }),
      fc.integer({ min: 1, max: 120 }),
      (instant, months) => {
        const start = localDateOf(instant);
        const there = addMonths(start, months);
        return addMonths(there, -months) <= start && there > start;
      },
    ),
  );
  t.pass('held for every date and month count tried');
});

t.test('deletion is due from 00:00 Stockholm the day after the months have passed', async (t) => {
  const due = deletionDueAt(at('2026-03-15 14:30'), 24);
  t.equal(due.toISOString(), at('2028-03-16 00:00').toISOString());
  t.equal(localDateOf(due), '2028-03-16');
  // Ended a minute before midnight or just after it: the Swedish day decides, not UTC's.
  t.equal(localDateOf(deletionDueAt(at('2026-03-15 23:59'), 1)), '2026-04-16');
  t.equal(localDateOf(deletionDueAt(at('2026-03-16 00:01'), 1)), '2026-04-17');
  t.throws(() => deletionDueAt(at('2026-03-15 12:00'), 0), RangeError, 'at least a month');
  t.throws(() => deletionDueAt(at('2026-03-15 12:00'), 121), RangeError, 'at most ten years');
});

t.test(
  'across the changes to and from summer time: local midnight, 23 or 25 hours after 23:00',
  async (t) => {
    // Summer time starts 2027-03-28 (02:00 → 03:00) and ends 2027-10-31 (03:00 → 02:00).
    const spring = deletionDueAt(at('2026-03-27 12:00'), 12);
    t.equal(
      spring.toISOString(),
      '2027-03-27T23:00:00.000Z',
      '00:00 CET on 28 March, the day clocks go forward',
    );
    const autumn = deletionDueAt(at('2026-10-30 12:00'), 12);
    t.equal(
      autumn.toISOString(),
      '2027-10-30T22:00:00.000Z',
      '00:00 CEST on 31 October, the day clocks go back',
    );
    const after = deletionDueAt(at('2026-10-31 12:00'), 12);
    t.equal(after.toISOString(), '2027-10-31T23:00:00.000Z', '00:00 CET on 1 November');
    t.equal(after.getTime() - autumn.getTime(), 25 * 3600_000, 'that day had 25 hours');
  },
);

const facts = (over: Partial<Parameters<typeof statusAt>[0]> = {}) => ({
  requestedAt: at('2026-01-10 09:00'),
  requestExpiresAt: at('2026-02-10 00:00'),
  childBirthDate: d('2015-06-01'),
  requiredRoles: ['guardian1' as const],
  signatures: [],
  ...over,
});

t.test('retentionDecision: never while pending or active; due by the end of each outcome', async (t) => {
  const now = at('2026-01-20 12:00');
  t.equal(retentionDecision(statusAt(facts(), now), 1, now), null, 'pending');
  const active = facts({ signatures: [{ role: 'guardian1', signedAt: at('2026-01-11 10:00') }] });
  t.equal(
    retentionDecision(statusAt(active, at('2026-06-01 00:00')), 1, at('2026-06-01 00:00')),
    null,
    'active',
  );

  const withdrawn = { ...active, withdrawnAt: at('2026-01-15 16:00') };
  const before = at('2026-02-15 23:59');
  const decision = retentionDecision(statusAt(withdrawn, before), 1, before);
  t.same(
    decision && { outcome: decision.outcome, due: decision.due, endedAt: decision.endedAt.toISOString() },
    { outcome: 'withdrawn', due: false, endedAt: at('2026-01-15 16:00').toISOString() },
  );
  const day = at('2026-02-16 00:00');
  t.equal(retentionDecision(statusAt(withdrawn, day), 1, day)?.due, true, 'due from 00:00 on 16 February');

  const lapsed = at('2026-03-11 00:00');
  const requestExpired = retentionDecision(statusAt(facts(), lapsed), 1, lapsed);
  t.equal(requestExpired?.outcome, 'request_expired');
  t.equal(requestExpired?.due, true, 'the request lapsed 10 February: due from 11 March');

  const expired = at('2027-02-12 00:00');
  const oneYear = retentionDecision(statusAt(active, expired), 1, expired);
  t.equal(oneYear?.outcome, 'expired');
  t.equal(localDateOf(oneYear!.endedAt), '2027-01-11', 'expired at the anniversary');
  t.equal(oneYear?.due, true);
});

t.test('the age group and the month a tombstone keeps', async (t) => {
  t.equal(ageGroup(d('2020-06-01'), d('2026-05-31')), '0-5');
  t.equal(ageGroup(d('2020-06-01'), d('2026-06-01')), '6-12');
  t.equal(ageGroup(d('2013-06-01'), d('2026-06-01')), '13-15');
  t.equal(ageGroup(d('2010-06-01'), d('2026-06-01')), '16-17');
  t.equal(yearMonthOf(at('2026-03-31 23:30')), '2026-03', 'the Swedish month');
  t.equal(yearMonthOf(new Date('2026-03-31T22:30:00Z')), '2026-04', '00:30 on 1 April in Stockholm');
});

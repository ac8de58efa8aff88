import t from 'tap';
import { parseDailySchedule, runsBetween, ScheduleError } from '../../src/domain/schedule.ts';

const at = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((x) => x.toISOString());

t.test('parseDailySchedule reads times of every day, and refuses anything else', async (t) => {
  t.same(parseDailySchedule('30 6 * * *'), { cron: '30 6 * * *', minutes: [30], hours: [6] });
  t.match(parseDailySchedule('*/15 * * * *'), { minutes: [0, 15, 30, 45], hours: { length: 24 } });
  t.match(parseDailySchedule(' 0,30 8-10 * * * '), { minutes: [0, 30], hours: [8, 9, 10] });
  t.match(parseDailySchedule('5,5 1 * * *'), { minutes: [5] }, 'a minute named twice runs once');
  for (const cron of [
    '0 9 * * 1', // a weekday
    '0 9 1 * *', // a day of the month
    '0 9 * 1 *', // a month
    '0 9 * *', // four fields
    '60 9 * * *',
    '0 24 * * *',
    '*/0 * * * *',
    '10-5 * * * *',
    'a 9 * * *',
    '-1 9 * * *',
    '',
  ])
    t.throws(() => parseDailySchedule(cron), ScheduleError, JSON.stringify(cron));
});

t.test('runsBetween: the runs after `from`, up to and including `to`', async (t) => {
  const daily = parseDailySchedule('0 9 * * *');
  // 09:00 in December is 08:00 UTC.
  t.same(isos(runsBetween(daily, at('2026-12-07T07:59:00Z'), at('2026-12-07T08:00:00Z'))), [
    '2026-12-07T08:00:00.000Z',
  ]);
  t.same(runsBetween(daily, at('2026-12-07T08:00:00Z'), at('2026-12-07T08:01:00Z')), [], '`from` is not');
  t.same(runsBetween(daily, at('2026-12-07T08:01:00Z'), at('2026-12-07T08:00:00Z')), [], 'no stretch');
  t.same(isos(runsBetween(daily, at('2026-12-06T12:00:00Z'), at('2026-12-08T12:00:00Z'))), [
    '2026-12-07T08:00:00.000Z',
    '2026-12-08T08:00:00.000Z',
  ]);
  // In summer 09:00 is 07:00 UTC: the local time holds across the change.
  t.same(isos(runsBetween(daily, at('2026-07-01T06:30:00Z'), at('2026-07-01T07:30:00Z'))), [
    '2026-07-01T07:00:00.000Z',
  ]);
  const quarters = parseDailySchedule('*/15 * * * *');
  t.same(isos(runsBetween(quarters, at('2026-12-07T23:50:00Z'), at('2026-12-08T00:20:00Z'))), [
    '2026-12-08T00:00:00.000Z',
    '2026-12-08T00:15:00.000Z',
  ]);
});

t.test('runsBetween the nights the clocks change: each time of day once', async (t) => {
  const halfPastTwo = parseDailySchedule('30 2 * * *');
  // 2026-10-25: 02:30 comes twice (00:30 and 01:30 UTC); it runs the first time only.
  t.same(isos(runsBetween(halfPastTwo, at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'))), [
    '2026-10-25T00:30:00.000Z',
  ]);
  // 2026-03-29: 02:30 never comes; it runs at 03:30 (01:30 UTC).
  t.same(isos(runsBetween(halfPastTwo, at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'))), [
    '2026-03-29T01:30:00.000Z',
  ]);
  // Every quarter hour through the autumn day (25 hours: 00:00 local is 22:00 UTC the day before, the next
  // midnight 23:00 UTC): the repeated hour's quarters run once.
  const quarters = parseDailySchedule('*/15 * * * *');
  const runs = runsBetween(quarters, at('2026-10-24T21:59:59Z'), at('2026-10-25T22:59:59Z'));
  t.equal(runs.length, 24 * 4, '24 × 4 quarter hours, not 25 × 4');
  t.equal(new Set(runs.map((r) => r.getTime())).size, runs.length, 'no instant twice');
});

import fc from 'fast-check';
import t from 'tap';
import {
  addDays,
  addYears,
  ageOn,
  compareLocalDates,
  DATE_WINDOW,
  daysInMonth,
  eighteenthBirthday,
  isDateInWindow,
  isInstantInWindow,
  isLeapYear,
  isLocalDate,
  lastDayBefore,
  type LocalDate,
  localDate,
  localDateFromParts,
  localDateOf,
  localDateTimeOf,
  localInstantOf,
  partsOf,
  startOfLocalDay,
  swedishDate,
  utcOffsetMs,
} from '../../src/domain/dates.ts';

const d = localDate;
const HOUR = 3_600_000;

t.test('isLocalDate and localDate accept only real calendar dates as YYYY-MM-DD', async (t) => {
  for (const ok of ['2026-03-10', '2028-02-29', '2000-02-29', '0001-01-01', '9999-12-31'])
    t.ok(isLocalDate(ok), ok);
  const bad = [
    '2026-02-29',
    '1900-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '2026-1-01',
    '26-03-10',
    '0000-01-01',
  ];
  for (const no of [...bad, '2026-03-10T00:00', ' 2026-03-10', 20260310, null, undefined]) {
    t.notOk(isLocalDate(no), String(no));
  }
  t.equal(localDate('2026-03-10'), '2026-03-10');
  t.throws(() => localDate('2026-02-29'), RangeError);
});

t.test('localDateFromParts pads and checks', async (t) => {
  t.equal(localDateFromParts(812, 3, 4), '0812-03-04');
  t.throws(() => localDateFromParts(2026, 2, 29), RangeError);
  t.throws(() => localDateFromParts(2026, 1.5, 1), RangeError);
  t.same(partsOf(d('2026-03-10')), { year: 2026, month: 3, day: 10 });
});

t.test('leap years and month lengths', async (t) => {
  t.same([1900, 2000, 2024, 2026, 2028, 2100].map(isLeapYear), [false, true, true, false, true, false]);
  t.same(
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2026, m)),
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  );
  t.equal(daysInMonth(2028, 2), 29);
});

t.test('compareLocalDates', async (t) => {
  t.equal(compareLocalDates(d('2026-03-10'), d('2026-03-11')), -1);
  t.equal(compareLocalDates(d('2026-03-10'), d('2026-03-10')), 0);
  t.equal(compareLocalDates(d('2027-01-01'), d('2026-12-31')), 1);
});

t.test('addDays crosses months, years and leap days', async (t) => {
  t.equal(addDays(d('2026-03-10'), 30), '2026-04-09');
  t.equal(addDays(d('2026-12-31'), 1), '2027-01-01');
  t.equal(addDays(d('2028-02-28'), 1), '2028-02-29');
  t.equal(addDays(d('2027-02-28'), 1), '2027-03-01');
  t.equal(addDays(d('2026-03-29'), 1), '2026-03-30', 'a 23-hour day is still one day');
  t.equal(addDays(d('2026-01-01'), -1), '2025-12-31');
  t.equal(addDays(d('2026-01-01'), 0), '2026-01-01');
  t.throws(() => addDays(d('2026-01-01'), 0.5), RangeError);
});

t.test('addYears: 29 February falls back to 28 February (lag (1930:173) 1 §)', async (t) => {
  t.equal(addYears(d('2026-03-10'), 1), '2027-03-10');
  t.equal(addYears(d('2028-02-29'), 1), '2029-02-28');
  t.equal(addYears(d('2028-02-29'), 4), '2032-02-29');
  t.equal(addYears(d('2028-02-29'), -1), '2027-02-28');
  t.equal(addYears(d('2027-02-28'), 1), '2028-02-28', 'the 28th stays the 28th');
  t.equal(addYears(d('2026-12-31'), 18), '2044-12-31');
  t.throws(() => addYears(d('2026-01-01'), 1.5), RangeError);
});

t.test('ageOn counts whole years; the birthday itself counts', async (t) => {
  t.equal(ageOn(d('2014-03-10'), d('2026-03-09')), 11);
  t.equal(ageOn(d('2014-03-10'), d('2026-03-10')), 12);
  t.equal(ageOn(d('2014-03-10'), d('2014-03-10')), 0);
  t.equal(ageOn(d('2014-12-31'), d('2026-01-01')), 11);
  t.throws(() => ageOn(d('2014-03-10'), d('2014-03-09')), RangeError);
});

t.test('born on 29 February: a year older on 28 February in common years', async (t) => {
  const born = d('2008-02-29');
  t.equal(ageOn(born, d('2026-02-27')), 17);
  t.equal(ageOn(born, d('2026-02-28')), 18);
  t.equal(ageOn(born, d('2026-03-01')), 18);
  t.equal(ageOn(born, d('2028-02-28')), 19, 'in a leap year the 29th is the birthday');
  t.equal(ageOn(born, d('2028-02-29')), 20);
  t.equal(eighteenthBirthday(born), '2026-02-28');
  t.equal(eighteenthBirthday(d('2012-02-29')), '2030-02-28');
  t.equal(eighteenthBirthday(d('2014-06-01')), '2032-06-01');
});

t.test('localDateOf reads the date in Europe/Stockholm', async (t) => {
  t.equal(localDateOf(new Date('2026-01-14T22:59:59.999Z')), '2026-01-14');
  t.equal(localDateOf(new Date('2026-01-14T23:00:00.000Z')), '2026-01-15', 'CET: midnight is 23:00 UTC');
  t.equal(localDateOf(new Date('2026-06-30T21:59:59.999Z')), '2026-06-30');
  t.equal(localDateOf(new Date('2026-06-30T22:00:00.000Z')), '2026-07-01', 'CEST: midnight is 22:00 UTC');
  t.throws(() => localDateOf(new Date('nope')), RangeError);
  t.throws(() => localDateOf('2026-01-01' as unknown as Date), RangeError);
});

t.test('utcOffsetMs across the daylight-saving changes of 2026', async (t) => {
  t.equal(utcOffsetMs(new Date('2026-01-15T12:00:00Z')), HOUR);
  t.equal(utcOffsetMs(new Date('2026-07-15T12:00:00Z')), 2 * HOUR);
  t.equal(utcOffsetMs(new Date('2026-03-29T00:59:59.999Z')), HOUR, '01:59:59 CET, just before the change');
  t.equal(utcOffsetMs(new Date('2026-03-29T01:00:00Z')), 2 * HOUR, '03:00 CEST');
  t.equal(utcOffsetMs(new Date('2026-10-25T00:59:59Z')), 2 * HOUR, '02:59:59 CEST');
  t.equal(utcOffsetMs(new Date('2026-10-25T01:00:00Z')), HOUR, '02:00 CET again');
});

// The time-zone data read directly, with no cache: what utcOffsetMs and localDateOf must agree with.
const reference = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
function referenceOf(instant: Date): { offset: number; date: string; time: string } {
  const p = Object.fromEntries(reference.formatToParts(instant).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
  return {
    offset: wall - (instant.getTime() - instant.getUTCMilliseconds()),
    date: `${p.year}-${p.month}-${p.day}`,
    time: `${p.hour}:${p.minute}:${p.second}`,
  };
}

const timeText = (t: { hour: number; minute: number; second: number }) =>
  [t.hour, t.minute, t.second].map((n) => String(n).padStart(2, '0')).join(':');

t.test(
  'an hour with an offset change in it is read exactly at each instant (1893: mean time → CET)',
  async (t) => {
    // Sweden left local mean time (+00:53:28) for CET at 1893-03-31T23:06:32Z, inside a UTC hour.
    const change = Date.parse('1893-03-31T23:06:32Z');
    for (const probe of [1, 2]) {
      t.equal(utcOffsetMs(new Date(change - 1000)), 3_208_000, `read ${probe}: mean time a second before`);
      t.equal(utcOffsetMs(new Date(change)), HOUR, `read ${probe}: CET from the change`);
      t.equal(utcOffsetMs(new Date(change + 1000)), HOUR);
    }
    t.equal(localDateOf(new Date('1893-03-31T23:06:31Z')), '1893-03-31', '23:59:59 mean time');
    t.equal(localDateOf(new Date('1893-03-31T23:06:33Z')), '1893-04-01', '00:06:33 CET');
  },
);

t.test(
  'property: utcOffsetMs, localDateOf and localDateTimeOf agree with the time-zone data read directly',
  async (t) => {
    const instant = fc.date({
      min: new Date('1850-01-01T00:00:00Z'),
      max: new Date('2100-12-31T00:00:00Z'),
      noInvalidDate: true,
    });
    // Near the changes of 2026 and 1893, where a wrong hour would show.
    const near = (iso: string) =>
      fc.integer({ min: -3 * HOUR, max: 3 * HOUR }).map((ms) => new Date(Date.parse(iso) + ms));
    const any = fc.oneof(
      instant,
      near('2026-03-29T01:00:00Z'),
      near('2026-10-25T01:00:00Z'),
      near('1893-03-31T23:06:32Z'),
    );
    fc.assert(
      fc.property(any, (x) => {
        const want = referenceOf(x);
        // Twice: the first read may fill the cache, the second comes from it.
        return [1, 2].every(() => {
          const wall = localDateTimeOf(x);
          return (
            utcOffsetMs(x) === want.offset &&
            localDateOf(x) === want.date &&
            wall.date === want.date &&
            timeText(wall) === want.time
          );
        });
      }),
      { numRuns: 3000 },
    );
    t.pass();
  },
);

/** The EU summer-time rule (since 1996): +2 h from 01:00 UTC on the last Sunday of March to that of October. */
function euOffset(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  const lastSunday = (month: number) => {
    const last = new Date(Date.UTC(year, month + 1, 0, 1));
    return last.getTime() - last.getUTCDay() * 86_400_000;
  };
  return ms >= lastSunday(2) && ms < lastSunday(9) ? 2 * HOUR : HOUR;
}

t.test('utcOffsetMs stays right past its cache bound (every hour of 12 years)', async (t) => {
  const from = Date.parse('2030-01-01T00:00:00Z');
  const hours = 12 * 366 * 24; // more than the 100 000 hours the cache holds
  const wrong: string[] = [];
  for (let h = 0; h < hours; h++) {
    const x = from + h * HOUR + 1_234;
    if (utcOffsetMs(new Date(x)) !== euOffset(x)) wrong.push(new Date(x).toISOString());
  }
  t.same(wrong, [], 'each hour as the EU rule has it');
  for (const iso of ['2030-06-01T12:00:00Z', '2041-12-01T12:00:00Z', '2026-03-29T01:00:00Z'])
    t.equal(
      utcOffsetMs(new Date(iso)),
      referenceOf(new Date(iso)).offset,
      `${iso} after the cache started over`,
    );
});

t.test('startOfLocalDay stays right past its cache bound (every day of 280 years)', async (t) => {
  const wrong: string[] = [];
  let date = d('1800-01-01');
  for (let i = 0; i < 280 * 366; i++) {
    const start = startOfLocalDay(date);
    if (localDateOf(start) !== date || localDateOf(new Date(start.getTime() - 1)) !== addDays(date, -1))
      wrong.push(date);
    date = addDays(date, 1);
  }
  t.same(wrong, [], 'each the first instant of its date');
  t.equal(
    startOfLocalDay(d('2026-03-29')).toISOString(),
    '2026-03-28T23:00:00.000Z',
    'after it started over',
  );
  const a = startOfLocalDay(d('2026-07-01'));
  a.setTime(0);
  t.equal(
    startOfLocalDay(d('2026-07-01')).toISOString(),
    '2026-06-30T22:00:00.000Z',
    'a caller may change its Date',
  );
});

t.test('startOfLocalDay is 00:00 Stockholm time, also on the days the clocks change', async (t) => {
  const start = (s: string) => startOfLocalDay(d(s)).toISOString();
  t.equal(start('2026-01-15'), '2026-01-14T23:00:00.000Z');
  t.equal(start('2026-07-01'), '2026-06-30T22:00:00.000Z');
  // Last Sunday of March: 02:00 → 03:00. Midnight is still CET; the day has 23 hours.
  t.equal(start('2026-03-29'), '2026-03-28T23:00:00.000Z');
  t.equal(start('2026-03-30'), '2026-03-29T22:00:00.000Z');
  // Last Sunday of October: 03:00 → 02:00. Midnight is still CEST; the day has 25 hours.
  t.equal(start('2026-10-25'), '2026-10-24T22:00:00.000Z');
  t.equal(start('2026-10-26'), '2026-10-25T23:00:00.000Z');
  t.equal(start('2028-02-29'), '2028-02-28T23:00:00.000Z');
});

// --- Properties -----------------------------------------------------------------------------------------

const anyDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true })
  .map((x) => d(x.toISOString().slice(0, 10)));

t.test(
  'startOfLocalDay on a night whose midnight came twice (summer time ended 1916-10-01 at 01:00)',
  async (t) => {
    // Regression: fast-check found this date; the later of the two midnights was returned.
    const start = startOfLocalDay(localDate('1916-10-01'));
    t.equal(start.toISOString(), '1916-09-30T22:00:00.000Z', '00:00 summer time, the first midnight');
    t.equal(localDateOf(new Date(start.getTime() - 1)), '1916-09-30');
  },
);

t.test('property: startOfLocalDay is the first instant of that local date', async (t) => {
  fc.assert(
    fc.property(anyDate, (date) => {
      const start = startOfLocalDay(date);
      return localDateOf(start) === date && localDateOf(new Date(start.getTime() - 1)) === addDays(date, -1);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

t.test('property: a local day lasts 23, 24 or 25 hours', async (t) => {
  fc.assert(
    fc.property(anyDate, (date) => {
      const hours = (startOfLocalDay(addDays(date, 1)).getTime() - startOfLocalDay(date).getTime()) / HOUR;
      return hours === 23 || hours === 24 || hours === 25;
    }),
  );
  t.pass();
});

t.test('property: addDays is reversible and moves by whole days', async (t) => {
  fc.assert(
    fc.property(anyDate, fc.integer({ min: -40_000, max: 40_000 }), (date, n) => {
      const moved = addDays(date, n);
      const utc = (x: LocalDate) => Date.parse(`${x}T00:00:00Z`);
      return addDays(moved, -n) === date && (utc(moved) - utc(date)) / (24 * HOUR) === n;
    }),
  );
  t.pass();
});

t.test('property: ageOn turns n on addYears(birth, n) and not a day before', async (t) => {
  fc.assert(
    fc.property(anyDate, fc.integer({ min: 1, max: 120 }), (birth, n) => {
      const birthday = addYears(birth, n);
      return ageOn(birth, birthday) === n && ageOn(birth, addDays(birthday, -1)) === n - 1;
    }),
  );
  t.pass();
});

t.test('property: addYears keeps month and day, except 29 February → 28 February', async (t) => {
  fc.assert(
    fc.property(anyDate, fc.integer({ min: -100, max: 100 }), (date, n) => {
      const to = partsOf(addYears(date, n));
      const from = partsOf(date);
      const leapDayLost = from.month === 2 && from.day === 29 && !isLeapYear(from.year + n);
      return to.year === from.year + n && to.month === from.month && to.day === (leapDayLost ? 28 : from.day);
    }),
  );
  t.pass();
});

t.test('lastDayBefore: the last local day an exclusive end instant covers', async (t) => {
  t.equal(
    lastDayBefore(new Date('2027-12-05T23:00:00Z')),
    '2027-12-05',
    '00:00 Stockholm on the 6th: the 5th',
  );
  t.equal(lastDayBefore(new Date('2027-06-05T22:00:00Z')), '2027-06-05', 'summer time');
  t.equal(
    lastDayBefore(new Date('2027-06-05T22:00:00.001Z')),
    '2027-06-06',
    'a moment into the day covers it',
  );
});

t.test('swedishDate writes a day as people read it', async (t) => {
  t.equal(swedishDate(localDate('2026-04-09')), '9 april 2026');
  t.equal(swedishDate(localDate('2026-12-31')), '31 december 2026');
  t.equal(swedishDate(localDate('2027-01-01')), '1 januari 2027');
});

// Issue 15: dates from outside are checked against the window; at its edges every date computation works.
t.test('the date window: 1900-01-01 to 2199-12-31, days and instants', async (t) => {
  t.same(DATE_WINDOW, { first: '1900-01-01', last: '2199-12-31' });
  for (const v of ['1900-01-01', '2026-11-23', '2199-12-31', '2000-02-29']) t.ok(isDateInWindow(v), v);
  for (const v of [
    '1899-12-31',
    '2200-01-01',
    '9999-12-31',
    '0000-01-01',
    '0001-01-01',
    '2026-02-30',
    42,
    null,
  ])
    t.notOk(isDateInWindow(v), String(v));
  // Both edges can be turned into instants and stepped over.
  t.ok(startOfLocalDay(addDays(DATE_WINDOW.last, 1)).getTime() > 0);
  t.ok(startOfLocalDay(DATE_WINDOW.first).getTime() < 0);
  t.ok(isInstantInWindow(startOfLocalDay(DATE_WINDOW.first)));
  t.ok(isInstantInWindow(new Date('2199-12-31T23:59:59.999Z')));
  t.ok(isInstantInWindow(new Date('2026-11-23T10:00:00Z')));
  for (const v of [
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '2200-01-03T00:00:00Z',
    '1899-12-30T00:00:00Z',
    'x',
  ])
    t.notOk(isInstantInWindow(new Date(v)), v);
});

t.test(
  'localInstantOf: the instant the clocks show a time of day, on ordinary days and the two nights',
  async (t) => {
    t.equal(localInstantOf(d('2026-12-07'), 9, 0).toISOString(), '2026-12-07T08:00:00.000Z', 'winter: UTC+1');
    t.equal(localInstantOf(d('2026-07-01'), 9, 0).toISOString(), '2026-07-01T07:00:00.000Z', 'summer: UTC+2');
    t.equal(localInstantOf(d('2026-07-01'), 0, 0).getTime(), startOfLocalDay(d('2026-07-01')).getTime());
    // 2026-03-29: 02:00 → 03:00. 02:30 never comes: an hour later, 03:30 (01:30 UTC).
    t.equal(
      localInstantOf(d('2026-03-29'), 2, 30).toISOString(),
      '2026-03-29T01:30:00.000Z',
      'skipped: 03:30',
    );
    t.equal(localInstantOf(d('2026-03-29'), 3, 30).toISOString(), '2026-03-29T01:30:00.000Z', '03:30 itself');
    t.equal(
      localInstantOf(d('2026-03-29'), 1, 59).toISOString(),
      '2026-03-29T00:59:00.000Z',
      'before the change',
    );
    // 2026-10-25: 03:00 → 02:00. 02:30 comes twice: the first time (UTC+2).
    t.equal(
      localInstantOf(d('2026-10-25'), 2, 30).toISOString(),
      '2026-10-25T00:30:00.000Z',
      'twice: the first',
    );
    t.equal(
      localInstantOf(d('2026-10-25'), 3, 0).toISOString(),
      '2026-10-25T02:00:00.000Z',
      'after the change',
    );
    for (const [hour, minute] of [
      [24, 0],
      [-1, 0],
      [9, 60],
      [9.5, 0],
      [9, Number.NaN],
    ] as const)
      t.throws(() => localInstantOf(d('2026-12-07'), hour, minute), RangeError, `${hour}:${minute}`);
  },
);

t.test('property: localInstantOf shows the asked time, except in the hour skipped', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 365 * 30 }),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
      (days, hour, minute) => {
        const date = addDays(d('2010-01-01'), days);
        const shown = localDateTimeOf(localInstantOf(date, hour, minute));
        const skipped = shown.hour !== hour || shown.minute !== minute;
        if (!skipped) return shown.date === date;
        // Only 02:xx on the last Sunday of March, shown as 03:xx.
        return shown.date === date && hour === 2 && shown.hour === 3 && shown.minute === minute;
      },
    ),
  );
  t.pass();
});

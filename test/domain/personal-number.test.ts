import { inspect } from 'node:util';
import fc from 'fast-check';
import personnummerModule from 'personnummer';
import t from 'tap';
import { type LocalDate, localDate } from '../../src/domain/dates.ts';
import {
  luhnControlDigit,
  PersonalNumber,
  type PersonalNumberProblem,
  PROBLEM_MESSAGES,
} from '../../src/domain/personal-number.ts';
import { AppError } from '../../src/errors.ts';

// Its types describe an ES module with a default export, but Node loads its CommonJS build, whose
// module.exports is the class itself.
const Personnummer = personnummerModule as unknown as typeof personnummerModule.default;

// All numbers here are fictional. The control digits come from this independent Luhn helper (written from
// Skatteverket's description), not from the code under test.
function luhn(nineDigits: string): number {
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    const p = Number(nineDigits[i]) * (i % 2 === 0 ? 2 : 1);
    sum += Math.floor(p / 10) + (p % 10);
  }
  return (10 - (sum % 10)) % 10;
}
/** A valid 12-digit number for YYYYMMDD (day + 60 for a coordination number) and a 3-digit birth number. */
const make = (yyyymmdd: string, serial: string): string =>
  yyyymmdd + serial + luhn(yyyymmdd.slice(2) + serial);

const REF = localDate('2026-03-10');
const parse = (input: string, referenceDate: LocalDate = REF, allowCoordinationNumber?: boolean) =>
  PersonalNumber.parse(input, {
    referenceDate,
    ...(allowCoordinationNumber === undefined ? {} : { allowCoordinationNumber }),
  });
const digitsOf = (input: string, referenceDate: LocalDate = REF): string => {
  const r = parse(input, referenceDate);
  if (!r.ok) throw new Error(`expected ${input} to parse, got ${r.reason}`);
  return r.value.digits;
};
const reasonOf = (input: string, referenceDate: LocalDate = REF, allowCoordinationNumber?: boolean) => {
  const r = parse(input, referenceDate, allowCoordinationNumber);
  return r.ok ? 'ok' : r.reason;
};

t.test('the test helper agrees with the published example 811218-9876', async (t) => {
  t.equal(luhn('811218987'), 6);
  t.equal(luhnControlDigit('811218987'), 6);
  t.equal(make('19121212', '121'), '191212121212');
});

t.test('12-digit forms, with and without a hyphen', async (t) => {
  for (const input of ['19121212-1212', '191212121212', ' 19121212-1212\n']) {
    const r = parse(input);
    t.ok(r.ok, input);
    if (!r.ok) continue;
    t.equal(r.value.digits, '191212121212');
    t.equal(r.value.birthDate, '1912-12-12');
    t.equal(r.value.isCoordinationNumber, false);
    t.equal(r.value.legalSex, 'male');
  }
});

t.test('10-digit forms take their century from the reference year (FOL 18 §)', async (t) => {
  t.equal(digitsOf('121212-1212'), '201212121212');
  t.equal(digitsOf('1212121212'), '201212121212', 'no separator reads as a hyphen');
  t.equal(digitsOf('121212+1212'), '191212121212', '+ means 100 or older: a century back');
  t.equal(digitsOf('850714-2282'), '198507142282');
  t.equal(digitsOf('850714-2282', localDate('1990-01-01')), '198507142282');
  t.equal(digitsOf('850714-2282', localDate('2084-12-31')), '198507142282');
  t.equal(digitsOf('850714+2282', localDate('2085-01-01')), '198507142282', 'from the year they turn 100');
  t.equal(
    digitsOf('850714-2282', localDate('2085-08-01')),
    '208507142282',
    'a hyphen now means born in 2085',
  );
});

t.test(
  'the separator turns to + on 1 January of the year the person turns 100, not on the birthday',
  async (t) => {
    // Born 1926-12-31: turns 100 on 2026-12-31, but writes + all through 2026.
    t.equal(digitsOf('261231+1239', localDate('2026-01-01')), '192612311239');
    t.equal(digitsOf('261231-1239', localDate('2025-12-31')), '192612311239');
    t.equal(
      reasonOf('261231-1239', localDate('2026-01-01')),
      'date_in_future',
      'a hyphen in 2026 means born in 2026',
    );
    t.equal(digitsOf('270101-1237', REF), '192701011237', 'turns 100 next year: still a hyphen');
    t.equal(digitsOf('270101+1237', REF), '182701011237', '+ moves a further century back');
  },
);

t.test('born on the reference date, and after it', async (t) => {
  t.equal(digitsOf('260310-1235'), '202603101235');
  t.equal(digitsOf('20260310-1235'), '202603101235');
  t.equal(reasonOf('260311-1234'), 'date_in_future');
  t.equal(reasonOf('20260311-1234'), 'date_in_future');
});

t.test('a 12-digit number with + only for those who turn 100 or more in the reference year', async (t) => {
  t.equal(digitsOf('19121212+1212'), '191212121212');
  t.equal(digitsOf('19261230+1230'), '192612301230', 'turns 100 later this year');
  t.equal(reasonOf('19270101+1237'), 'separator');
  t.equal(reasonOf('20121212+1212'), 'separator');
  t.equal(digitsOf('19121212-1212'), '191212121212', 'a hyphen is always fine with 12 digits');
});

t.test('format', async (t) => {
  const bad = [
    '',
    '12345',
    '121212-121',
    '19121212--1212',
    '1912121212121',
    '19121212121212',
    '121212 1212',
    '121212_1212',
    '121212-T212',
    'abcdefghij',
    '１２１２１２-１２１２',
    '191212-121212',
  ];
  for (const input of bad) t.equal(reasonOf(input), 'format', JSON.stringify(input));
  t.equal(reasonOf(12121212 as unknown as string), 'format', 'not a string');
  t.equal(reasonOf(undefined as unknown as string), 'format');
});

t.test('checksum', async (t) => {
  t.equal(reasonOf('19121212-1213'), 'checksum');
  t.equal(reasonOf('121212-1210'), 'checksum');
  t.equal(reasonOf('811218-9875'), 'checksum');
});

t.test('date', async (t) => {
  t.equal(reasonOf(make('20230229', '123')), 'date', '29 February in a common year');
  t.equal(digitsOf(make('20240229', '123')), make('20240229', '123'), '29 February in a leap year');
  t.equal(reasonOf(make('19000229', '123')), 'date', '1900 was not a leap year');
  t.equal(digitsOf(make('20000229', '123')), make('20000229', '123'), '2000 was');
  t.equal(reasonOf(make('20121301', '123')), 'date');
  t.equal(reasonOf(make('20120001', '123')), 'date');
  t.equal(reasonOf(make('20120100', '123')), 'date');
  t.equal(reasonOf(make('20120132', '123')), 'date');
  t.equal(reasonOf(make('20120431', '123')), 'date');
  t.equal(reasonOf(make('00001010', '123')), 'date', 'year 0');
  t.equal(reasonOf('000000-0000'), 'date');
});

t.test('coordination numbers: day + 60 (FOL 18 a §)', async (t) => {
  const n = make('19900161', '346');
  const r = parse(n);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.value.digits, n);
    t.equal(r.value.birthDate, '1990-01-01');
    t.equal(r.value.isCoordinationNumber, true);
    t.equal(r.value.legalSex, 'female');
    t.equal(r.value.masked(), '19900161-****');
  }
  t.equal(digitsOf('900161-3463'), '199001613463', '10-digit coordination number');
  t.equal(digitsOf(make('20120289', '111')), make('20120289', '111'), '29 February + 60 in a leap year');
  t.equal(reasonOf(make('20130289', '111')), 'date', '29 February + 60 in a common year');
  t.equal(reasonOf(make('20120192', '111')), 'date', 'day 32 + 60');
  t.equal(reasonOf(make('20120160', '111')), 'incomplete_date', 'unknown day: 00 + 60');
  t.equal(reasonOf(make('20120065', '111')), 'incomplete_date', 'unknown month');
  t.equal(reasonOf(n, REF, false), 'coordination_not_allowed');
  t.equal(reasonOf('19121212-1212', REF, false), 'ok', 'a personal identity number is fine then');
});

t.test('birth number 000 is never assigned', async (t) => {
  t.equal(reasonOf(make('19121212', '000')), 'serial');
});

t.test('legal sex from the third digit of the birth number', async (t) => {
  const sexOf = (n: string) => {
    const r = parse(n);
    return r.ok ? r.value.legalSex : r.reason;
  };
  t.equal(sexOf(make('19850714', '228')), 'female');
  t.equal(sexOf(make('19850714', '220')), 'female');
  t.equal(sexOf(make('19850714', '137')), 'male');
  t.equal(sexOf(make('19850714', '139')), 'male');
});

t.test('equals compares the normalised number whatever the written form', async (t) => {
  const a = PersonalNumber.parseOrThrow('121212-1212', { referenceDate: REF });
  const b = PersonalNumber.parseOrThrow('201212121212', { referenceDate: REF });
  const c = PersonalNumber.parseOrThrow('121212+1212', { referenceDate: REF });
  t.ok(a.equals(b));
  t.notOk(a.equals(c));
  t.notOk(a.equals({ digits: '201212121212' } as unknown as PersonalNumber));
});

t.test('prints masked everywhere a log or an answer could pick it up', async (t) => {
  const pn = PersonalNumber.parseOrThrow('19850714-2282', { referenceDate: REF });
  const full = ['2282', '198507142282', '8507142282'];
  const renderings = {
    toString: pn.toString(),
    String: String(pn),
    template: `${pn}`,
    concat: `x${pn}`,
    json: JSON.stringify({ pn, list: [pn] }),
    inspect: inspect(pn),
    inspectNested: inspect({ a: { pn } }, { depth: 5 }),
    spread: JSON.stringify({ ...pn }),
    keys: Object.keys(pn).join(','),
    entries: JSON.stringify(Object.entries(pn)),
  };
  for (const [how, text] of Object.entries(renderings)) {
    for (const secret of full) t.notOk(text.includes(secret), `${how} does not contain ${secret}`);
  }
  t.equal(renderings.toString, '19850714-****');
  t.equal(renderings.json, '{"pn":"19850714-****","list":["19850714-****"]}');
  t.equal(renderings.inspect, 'PersonalNumber(19850714-****)');
  t.equal(renderings.spread, '{}');
  t.ok(Object.isFrozen(pn));
});

t.test('reveal and revealShort show the whole number on purpose', async (t) => {
  const pn = PersonalNumber.parseOrThrow('191212121212', { referenceDate: REF });
  t.equal(pn.reveal(), '19121212-1212');
  t.equal(pn.revealShort(REF), '121212+1212');
  t.equal(pn.revealShort(localDate('2011-12-31')), '121212-1212', 'before the year they turned 100');
  t.equal(pn.revealShort(localDate('2012-01-01')), '121212+1212');
});

t.test('parseOrThrow throws AppError invalid_personal_number without the number', async (t) => {
  const input = '19121212-1213';
  const err = t.throws(() => PersonalNumber.parseOrThrow(input, { referenceDate: REF })) as AppError;
  t.ok(err instanceof AppError);
  t.equal(err.code, 'invalid_personal_number');
  t.equal(err.status, 400);
  t.same(err.extra, { reason: 'checksum' });
  t.equal(err.message, PROBLEM_MESSAGES.checksum);
  t.notOk(err.message.includes('1213'));
  t.notOk(err.message.includes('19121212'));
});

t.test('every problem message is a fixed text with nothing number-like in it', async (t) => {
  for (const [reason, message] of Object.entries(PROBLEM_MESSAGES)) {
    t.notMatch(message, /\d{4}/, reason);
  }
});

t.test('fromDigits rebuilds a stored number', async (t) => {
  const stored = PersonalNumber.parseOrThrow('900161-3463', { referenceDate: REF }).digits;
  const pn = PersonalNumber.fromDigits(stored);
  t.equal(pn.digits, '199001613463');
  t.equal(pn.birthDate, '1990-01-01');
  const reasonFrom = (digits: string) => {
    try {
      PersonalNumber.fromDigits(digits);
      return 'ok';
    } catch (e) {
      return (e as AppError).extra?.reason;
    }
  };
  t.equal(reasonFrom('8507142282'), 'format', '10 digits are not a stored form');
  t.equal(reasonFrom('19850714-2282'), 'format');
  t.equal(reasonFrom(42 as unknown as string), 'format');
  t.equal(reasonFrom('198507142283'), 'checksum');
  t.equal(reasonFrom(make('20230229', '123')), 'date');
  t.equal(reasonFrom(make('20990101', '123')), 'ok', 'no reference-date rules for stored numbers');
});

// --- Properties -----------------------------------------------------------------------------------------

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
/** A valid number: a birth date from 1850 to 2026, a birth number 001–999, maybe a coordination number. */
const validNumber = fc
  .record({
    birth: fc.date({
      min: new Date('1850-01-01T00:00:00Z'),
      max: new Date('2026-03-10T00:00:00Z'),
      noInvalidDate: true,
    }),
    serial: fc.integer({ min: 1, max: 999 }),
    coordination: fc.boolean(),
  })
  .map(({ birth, serial, coordination }) => {
    const [y, m, d] = isoDay(birth).split('-') as [string, string, string];
    const day = coordination ? String(Number(d) + 60) : d;
    return { digits: make(`${y}${m}${day}`, String(serial).padStart(3, '0')), birthDate: `${y}-${m}-${d}` };
  });
const referenceAfter = (birthDate: string) =>
  fc
    .integer({ min: 0, max: 199 })
    .chain((years) =>
      fc
        .date({
          min: new Date(`${Number(birthDate.slice(0, 4)) + years}-01-01T00:00:00Z`),
          max: new Date(`${Number(birthDate.slice(0, 4)) + years}-12-31T00:00:00Z`),
          noInvalidDate: true,
        })
        .map((d) => localDate(isoDay(d))),
    )
    .filter((ref) => ref >= birthDate);

t.test('property: 12-digit ↔ 10-digit forms round-trip', async (t) => {
  fc.assert(
    fc.property(
      validNumber.chain((n) => fc.tuple(fc.constant(n), referenceAfter(n.birthDate))),
      ([n, ref]) => {
        const pn = PersonalNumber.parseOrThrow(n.digits, { referenceDate: ref });
        const short = pn.revealShort(ref);
        return (
          pn.birthDate === n.birthDate &&
          digitsOf(short, ref) === n.digits &&
          digitsOf(short.replace('-', ''), ref) === n.digits &&
          digitsOf(pn.reveal(), ref) === n.digits
        );
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});

t.test('property: printing never shows the birth number or control digit', async (t) => {
  fc.assert(
    fc.property(validNumber, (n) => {
      const pn = PersonalNumber.fromDigits(n.digits);
      // The last four digits can occur inside the date part (20121212-1212), so the claim is structural: the
      // output holds exactly the 8 date digits, and nothing after them.
      for (const text of [String(pn), JSON.stringify(pn), inspect(pn), `${pn}`]) {
        const digitsOnly = text.replace(/\D/g, '');
        if (digitsOnly !== n.digits.slice(0, 8)) return false;
        if (text.includes(n.digits) || text.includes(n.digits.slice(2)) || text.includes(pn.reveal()))
          return false;
      }
      return pn.masked() === `${n.digits.slice(0, 8)}-****`;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

t.test('property: any single wrong digit is caught by the control digit', async (t) => {
  fc.assert(
    fc.property(
      validNumber,
      fc.integer({ min: 2, max: 11 }),
      fc.integer({ min: 1, max: 9 }),
      (n, pos, delta) => {
        const wrong = String((Number(n.digits[pos]) + delta) % 10);
        const typo = n.digits.slice(0, pos) + wrong + n.digits.slice(pos + 1);
        return reasonOf(typo, localDate('9999-12-31')) === 'checksum';
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});

t.test(
  'property: agrees with the npm personnummer package on which 12-digit numbers are valid',
  async (t) => {
    // The package is right where the clock does not matter (explicit century, no separator); a differential
    // check against it guards our date, coordination and birth-number rules.
    const candidate = fc
      .record({
        year: fc.integer({ min: 1850, max: 2025 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 59, max: 92 })),
        serial: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999 })),
        control: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 9 })),
      })
      .map(({ year, month, day, serial, control }) => {
        const two = (n: number) => String(n).padStart(2, '0');
        const head = `${year}${two(month)}${two(day)}${String(serial).padStart(3, '0')}`;
        return head + (control === -1 ? luhn(head.slice(2)) : control);
      });
    fc.assert(
      fc.property(candidate, (digits) => {
        const ours = parse(digits, localDate('9999-12-31')).ok;
        return (
          ours === Personnummer.valid(digits, { allowCoordinationNumber: true, allowInterimNumber: false })
        );
      }),
      { numRuns: 2000 },
    );
    t.pass();
  },
);

t.test('the problem list is complete', async (t) => {
  const reasons: PersonalNumberProblem[] = [
    'format',
    'checksum',
    'date',
    'incomplete_date',
    'serial',
    'coordination_not_allowed',
    'date_in_future',
    'separator',
  ];
  t.same(Object.keys(PROBLEM_MESSAGES).sort(), [...reasons].sort());
});

import fc from 'fast-check';
import t from 'tap';
import { maskPersonalData } from '../../src/domain/personal-data.ts';
import { luhnControlDigit } from '../../src/domain/personal-number.ts';

const PNR12 = '199001152384';
const PNR10 = '900115-2384';
const COORD = '19900175-2383';
const EMAIL = 'anna.svensson@example.se';

t.test('maskPersonalData', async (t) => {
  t.equal(maskPersonalData(`a ${PNR12} b`), 'a [personnummer] b');
  t.equal(maskPersonalData(`a ${PNR10} b`), 'a [personnummer] b');
  t.equal(maskPersonalData('a 19121212+1212 b'), 'a [personnummer] b');
  t.equal(maskPersonalData(`a ${COORD} b`), 'a [personnummer] b', 'coordination number');
  t.equal(
    maskPersonalData('time 1732363200000 and 12.5 ms'),
    'time 1732363200000 and 12.5 ms',
    'not epoch ms',
  );
  t.equal(maskPersonalData(`mail ${EMAIL}`), 'mail [e-post]');
  t.equal(maskPersonalData('nothing here'), 'nothing here');
});

// Regression (issue 15 §5): percent-encoded separators stayed unmasked in 194 log lines.
t.test('a percent-encoded separator is masked', async (t) => {
  t.equal(maskPersonalData('/x?pnr=19850615%2D2340&a=1'), '/x?pnr=[personnummer]&a=1');
  t.equal(maskPersonalData('/x?pnr=120303%2B4564'), '/x?pnr=[personnummer]');
  t.equal(maskPersonalData('pnr=19850615%2d2340'), 'pnr=[personnummer]', 'lowercase');
  t.equal(maskPersonalData('pnr=19850615%252D2340'), 'pnr=[personnummer]', 'encoded twice');
  t.equal(maskPersonalData('pnr=19850615%25252d2340'), 'pnr=[personnummer]', 'three times');
  t.equal(maskPersonalData('pnr=19850615+2340'), 'pnr=[personnummer]', 'a space as + in a query');
  t.equal(maskPersonalData('pnr=19850615%202340'), 'pnr=[personnummer]', 'a space as %20');
  t.equal(maskPersonalData('pnr 19850615 2340.'), 'pnr [personnummer].', 'a space');
  t.equal(maskPersonalData('%31%39%38%35%30%36%31%35%32%33%34%30'), '[personnummer]', 'digits encoded');
  t.equal(maskPersonalData('19850615–2340 och 850615—2340'), '[personnummer] och [personnummer]', 'dashes');
  t.equal(maskPersonalData('19850615%E2%80%932340'), '[personnummer]', 'an encoded en dash');
  t.equal(maskPersonalData('１９８５０６１５－２３４０'), '[personnummer]', 'full-width');
  t.equal(maskPersonalData('%EF%BC%91%EF%BC%99850615-2340'), '[personnummer]', 'encoded full-width');
  t.equal(maskPersonalData('19850615\u00a02340'), '[personnummer]', 'a no-break space');
});

t.test('ordinary numbers and encodings stay as they are', async (t) => {
  for (const text of [
    '100%',
    '50% of 1000',
    '%zz%2',
    '%E2%80 broken',
    '%C3%28 and %80 are no UTF-8',
    '%C3%A5ngest %F0%9F%98%80',
    '"responseTime":12.5,"at":"2026-03-10T12:00:00.000Z"',
    'bytes 1732363200000 %31%37%33%32%33%36%33%32%30%30%30%30%30',
    'order 123456789, item 12345678901234',
    '850615–23401',
    '8506152340.5 and 0.8506152340',
    '19851315-2340',
  ])
    t.equal(maskPersonalData(text), text, text);
});

// --- Properties -----------------------------------------------------------------------------------------

/** A valid number as 12 digits: birth 1850–2026 (maybe a coordination number), birth number 001–999. */
const validNumber = fc
  .record({
    birth: fc.date({
      min: new Date('1850-01-01T00:00:00Z'),
      max: new Date('2026-12-31T00:00:00Z'),
      noInvalidDate: true,
    }),
    serial: fc.integer({ min: 1, max: 999 }),
    coordination: fc.boolean(),
  })
  .map(({ birth, serial, coordination }) => {
    const [y, m, d] = birth.toISOString().slice(0, 10).split('-') as [string, string, string];
    const day = coordination ? String(Number(d) + 60) : d;
    const nine = `${y.slice(2)}${m}${day}${String(serial).padStart(3, '0')}`;
    return `${y.slice(0, 2)}${nine}${luhnControlDigit(nine)}`;
  });

const percent = (c: string) =>
  [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const upper = (s: string) => s.toUpperCase();
const twice = (s: string) => s.replaceAll('%', '%25');

/** One digit as it may be written: itself, percent-encoded (any case, once or twice), full-width. */
const digitShape = (d: string) =>
  fc.constantFrom(
    d,
    d,
    d,
    percent(d),
    twice(percent(d)),
    String.fromCharCode(0xff10 + Number(d)),
    upper(percent(String.fromCharCode(0xff10 + Number(d)))),
  );

const SEPARATORS = [
  '',
  '-',
  '+',
  ' ',
  '%2D',
  '%2d',
  '%252D',
  '%2B',
  '%2b',
  '%252B',
  '%20',
  '\u2010',
  '\u2011',
  '\u2012',
  '\u2013',
  '\u2014',
  '\u2212',
  '\ufe63',
  '\uff0d',
  '\u00a0',
  '%E2%80%93',
  '%e2%88%92',
];

/** A number in one of its many shapes: 12 or 10 digits, a separator, each digit written some way. */
const encodedNumber = fc
  .tuple(validNumber, fc.boolean(), fc.constantFrom(...SEPARATORS))
  .chain(([digits, long, separator]) => {
    const written = long ? digits : digits.slice(2);
    const shapes = [...written].map(digitShape);
    return fc.tuple(...shapes).map((ds) => ({
      digits,
      text: `${ds.slice(0, -4).join('')}${separator}${ds.slice(-4).join('')}`,
    }));
  });

/** Where a number turns up in a log line, on either side of it. */
const before = fc.constantFrom('', 'pnr=', '"msg":"got ', '/api/x?childPersonalNumber=', 'a ', '(', '/');
const after = fc.constantFrom('', '&b=c', '"}', ' b', '/granska', ')', ',');

t.test('property: a valid personal number is masked in every encoding', async () => {
  fc.assert(
    fc.property(encodedNumber, before, after, ({ text }, pre, post) => {
      const masked = maskPersonalData(`${pre}${text}${post}`);
      if (masked !== `${pre}[personnummer]${post}`)
        throw new Error(`not masked: ${JSON.stringify(`${pre}${text}${post}`)} → ${masked}`);
    }),
    { numRuns: 2000 },
  );
});

t.test('a UUID is an id: a run in it that reads as a personal number is kept', async (t) => {
  const id = '6c380274-3372-4c33-83d5-a49fc260ad18'; // 380274-3372: a coordination number's shape
  t.equal(maskPersonalData(`{"callerId":"${id}"}`), `{"callerId":"${id}"}`);
  t.equal(
    maskPersonalData(`/api/v1/consents/${id.toUpperCase()}/status`),
    `/api/v1/consents/${id.toUpperCase()}/status`,
  );
  t.equal(
    maskPersonalData(`id ${id} pnr 19850615-2340`),
    `id ${id} pnr [personnummer]`,
    'a number beside it is masked',
  );
  t.equal(
    maskPersonalData(`id ${id} pnr 19850615%2D2340`),
    `id ${id} pnr [personnummer]`,
    'and an encoded one',
  );
  t.equal(
    maskPersonalData(`x${id}`),
    'x6c[personnummer]-4c33-83d5-a49fc260ad18',
    'only a whole UUID: not one inside a longer word',
  );
});

t.test('property: a UUID is never changed', async () => {
  fc.assert(
    fc.property(fc.uuid(), before, after, (id, pre, post) => {
      const text = `${pre}${id}${post}`;
      if (maskPersonalData(text) !== text) throw new Error(`masked: ${JSON.stringify(text)}`);
    }),
    { numRuns: 5000 },
  );
});

t.test('property: runs of up to 9 or from 13 digits are never masked, however encoded', async () => {
  const digitRun = fc
    .oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 13, max: 20 }))
    .chain((n) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }))
    .chain((ds) => fc.tuple(...ds.map((d) => digitShape(String(d)))));
  fc.assert(
    fc.property(digitRun, before, after, (ds, pre, post) => {
      const text = `${pre}${ds.join('')}${post}`;
      if (maskPersonalData(text) !== text) throw new Error(`masked: ${JSON.stringify(text)}`);
    }),
    { numRuns: 1000 },
  );
});

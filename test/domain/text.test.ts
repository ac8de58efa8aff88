// The one text type at the edge (issue 15): which characters text from outside may hold.
import fc from 'fast-check';
import t from 'tap';
import { FORBIDDEN_CHARACTER_MESSAGE, hasForbiddenCharacter, textInput } from '../../src/domain/text.ts';

t.test('a line holds no control character, lone surrogate or noncharacter', async (t) => {
  for (const c of [
    '\u0000',
    '\u0001',
    '\t',
    '\n',
    '\r',
    '\u001f',
    '\u007f',
    '\u0085',
    '\u009f',
    '\ud800',
    '\udfff',
    '\ufffe',
    '\uffff',
  ])
    t.ok(hasForbiddenCharacter(`Anna${c}Lindqvist`), JSON.stringify(c));
  for (const v of [
    'Anna-Lena Åström',
    'Nguyễn Thị Mai',
    'O’Brien',
    '😀 emoji (a surrogate pair)',
    '',
    'a\u00a0b',
    '\u2028',
  ])
    t.notOk(hasForbiddenCharacter(v), v);
});

t.test('lines (free text) may hold tab and line breaks, nothing else of that kind', async (t) => {
  t.notOk(hasForbiddenCharacter('Rad ett\r\nRad två\n\tindraget', 'lines'));
  for (const c of ['\u0000', '\u000b', '\u000c', '\u001b', '\u007f', '\u0085', '\ud800', '\uffff'])
    t.ok(hasForbiddenCharacter(`a${c}b`, 'lines'), JSON.stringify(c));
});

t.test('what PostgreSQL cannot store never passes (property)', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' }), (a, b) => {
      const v = `${a}${b}`;
      if (!hasForbiddenCharacter(v, 'lines')) {
        if (v.includes('\u0000')) return false;
        if (Buffer.from(v, 'utf8').toString('utf8') !== v) return false; // a lone surrogate would not survive
      }
      return true;
    }),
    { seed: 15, numRuns: 2000 },
  );
  t.pass();
});

t.test(
  'textInput: refused first with one message that never quotes the value; then the field’s rules',
  async (t) => {
    const name = textInput({ error: 'Ange namn.' }).trim().min(1, 'Ange namn.').max(10, 'För långt.');
    const nul = name.safeParse('Kvist\u0000'.repeat(5));
    t.notOk(nul.success);
    t.same(
      nul.error?.issues.map((i) => i.message),
      [FORBIDDEN_CHARACTER_MESSAGE],
      'one message, not also "too long"',
    );
    t.notMatch(FORBIDDEN_CHARACTER_MESSAGE, /Kvist/);
    t.same(
      name.safeParse(42).error?.issues.map((i) => i.message),
      ['Ange namn.'],
    );
    t.equal(name.parse('  Saga  '), 'Saga');
    t.same(
      name.safeParse('   ').error?.issues.map((i) => i.message),
      ['Ange namn.'],
    );
    const note = textInput({ kind: 'lines' });
    t.equal(note.parse('a\nb'), 'a\nb');
    t.notOk(note.safeParse('a\u0000b').success);
  },
);

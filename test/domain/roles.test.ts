import t from 'tap';
import { localDate } from '../../src/domain/dates.ts';
import {
  ROLE_LABELS_SV,
  roleInSentenceSv,
  type ConsentPeopleInput,
  isSignerRole,
  requiredRoles,
  validateConsentPeople,
  youthRequirement,
} from '../../src/domain/roles.ts';

// Fictional numbers with valid control digits (see personal-number.test.ts for the helper that made them).
const REQUEST = localDate('2026-03-10');
const N = {
  child11: '20140505-2422', // 11 on the request date
  child12Today: '20140310-3862', // turns 12 on the request date
  child12Tomorrow: '20140311-3853', // still 11
  child18Today: '20080310-1484', // turns 18 on the request date
  child18Tomorrow: '20080311-1475', // still 17
  guardianA: '19850714-2282',
  guardianAShort: '850714-2282',
  guardianB: '19831102-1375',
  guardianCoordination: '19900161-3463',
  bornLeapDay2012: '20120229-3930',
  bornLeapDay2016: '20160229-2425',
};
const ALL_NUMBERS = Object.values(N);

const people = (over: Partial<ConsentPeopleInput> = {}): ConsentPeopleInput => ({
  child: { personalNumber: N.child11 },
  guardians: [{ personalNumber: N.guardianA }, { personalNumber: N.guardianB }],
  soleGuardian: false,
  ...over,
});
const validate = (input: ConsentPeopleInput, youthSignatureAge = 12) =>
  validateConsentPeople(input, { requestDate: REQUEST, youthSignatureAge });
const problemsOf = (input: ConsentPeopleInput, youthSignatureAge = 12) => {
  const r = validate(input, youthSignatureAge);
  return r.ok ? [] : r.problems.map((p) => ({ path: p.path.join('.'), code: p.code, reason: p.reason }));
};

t.test('requiredRoles', async (t) => {
  t.same(requiredRoles({ soleGuardian: false, youthSigns: false }), ['guardian1', 'guardian2']);
  t.same(requiredRoles({ soleGuardian: true, youthSigns: false }), ['guardian1']);
  t.same(requiredRoles({ soleGuardian: false, youthSigns: true }), ['guardian1', 'guardian2', 'youth']);
  t.same(requiredRoles({ soleGuardian: true, youthSigns: true }), ['guardian1', 'youth']);
});

t.test('isSignerRole', async (t) => {
  t.ok(isSignerRole('guardian1'));
  t.ok(isSignerRole('youth'));
  t.notOk(isSignerRole('guardian3'));
  t.notOk(isSignerRole(undefined));
});

t.test('youthRequirement: required from the threshold age on the request date', async (t) => {
  t.equal(youthRequirement(localDate('2014-03-10'), REQUEST, 12), 'required', 'turns 12 that day');
  t.equal(youthRequirement(localDate('2014-03-11'), REQUEST, 12), 'optional', 'turns 12 the day after');
  t.equal(youthRequirement(localDate('2010-01-01'), REQUEST, 12), 'required');
  t.equal(youthRequirement(localDate('2020-01-01'), REQUEST, 12), 'optional');
  t.equal(youthRequirement(localDate('2020-01-01'), REQUEST, 6), 'required', 'a lower configured threshold');
  for (const bad of [-1, 19, 12.5, Number.NaN]) {
    t.throws(() => youthRequirement(localDate('2014-03-10'), REQUEST, bad), RangeError, String(bad));
  }
});

t.test('youthRequirement for a child born on 29 February', async (t) => {
  const born = localDate('2012-02-29');
  t.equal(youthRequirement(born, localDate('2024-02-28'), 12), 'optional', 'leap year: birthday is the 29th');
  t.equal(youthRequirement(born, localDate('2024-02-29'), 12), 'required');
  t.equal(youthRequirement(born, localDate('2025-02-27'), 13), 'optional');
  t.equal(
    youthRequirement(born, localDate('2025-02-28'), 13),
    'required',
    'common year: a year older on the 28th',
  );
});

t.test('two guardians and a child under the threshold', async (t) => {
  const r = validate(people());
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.child.digits, '201405052422');
  t.same(
    r.value.guardians.map((g) => g.digits),
    ['198507142282', '198311021375'],
  );
  t.equal(r.value.youth, 'optional');
  t.equal(r.value.youthSigns, false);
  t.same(r.value.requiredRoles, ['guardian1', 'guardian2']);
});

t.test('a sole guardian', async (t) => {
  const r = validate(people({ soleGuardian: true, guardians: [{ personalNumber: N.guardianCoordination }] }));
  t.ok(r.ok);
  if (r.ok) t.same(r.value.requiredRoles, ['guardian1']);
});

t.test('staff may ask a younger child; the youth then must sign', async (t) => {
  const r = validate(people({ youthSigns: true }));
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.youth, 'optional');
  t.equal(r.value.youthSigns, true);
  t.same(r.value.requiredRoles, ['guardian1', 'guardian2', 'youth']);
});

t.test('staff cannot drop the youth at or above the threshold', async (t) => {
  for (const youthSigns of [false, undefined]) {
    const r = validate(people({ child: { personalNumber: N.child12Today }, youthSigns }));
    t.ok(r.ok);
    if (!r.ok) continue;
    t.equal(r.value.youth, 'required');
    t.equal(r.value.youthSigns, true);
    t.same(r.value.requiredRoles, ['guardian1', 'guardian2', 'youth']);
  }
  const younger = validate(people({ child: { personalNumber: N.child12Tomorrow } }));
  t.ok(younger.ok && younger.value.youth === 'optional' && !younger.value.youthSigns);
  const lowThreshold = validate(people(), 11);
  t.ok(lowThreshold.ok && lowThreshold.value.youthSigns, 'the configured threshold is used');
});

t.test('the child must be under 18 on the request date', async (t) => {
  t.same(problemsOf(people({ child: { personalNumber: N.child18Today } })), [
    { path: 'child.personalNumber', code: 'child_not_minor', reason: undefined },
  ]);
  t.same(problemsOf(people({ child: { personalNumber: N.child18Tomorrow } })), []);
});

t.test('guardians must be adults', async (t) => {
  const minor = people({
    guardians: [{ personalNumber: N.guardianA }, { personalNumber: N.child18Tomorrow }],
  });
  t.same(problemsOf(minor), [
    { path: 'guardians.1.personalNumber', code: 'guardian_not_adult', reason: undefined },
  ]);
  const justAdult = people({
    guardians: [{ personalNumber: N.child18Today }, { personalNumber: N.guardianB }],
  });
  t.same(problemsOf(justAdult), [], 'turns 18 on the request date');
});

t.test('three different people, compared on the normalised number', async (t) => {
  t.same(
    problemsOf(
      people({ guardians: [{ personalNumber: N.guardianA }, { personalNumber: N.guardianAShort }] }),
    ),
    [{ path: 'guardians.1.personalNumber', code: 'same_guardian_twice', reason: undefined }],
    'same number in 12- and 10-digit form',
  );
  t.same(
    problemsOf(people({ guardians: [{ personalNumber: '140505-2422' }, { personalNumber: N.guardianB }] })),
    [{ path: 'guardians.0.personalNumber', code: 'guardian_is_child', reason: undefined }],
  );
});

t.test('number of guardians against the sole-guardian mark', async (t) => {
  t.same(problemsOf(people({ guardians: [] })), [
    { path: 'guardians', code: 'guardian_missing', reason: undefined },
  ]);
  t.same(problemsOf(people({ guardians: [], soleGuardian: true })), [
    { path: 'guardians', code: 'guardian_missing', reason: undefined },
  ]);
  t.same(problemsOf(people({ guardians: [{ personalNumber: N.guardianA }] })), [
    { path: 'guardians.1', code: 'second_guardian_missing', reason: undefined },
  ]);
  t.same(problemsOf(people({ soleGuardian: true })), [
    { path: 'guardians.1', code: 'second_guardian_with_sole_guardian', reason: undefined },
  ]);
  const three = people({
    guardians: [
      { personalNumber: N.guardianA },
      { personalNumber: N.guardianB },
      { personalNumber: N.guardianCoordination },
    ],
  });
  t.same(problemsOf(three), [{ path: 'guardians', code: 'too_many_guardians', reason: undefined }]);
});

t.test('invalid numbers are reported per field with the reason', async (t) => {
  const input = people({
    child: { personalNumber: '20140505-2423' },
    guardians: [{ personalNumber: 'not a number' }, { personalNumber: '20990101-1230' }],
  });
  t.same(problemsOf(input), [
    { path: 'child.personalNumber', code: 'invalid_personal_number', reason: 'checksum' },
    { path: 'guardians.0.personalNumber', code: 'invalid_personal_number', reason: 'format' },
    { path: 'guardians.1.personalNumber', code: 'invalid_personal_number', reason: 'date_in_future' },
  ]);
});

t.test('several problems at once, and none of them repeats a number', async (t) => {
  const input = people({
    child: { personalNumber: N.child18Today },
    guardians: [{ personalNumber: N.child18Tomorrow }, { personalNumber: N.child18Tomorrow }],
  });
  const r = validate(input);
  t.notOk(r.ok);
  if (r.ok) return;
  t.same(
    r.problems.map((p) => p.code),
    ['child_not_minor', 'guardian_not_adult', 'guardian_not_adult', 'same_guardian_twice'],
  );
  const text = JSON.stringify(r.problems);
  for (const n of ALL_NUMBERS) {
    t.notOk(text.includes(n) || text.includes(n.replace('-', '')) || text.includes(n.slice(2)), n);
  }
  for (const p of r.problems) t.ok(p.message.length > 0);
});

t.test('the threshold itself is checked', async (t) => {
  t.throws(() => validate(people(), 19), RangeError);
});

t.test('role labels: one table, as a label and inside a sentence', async (t) => {
  t.same(ROLE_LABELS_SV, {
    guardian1: 'Vårdnadshavare 1',
    guardian2: 'Vårdnadshavare 2',
    youth: 'Berörd ungdom',
  });
  t.equal(roleInSentenceSv('youth'), 'berörd ungdom');
  t.equal(roleInSentenceSv('guardian2'), 'vårdnadshavare 2');
});

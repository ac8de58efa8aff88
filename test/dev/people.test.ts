import t from 'tap';
import { ageOn, type LocalDate, localDate } from '../../src/domain/dates.ts';
import { PersonalNumber } from '../../src/domain/personal-number.ts';
import { createTestPeople, findTestPerson } from '../../src/dev/people.ts';

const TODAY = localDate('2026-11-23');

const isLatin1 = (s: string) => [...s].every((ch) => ch.codePointAt(0)! <= 0xff);

t.test('every number is a valid, fictional Swedish number matching the birth date', async (t) => {
  for (const ref of ['2026-11-23', '2026-01-01', '2026-12-31', '2031-06-15'].map(localDate)) {
    const { people } = createTestPeople(ref);
    const numbers = new Set<string>();
    for (const p of people) {
      const parsed = PersonalNumber.parse(p.personalNumber, { referenceDate: ref });
      t.ok(parsed.ok, `${p.key} parses on ${ref}`);
      if (!parsed.ok) continue;
      t.equal(parsed.value.digits, p.personalNumber);
      t.equal(parsed.value.birthDate, p.birthDate);
      t.equal(parsed.value.legalSex, p.legalSex);
      t.equal(p.fictional, true);
      numbers.add(p.personalNumber);
    }
    t.equal(numbers.size, people.length, 'numbers are unique');
  }
});

t.test('the scenarios the service needs', async (t) => {
  for (const ref of ['2026-11-23', '2026-01-01', '2026-02-09', '2026-12-31', '2030-03-02'].map(localDate)) {
    const tp = createTestPeople(ref);
    const age = (key: string) => ageOn(findTestPerson(tp, key)!.birthDate, ref as LocalDate);
    const pairs = tp.households.filter(
      (h) => !h.soleGuardian && h.guardians.length === 2 && h.children.length > 0,
    );
    t.ok(pairs.length >= 2, 'at least two guardian pairs with children');
    const sole = tp.households.filter(
      (h) => h.soleGuardian && h.guardians.length === 1 && h.children.length > 0,
    );
    t.ok(sole.length >= 1, 'a sole guardian with a child');
    const children = tp.people.filter((p) => p.role === 'child');
    t.ok(
      children.some((c) => age(c.key) >= 12 && age(c.key) <= 15),
      `a youth aged 12–15 on ${ref}`,
    );
    t.ok(
      children.some((c) => age(c.key) >= 16 && age(c.key) <= 17),
      `a youth aged 16–17 on ${ref}`,
    );
    t.ok(
      children.some((c) => age(c.key) < 12),
      'a younger child',
    );
    for (const c of children) t.ok(age(c.key) >= 1 && age(c.key) < 18, `${c.key} is a minor`);
    for (const h of tp.households) {
      for (const key of [...h.guardians, ...h.children]) t.ok(findTestPerson(tp, key), `${key} exists`);
      for (const g of h.guardians) t.ok(age(g) >= 18, `${g} is an adult`);
    }
  }
});

t.test('staff at a school, a health centre and social services, with e-mail', async (t) => {
  const tp = createTestPeople(TODAY);
  const staff = tp.people.filter((p) => p.role === 'staff');
  t.same(
    new Set(staff.map((s) => s.organisation?.type)),
    new Set(['school', 'health_care', 'social_services']),
  );
  for (const s of staff) {
    t.match(s.email, /^[a-z0-9.-]+@[a-z0-9.-]+\.example$/, `${s.key} has an e-mail at a reserved domain`);
    t.ok(s.title);
  }
});

t.test('names: Swedish, and some outside Latin-1', async (t) => {
  const { people } = createTestPeople(TODAY);
  t.ok(people.some((p) => p.name === 'Łucja Şahin'));
  t.ok(people.filter((p) => !isLatin1(p.name)).length >= 3);
  t.ok(people.some((p) => /[åäö]/i.test(p.name)));
});

t.test('numbers stay the same for a whole calendar year', async (t) => {
  const a = createTestPeople(localDate('2026-01-01')).people.map((p) => p.personalNumber);
  const b = createTestPeople(localDate('2026-12-31')).people.map((p) => p.personalNumber);
  t.same(a, b);
});

t.test('a guardian has a coordination number', async (t) => {
  const tp = createTestPeople(TODAY);
  const mehmet = findTestPerson(tp, 'mehmet-sahin')!;
  const parsed = PersonalNumber.parse(mehmet.personalNumber, { referenceDate: TODAY });
  t.ok(parsed.ok && parsed.value.isCoordinationNumber);
});

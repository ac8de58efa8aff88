import { inspect } from 'node:util';
import tap, { type Test } from 'tap';
import { localDate } from '../../src/domain/dates.ts';
import { luhnControlDigit } from '../../src/domain/personal-number.ts';
import { AppError } from '../../src/errors.ts';
import {
  assertAcrAccepted,
  assertIdentifiedForAct,
  DEFAULT_SCOPES,
  hasProfileClaims,
  LOA,
  mapClaims,
  mapStaffClaims,
  SWEDISH_OIDC,
} from '../../src/identity/claims.ts';
import { fictionalNumber } from '../../src/dev/people.ts';

// Fictional numbers, built with the dev IdP's helper (Luhn from the domain module).
const PIN = fictionalNumber(localDate('1984-05-17'), '982');
const COORDINATION = fictionalNumber(localDate('1987-03-24'), '989', true);
const NOW = new Date('2026-11-23T10:00:00Z');
const base = {
  iss: 'https://idp.example',
  sub: 'subject-1',
  acr: LOA.loa3,
  auth_time: NOW.getTime() / 1000 - 5,
};

function refusal(t: Test, fn: () => unknown, code: string, reason?: string, secrets: string[] = []) {
  try {
    fn();
    t.fail(`expected ${code}`);
  } catch (error) {
    t.type(error, AppError);
    const e = error as AppError;
    t.equal(e.code, code);
    if (reason !== undefined) t.equal(e.extra?.reason, reason);
    const printed = `${e.message} ${JSON.stringify(e.extra)} ${inspect(e, { depth: 10 })}`;
    for (const s of secrets) t.notOk(printed.includes(s), 'the error does not carry the personal data');
  }
}

tap.test('default scopes per profile', async (t) => {
  t.same(DEFAULT_SCOPES['swedish-oidc'], [
    'openid',
    'profile',
    'https://id.oidc.se/scope/naturalPersonNumber',
  ]);
  t.same(DEFAULT_SCOPES.ssn, ['openid', 'profile', 'ssn']);
  t.same(DEFAULT_SCOPES.nin, ['openid', 'profile', 'nin']);
});

tap.test('swedish-oidc', async (t) => {
  const identity = mapClaims(
    'swedish-oidc',
    { ...base, [SWEDISH_OIDC.personalIdentityNumber]: PIN, name: 'Anna Lindqvist' },
    { now: NOW },
  );
  t.same(identity, {
    issuer: 'https://idp.example',
    subject: 'subject-1',
    acr: LOA.loa3,
    authTime: new Date(NOW.getTime() - 5000),
    personalNumber: PIN,
    name: 'Anna Lindqvist',
  });

  const coordination = mapClaims(
    'swedish-oidc',
    { ...base, [SWEDISH_OIDC.coordinationNumber]: COORDINATION, given_name: 'Mehmet', family_name: 'Şahin' },
    { now: NOW },
  );
  t.equal(coordination.personalNumber, COORDINATION);
  t.equal(coordination.name, 'Mehmet Şahin', 'given_name + family_name when name is missing');

  refusal(
    t,
    () =>
      mapClaims(
        'swedish-oidc',
        { ...base, [SWEDISH_OIDC.personalIdentityNumber]: COORDINATION, name: 'X' },
        { now: NOW },
      ),
    'identity_invalid',
    'invalid_number',
    [COORDINATION],
  );
  refusal(
    t,
    () =>
      mapClaims('swedish-oidc', { ...base, [SWEDISH_OIDC.coordinationNumber]: PIN, name: 'X' }, { now: NOW }),
    'identity_invalid',
    'invalid_number',
    [PIN],
  );
  refusal(
    t,
    () => mapClaims('swedish-oidc', { ...base, ssn: PIN, name: 'X' }, { now: NOW }),
    'identity_invalid',
    'missing_number',
  );
});

tap.test('ssn', async (t) => {
  const identity = mapClaims('ssn', { ...base, ssn: PIN, name: 'Anna Lindqvist' }, { now: NOW });
  t.equal(identity.personalNumber, PIN);
  const tenDigits = `${PIN.slice(2, 8)}-${PIN.slice(8)}`;
  t.equal(
    mapClaims('ssn', { ...base, ssn: tenDigits, name: 'A' }, { now: NOW }).personalNumber,
    PIN,
    '10 digits are read too',
  );
  refusal(
    t,
    () => mapClaims('ssn', { ...base, name: 'A' }, { now: NOW }),
    'identity_invalid',
    'missing_number',
  );
  refusal(
    t,
    () => mapClaims('ssn', { ...base, ssn: 12345, name: 'A' }, { now: NOW }),
    'identity_invalid',
    'missing_number',
  );
});

tap.test('nin', async (t) => {
  const claims = { ...base, nin: PIN, nin_issuing_country: 'SE', name: 'Anna Lindqvist' };
  t.equal(mapClaims('nin', claims, { now: NOW }).personalNumber, PIN);
  t.equal(mapClaims('nin', { ...claims, nin_issuing_country: 'se' }, { now: NOW }).personalNumber, PIN);
  refusal(
    t,
    () => mapClaims('nin', { ...claims, nin_issuing_country: 'NO' }, { now: NOW }),
    'identity_invalid',
    'not_swedish',
    [PIN],
  );
  const { nin_issuing_country: _, ...noCountry } = claims;
  refusal(t, () => mapClaims('nin', noCountry, { now: NOW }), 'identity_invalid', 'not_swedish');
});

tap.test('invalid numbers are refused without showing them', async (t) => {
  const badControl = `${PIN.slice(0, 11)}${(Number(PIN[11]) + 1) % 10}`;
  // 30 February with a correct control digit.
  const feb30 = `19840230982${luhnControlDigit('840230982')}`;
  const future = fictionalNumber(localDate('2027-01-05'), '982');
  for (const [number, problem] of [
    [badControl, 'checksum'],
    [feb30, 'date'],
    [future, 'date_in_future'],
    ['abc', 'format'],
  ] as const) {
    refusal(
      t,
      () => mapClaims('ssn', { ...base, ssn: number, name: 'A' }, { now: NOW }),
      'identity_invalid',
      'invalid_number',
      [number],
    );
    try {
      mapClaims('ssn', { ...base, ssn: number, name: 'A' }, { now: NOW });
    } catch (e) {
      t.equal((e as AppError).extra?.numberProblem, problem);
    }
  }
});

tap.test('name and subject are required', async (t) => {
  refusal(
    t,
    () => mapClaims('ssn', { ...base, ssn: PIN }, { now: NOW }),
    'identity_invalid',
    'missing_name',
    [PIN],
  );
  refusal(
    t,
    () => mapClaims('ssn', { ...base, ssn: PIN, name: '  ' }, { now: NOW }),
    'identity_invalid',
    'missing_name',
  );
  refusal(
    t,
    () => mapClaims('ssn', { ...base, sub: '', ssn: PIN, name: 'A' }, { now: NOW }),
    'identity_invalid',
    'missing_subject',
  );
});

// Regression (issue 15): a name with U+0000 from the provider reached PostgreSQL (the session row), a 500.
tap.test('claims with a control character are refused, naming the claim, never its value', async (t) => {
  const name = 'Anna\u0000Lindqvist';
  refusal(
    t,
    () => mapClaims('ssn', { ...base, ssn: PIN, name }, { now: NOW }),
    'identity_invalid',
    'forbidden_character',
    [name, 'Anna', PIN],
  );
  const named = { ...base, ssn: PIN, name: 'Anna Lindqvist' };
  for (const [claim, claims] of [
    ['name', { name: undefined, given_name: 'Anna', family_name: 'Lind\u001bqvist' }],
    ['subject', { sub: 'subject\u0000' }],
    ['acr', { acr: `${LOA.loa3}\u0085` }],
    ['issuer', { iss: 'https://idp.example\ud800' }],
  ] as const) {
    try {
      mapClaims('ssn', { ...named, ...claims }, { now: NOW });
      t.fail(`${claim}: expected a refusal`);
    } catch (error) {
      t.equal((error as AppError).extra?.reason, 'forbidden_character', claim);
      t.equal((error as AppError).extra?.claim, claim);
    }
  }
  refusal(
    t,
    () => mapStaffClaims({ ...base, name: 'Karin\u0000Holm' }),
    'identity_invalid',
    'forbidden_character',
    ['Karin'],
  );
  refusal(
    t,
    () => mapStaffClaims({ ...base, email: 'karin\u0000@exempelby.example' }),
    'identity_invalid',
    'forbidden_character',
    ['karin'],
  );
  t.equal(
    mapClaims('ssn', { ...base, ssn: PIN, name: 'Anna-Lena Lindqvist Åström' }, { now: NOW }).name,
    'Anna-Lena Lindqvist Åström',
    'ordinary names pass',
  );
});

tap.test('acr and auth_time are optional in the mapping', async (t) => {
  const identity = mapClaims('ssn', { iss: 'i', sub: 's', ssn: PIN, name: 'A' }, { now: NOW });
  t.notOk('acr' in identity);
  t.notOk('authTime' in identity);
});

tap.test('hasProfileClaims decides whether userinfo is needed', async (t) => {
  t.ok(hasProfileClaims('ssn', { ssn: PIN, name: 'A' }));
  t.notOk(hasProfileClaims('ssn', { ssn: PIN }));
  t.notOk(hasProfileClaims('ssn', { name: 'A', nin: PIN }));
  t.ok(
    hasProfileClaims('swedish-oidc', { [SWEDISH_OIDC.coordinationNumber]: COORDINATION, given_name: 'A' }),
  );
  t.ok(hasProfileClaims('nin', { nin: PIN, family_name: 'B' }));
});

tap.test('staff claims', async (t) => {
  t.same(
    mapStaffClaims({
      iss: 'i',
      sub: 's',
      name: 'Karin Holm',
      email: 'Karin.Holm@Exempelby.example',
      email_verified: true,
    }),
    {
      issuer: 'i',
      subject: 's',
      name: 'Karin Holm',
      email: 'karin.holm@exempelby.example',
      emailVerified: true,
    },
  );
  t.same(mapStaffClaims({ iss: 'i', sub: 's' }), { issuer: 'i', subject: 's' });
});

tap.test('assertAcrAccepted', async (t) => {
  t.doesNotThrow(() => assertAcrAccepted(undefined, []), 'an empty list accepts anything');
  t.doesNotThrow(() => assertAcrAccepted(LOA.loa2, []));
  t.doesNotThrow(() => assertAcrAccepted(LOA.loa3, [LOA.loa3]));
  refusal(t, () => assertAcrAccepted(LOA.loa2, [LOA.loa3]), 'acr_not_accepted');
  refusal(t, () => assertAcrAccepted(undefined, [LOA.loa3]), 'acr_not_accepted');
});

tap.test('assertIdentifiedForAct', async (t) => {
  const at = (s: number) => new Date(NOW.getTime() + s * 1000);
  const start = at(-30);
  t.doesNotThrow(() => assertIdentifiedForAct(at(-10), start, NOW, 300), 'identified after the act started');
  t.doesNotThrow(() => assertIdentifiedForAct(at(-31), start, NOW, 300), 'a second of provider clock skew');
  refusal(t, () => assertIdentifiedForAct(at(-120), start, NOW, 300), 'fresh_auth_required');
  refusal(t, () => assertIdentifiedForAct(undefined, start, NOW, 300), 'fresh_auth_required');
  refusal(t, () => assertIdentifiedForAct(at(-10), at(-400), NOW, 300), 'fresh_auth_required');
  try {
    assertIdentifiedForAct(at(-120), start, NOW, 300);
  } catch (e) {
    t.match(e, { extra: { reason: 'before_act' }, message: /tidigare inloggning/ });
  }
});

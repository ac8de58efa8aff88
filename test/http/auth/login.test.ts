// Login over real HTTP: our routes, the development IdP in the app (or a second provider on its own port),
// a browser without JavaScript. Each claim profile; configuration (not code) deciding; every refusal a
// clear page with nothing stored; fresh identification for acts; staff bound by e-mail, then by subject.
import { openText, placeOf } from '../../../src/db/encrypted-columns.ts';
import tap, { type Test } from 'tap';
import { startActIdentification } from '../../../src/http/auth/index.ts';
import { csrfField } from '../../../src/http/csrf-field.ts';
import { LOA } from '../../../src/identity/claims.ts';
import { startDevIdpServer } from '../../../src/dev/idp/index.ts';
import { safeReturnTo } from '../../../src/identity/login-attempts.ts';
import { requireCsrf } from '../../../src/identity/plugin.ts';
import type { BuildResult } from '../../helper.ts';
import {
  type Answer,
  Browser,
  freePort,
  hiddenValue,
  type RunningApp,
  startApp,
} from '../../fixtures/app.ts';
import { assertNothingPersonal, leakedNumbers, person } from '../../fixtures/people.ts';

const BROKER_SAME_DEVICE = 'urn:grn:authn:se:bankid:same-device';
const BROKER_QR = 'urn:grn:authn:se:bankid:another-device:qr';

/** Everything every browser and app of this file saw, checked in the last test. */
const browsers: Browser[] = [];
const apps: RunningApp[] = [];
const typedNumbers: string[] = [];

function browser(app: RunningApp): Browser {
  const b = new Browser(app.base);
  browsers.push(b);
  return b;
}

/** Every act the test handler completed: who identified, for which act, started when. */
const completedActs: {
  personalNumber: string;
  data: Record<string, unknown>;
  startedAt: Date;
  authTime?: Date;
}[] = [];

/** Test routes: who is logged in (no personal data), a form with a CSRF token, and an act with its own identification. */
function testRoutes({ app }: BuildResult) {
  app.get('/test/me', async (request) => {
    const s = request.session;
    return s
      ? { audience: s.audience, staffId: s.staffId, acr: s.acr, authTime: s.authTime?.toISOString() ?? null }
      : { audience: null };
  });
  app.get('/test/form', async (request, reply) =>
    reply.type('text/html').send(`<form>${csrfField(request)}</form>`),
  );
  app.post('/test/sign', { preHandler: requireCsrf }, async (request, reply) =>
    startActIdentification(request, reply, {
      act: { kind: 'test-sign', data: { what: 'the test act' } },
      returnTo: '/test/form',
      userMessage: 'Du skriver under i ett test.',
    }),
  );
  app.acts.set('test-sign', async (_request, reply, identified) => {
    completedActs.push({
      personalNumber: identified.identity.personalNumber,
      data: identified.act.data,
      startedAt: identified.actStartedAt,
      ...(identified.identity.authTime ? { authTime: identified.identity.authTime } : {}),
    });
    return reply.code(200).send({ signed: true });
  });
}

async function start(t: Test, env: Record<string, string> = {}, port?: number): Promise<RunningApp> {
  const running = await startApp(t, { env, beforeListen: testRoutes, ...(port ? { port } : {}) });
  apps.push(running);
  return running;
}

/** The stored sessions, their personal number and name decrypted (they are stored encrypted). */
async function sessionRows(app: RunningApp) {
  const rows = await app.db.selectFrom('sessions').selectAll().orderBy('created_at').execute();
  const open = (r: (typeof rows)[number], column: 'personal_number' | 'name') =>
    openText(app.app.keys, placeOf('sessions', column, [r.id_hash]), r[column]);
  return rows.map((r) => ({ ...r, personal_number: open(r, 'personal_number'), name: open(r, 'name') }));
}

const sessionCookie = (lines: string[]) => lines.filter((l) => /^samtycke=/.test(l));

function forgetProviderSession(b: Browser) {
  for (const pair of b.jar.header().split('; ')) {
    const name = pair.slice(0, pair.indexOf('='));
    if (name.startsWith('dev_idp')) b.jar.store([`${name}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT`]);
  }
}

async function me(b: Browser) {
  return JSON.parse((await b.get('/test/me')).body) as {
    audience: string | null;
    staffId?: string;
    acr?: string;
    authTime?: string;
  };
}

/** A refused login: a Swedish HTML page with the given status, no session cookie, no session row. */
async function refused(
  t: Test,
  app: RunningApp,
  answer: Answer,
  status: number,
  text: RegExp,
  rowsBefore: number,
  secrets: string[] = [],
) {
  t.equal(answer.status, status, 'status');
  t.match(answer.headers.get('content-type'), /^text\/html/, 'an HTML page');
  t.match(answer.body, /<html lang="sv">/);
  t.match(answer.body, text, 'says what went wrong');
  t.notMatch(answer.body, /\bat \S+\.ts:\d+|Error:|stack/i, 'no stack trace');
  t.same(sessionCookie(answer.setCookies), [], 'no session cookie');
  t.equal((await sessionRows(app)).length, rowsBefore, 'no session stored');
  t.same(leakedNumbers([answer.body], secrets), [], 'the page shows no number');
}

tap.test('swedish-oidc (the default): authorize → login → callback → session', async (t) => {
  const app = await start(t, { OIDC_ACR_VALUES: LOA.loa3 });
  const b = browser(app);
  const anna = person('anna-lindqvist');
  const answer = await b.login('/auth/login?returnTo=/test/me', { person: anna.key, acr: LOA.loa3 });
  t.equal(answer.loginPages, 1);
  t.equal(answer.status, 303);
  t.equal(answer.location, '/test/me', 'back where the login started');
  const [cookie] = sessionCookie(answer.setCookies);
  t.match(
    cookie,
    /^samtycke=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
    'an opaque id, no Secure over http',
  );

  const rows = await sessionRows(app);
  t.equal(rows.length, 1);
  t.equal(rows[0]?.personal_number, anna.personalNumber, 'the number is in the session row');
  t.equal(rows[0]?.audience, 'signer');
  t.equal(rows[0]?.acr, LOA.loa3);
  t.equal(rows[0]?.issuer, `${app.base}/dev-idp`);
  t.same((await me(b)).audience, 'signer');

  const attempt = await app.db.selectFrom('login_attempts').selectAll().executeTakeFirstOrThrow();
  t.match(attempt.state_hash, /^[0-9a-f]{64}$/, 'state stored hashed');
  t.match(attempt.browser_binding, /^[0-9a-f]{64}$/, 'browser binding stored hashed');
  t.notOk(answer.callbackUrl.searchParams.get('state') === attempt.state_hash);
  t.ok(attempt.consumed_at, 'used once');
  t.equal(attempt.return_to, '/test/me');
  t.equal(attempt.audience, 'signer');
  t.equal(attempt.expires_at.getTime() - attempt.created_at.getTime(), 600_000, 'ten minutes');
});

tap.test('each claim profile, read by an app configured for it', async (t) => {
  const cases = [
    { profile: 'ssn', key: 'lucja-sahin', acr: LOA.loa2, delivery: 'userinfo', accepted: '' },
    { profile: 'nin', key: 'minh-nguyen', acr: BROKER_QR, delivery: 'id_token', accepted: BROKER_QR },
    { profile: 'swedish-oidc', key: 'mehmet-sahin', acr: LOA.loa3, delivery: 'userinfo', accepted: '' },
  ] as const;
  for (const c of cases) {
    const app = await start(t, { OIDC_CLAIM_PROFILE: c.profile, OIDC_ACR_VALUES: c.accepted });
    const b = browser(app);
    const p = person(c.key);
    const answer = await b.login('/auth/login?returnTo=/test/me', {
      person: p.key,
      profile: c.profile,
      acr: c.acr,
      delivery: c.delivery,
      country: 'SE',
    });
    t.equal(answer.status, 303, c.profile);
    const [row] = await sessionRows(app);
    t.equal(row?.personal_number, p.personalNumber, `${c.profile}: the number`);
    t.equal(row?.name, p.name, `${c.profile}: the name`);
    t.equal(row?.acr, c.acr, `${c.profile}: the acr`);

    // The provider speaking another profile than the one configured: refused, nothing stored.
    const other = c.profile === 'swedish-oidc' ? 'ssn' : 'swedish-oidc';
    const wrong = await browser(app).login('/auth/login', { person: p.key, profile: other, acr: c.acr });
    await refused(t, app, wrong, 400, /inget personnummer/, 1);
  }
});

tap.test('a second provider, configured differently: configuration decides', async (t) => {
  const appPort = await freePort();
  const base = `http://127.0.0.1:${appPort}`;
  const secret = 'second-provider-secret-0123456789abcdef0123456789';
  const idp = await startDevIdpServer({
    production: false,
    clients: [
      {
        client_id: 'samtycke-hlt',
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [`${base}/auth/callback`],
        post_logout_redirect_uris: [`${base}/auth/logged-out`],
      },
    ],
  });
  t.teardown(() => idp.close());
  const app = await start(
    t,
    {
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: 'samtycke-hlt',
      OIDC_CLIENT_SECRET: secret,
      OIDC_CLIENT_AUTH_METHOD: 'client_secret_post',
      OIDC_CLAIM_PROFILE: 'nin',
      OIDC_ACR_VALUES: BROKER_SAME_DEVICE,
    },
    appPort,
  );
  t.equal(app.app.identity.devIdp, null, 'no development IdP when a provider is configured');
  t.equal((await fetch(`${app.base}/dev-idp/.well-known/openid-configuration`)).status, 404);

  const b = browser(app);
  const erik = person('erik-lindqvist');
  const start1 = await b.get('/auth/login?returnTo=/test/me');
  t.ok(start1.location?.startsWith(`${idp.issuer}/auth?`), 'to the configured provider');
  const authorize = new URL(start1.location!);
  t.equal(authorize.searchParams.get('client_id'), 'samtycke-hlt');
  t.equal(authorize.searchParams.get('acr_values'), BROKER_SAME_DEVICE);
  t.match(authorize.searchParams.get('scope'), /\bnin\b/);

  const ok = await b.login('/auth/login?returnTo=/test/me', {
    person: erik.key,
    profile: 'nin',
    country: 'SE',
    acr: BROKER_SAME_DEVICE,
  });
  t.equal(ok.status, 303);
  const [row] = await sessionRows(app);
  t.equal(row?.personal_number, erik.personalNumber);
  t.equal(row?.issuer, idp.issuer);
  t.equal(row?.acr, BROKER_SAME_DEVICE);

  // The same person as the first provider would send them: another profile and LoA 3.
  const swedish = await browser(app).login('/auth/login', {
    person: erik.key,
    profile: 'swedish-oidc',
    acr: BROKER_SAME_DEVICE,
  });
  await refused(t, app, swedish, 400, /inget personnummer/, 1);
  const loa3 = await browser(app).login('/auth/login', { person: erik.key, profile: 'nin', acr: LOA.loa3 });
  await refused(t, app, loa3, 403, /Legitimeringsmetoden räcker inte/, 1);

  // Logout goes to this provider's end-session endpoint.
  const token = hiddenValue((await b.get('/test/form')).body, '_csrf')!;
  const out = await b.post('/auth/logout', { _csrf: token });
  t.equal(out.status, 303);
  t.ok(out.location?.startsWith(`${idp.issuer}/session/end?`), 'RP-initiated logout at the provider');
  t.equal(new URL(out.location!).searchParams.get('client_id'), 'samtycke-hlt');
});

tap.test('state: wrong, missing, replayed; another browser', async (t) => {
  const app = await start(t);
  const a = browser(app);
  const { callbackUrl } = await a.toCallback({ path: '/auth/login?returnTo=/test/me' });

  const wrong = new URL(callbackUrl);
  wrong.searchParams.set('state', `${wrong.searchParams.get('state')}x`);
  await refused(t, app, await a.get(wrong.href), 400, /gått ut eller är ogiltig/, 0);
  const missing = new URL(callbackUrl);
  missing.searchParams.delete('state');
  await refused(t, app, await a.get(missing.href), 400, /saknar uppgifter/, 0);

  // Another browser (no binding cookie, or another one) cannot use this browser's callback.
  const other = browser(app);
  await refused(t, app, await other.get(callbackUrl.href), 400, /annan webbläsare/, 0);
  await other.get('/auth/login');
  t.ok(other.cookie('samtycke_login'), 'the other browser has a binding of its own');
  await refused(t, app, await other.get(callbackUrl.href), 400, /annan webbläsare/, 0);

  // None of that used the attempt: the right browser finishes.
  const ok = await a.get(callbackUrl.href);
  t.equal(ok.status, 303);
  t.equal((await sessionRows(app)).length, 1);

  // The same callback again (a replayed code): refused, nothing new stored.
  await refused(t, app, await a.get(callbackUrl.href), 400, /redan använd/, 1);
  await refused(t, app, await browser(app).get(callbackUrl.href), 400, /Inloggningen/, 1);
});

tap.test('an expired attempt is refused', async (t) => {
  const app = await start(t);
  const b = browser(app);
  const { callbackUrl } = await b.toCallback({ path: '/auth/login' });
  await app.db
    .updateTable('login_attempts')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  await refused(t, app, await b.get(callbackUrl.href), 400, /tog för lång tid/, 0);
});

tap.test('refused identities: acr, missing or invalid number, non-SE nin, cancelled', async (t) => {
  const app = await start(t, { OIDC_ACR_VALUES: LOA.loa3 });
  const loa2 = await browser(app).login('/auth/login', { acr: LOA.loa2 });
  await refused(t, app, loa2, 403, /Legitimeringsmetoden räcker inte/, 0);
  t.match(loa2.body, /href="\/auth\/login\?returnTo=%2Fmina-samtycken"/, 'a way to start again');

  const missing = await browser(app).login('/auth/login', { omitNumber: true, name: 'Utan Nummer' });
  await refused(t, app, missing, 400, /inget personnummer/, 0);

  const valid = person('elsa-lindqvist').personalNumber;
  const invalid = `${valid.slice(0, 11)}${(Number(valid[11]) + 1) % 10}`;
  typedNumbers.push(invalid);
  const bad = await browser(app).login('/auth/login', {
    number: invalid,
    unchecked: true,
    name: 'Fel Nummer',
  });
  await refused(t, app, bad, 400, /inte giltigt/, 0, [invalid]);

  const cancelled = await browser(app).login('/auth/login', { action: 'abort' });
  await refused(t, app, cancelled, 400, /avbröts/, 0);

  // Regression (issue 15): a name with U+0000 from the provider went to the session row: a 500.
  const nul = await browser(app).login('/auth/login', {
    number: valid,
    name: 'Elsa\u0000Lindqvist',
    unchecked: true,
  });
  await refused(t, app, nul, 400, /tecken som inte kan tas emot/, 0, [valid]);
  t.notMatch(nul.body, /Elsa/, 'the name is not shown');

  const nin = await start(t, { OIDC_CLAIM_PROFILE: 'nin' });
  const norwegian = await browser(nin).login('/auth/login', { profile: 'nin', country: 'NO' });
  await refused(t, nin, norwegian, 400, /annat land än Sverige/, 0);
});

tap.test('returnTo: only paths of this service', async (t) => {
  const fallback = '/mina-samtycken';
  for (const [input, expected] of [
    ['/personal/sok?x=1', '/personal/sok?x=1'],
    ['/mina-samtycken', '/mina-samtycken'],
    // An invitation link or anything holding a token-shaped value: the return path is stored (issue 15 §5).
    ['/s/abc?x=1', fallback],
    ['/s', fallback],
    ['/%73/abc', fallback],
    [`/mina-samtycken?t=${'A1_-'.repeat(11)}`, fallback],
    ['/sok', '/sok'],
    ['/a/../b', '/b'],
    ['//evil.example/x', fallback],
    ['/\\evil.example', fallback],
    ['https://evil.example/', fallback],
    ['javascript:alert(1)', fallback],
    ['evil', fallback],
    ['/x\n/y', fallback],
    ['/x\ty', fallback],
    ['/auth/logout', fallback],
    ['/x/../auth/callback', fallback],
    ['/dev-idp/auth', fallback],
    ['', fallback],
    [`/${'a'.repeat(2100)}`, fallback],
  ] as const) {
    t.equal(safeReturnTo(input, fallback), expected, JSON.stringify(input.slice(0, 40)));
  }
  t.equal(safeReturnTo(['/a', '/b'], fallback), fallback, 'a repeated parameter');
  t.equal(safeReturnTo(undefined, fallback), fallback);

  const app = await start(t);
  const answer = await browser(app).login('/auth/login?returnTo=%2F%2Fevil.example%2Fx');
  t.equal(answer.status, 303);
  t.equal(answer.location, fallback, 'never to another site');
});

tap.test(
  'an act has its own identification: prompt=login, max_age=0, auth_time after the act started',
  async (t) => {
    const app = await start(t);
    const b = browser(app);
    const mai = person('mai-nguyen');
    // Logged in a while ago (the provider says the authentication was 10 minutes back).
    const first = await b.login('/auth/login?returnTo=/test/form', { person: mai.key, stale: true });
    t.equal(first.status, 303);
    const token = hiddenValue((await b.get('/test/form')).body, '_csrf')!;

    // The act is CSRF-protected: nothing goes to the provider without the token.
    const noToken = await b.post('/test/sign', {});
    t.equal(noToken.status, 403);
    t.equal(noToken.location, null);

    // A provider answering from its session (auth_time from before the act): refused, nothing changed.
    const [before] = await sessionRows(app);
    const sso = await b.login(
      { path: '/test/sign', form: { _csrf: token } },
      { person: mai.key, stale: true },
    );
    t.equal(sso.loginPages, 1, 'the provider asked again (prompt=login)');
    await refused(t, app, sso, 401, /svarade med en tidigare inloggning/, 1);
    t.match(sso.body, /href="\/test\/form"/, 'back to the act');
    t.same((await sessionRows(app))[0], before, 'the session is untouched');
    t.equal(completedActs.length, 0, 'the act did not complete');
    const stored = await app.db.selectFrom('login_attempts').select(['act', 'return_to']).execute();
    t.ok(
      stored.some((a) => (a.act as { kind?: string } | null)?.kind === 'test-sign'),
      'the act travels in the login attempt',
    );

    const fresh = await b.login({ path: '/test/sign', form: { _csrf: token } }, { person: mai.key });
    t.equal(fresh.loginPages, 1);
    const authorize = new URL(b.locations.filter((l) => l.includes('prompt=login')).at(-1)!);
    t.equal(authorize.searchParams.get('max_age'), '0');
    t.notOk(
      authorize.searchParams.has('https://id.oidc.se/param/userMessage'),
      'not announced by this provider',
    );
    t.equal(fresh.status, 200);
    t.same(JSON.parse(fresh.body), { signed: true });
    t.equal(completedActs.length, 1);
    const act = completedActs[0]!;
    t.equal(act.personalNumber, mai.personalNumber);
    t.same(act.data, { what: 'the test act' });
    t.ok(
      act.authTime &&
        Math.floor(act.authTime.getTime() / 1000) >= Math.floor(act.startedAt.getTime() / 1000) - 1,
    );
    const rows = await sessionRows(app);
    t.equal(rows.length, 1, 'the same session, re-identified');
    t.ok(rows[0]!.auth_time!.getTime() > before!.auth_time!.getTime() + 5 * 60_000, 'auth_time is now');
    t.equal(rows[0]!.csrf_token, before!.csrf_token, 'open forms stay valid');

    // Someone else identifying for an act in this browser: the act gets who really identified (its
    // handler refuses a person not on the form); the logged-in person's session is left as it is.
    forgetProviderSession(b);
    const erik = person('erik-lindqvist');
    const other = await b.login({ path: '/test/sign', form: { _csrf: token } }, { person: erik.key });
    t.equal(other.status, 200);
    t.equal(completedActs.at(-1)!.personalNumber, erik.personalNumber);
    const after = await sessionRows(app);
    t.equal(after.length, 1);
    t.equal(after[0]!.personal_number, mai.personalNumber);
    t.notOk(after[0]!.ended_at);
  },
);

async function seedStaff(
  app: RunningApp,
  key: string,
  overrides: { email?: string; disabled?: boolean } = {},
) {
  const p = person(key);
  const org = await app.db
    .insertInto('organisations')
    .values({
      name: p.organisation!.name,
      type: p.organisation!.type,
      municipality: 'Exempelby kommun',
      hlt_area: 'Exempelby',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const staff = await app.db
    .insertInto('staff_users')
    .values({
      email: overrides.email ?? p.email!,
      name: p.name,
      ...(overrides.disabled ? { disabled_at: new Date() } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await app.db
    .insertInto('staff_memberships')
    .values({ staff_id: staff.id, organisation_id: org.id, role: 'staff' })
    .execute();
  return staff.id;
}

tap.test('staff: first login binds by invited e-mail, then issuer + subject', async (t) => {
  const app = await start(t);
  const karinId = await seedStaff(app, 'karin-holm');
  const b = browser(app);
  const first = await b.login('/auth/staff/login?returnTo=/test/me', { person: 'karin-holm' });
  t.equal(first.status, 303);
  t.equal(first.location, '/test/me');
  const bound = await app.db
    .selectFrom('staff_users')
    .selectAll()
    .where('id', '=', karinId)
    .executeTakeFirstOrThrow();
  t.equal(bound.oidc_issuer, `${app.base}/dev-idp`);
  t.match(bound.oidc_subject, /^dev-/);
  t.ok(bound.last_login_at);
  t.match(await me(b), { audience: 'staff', staffId: karinId, acr: LOA.loa3, authTime: String });
  const [row] = await sessionRows(app);
  t.equal(row?.personal_number, null, 'staff sessions hold no personal number');
  t.equal(row?.staff_id, karinId);

  // The address changes; the binding holds.
  await app.db
    .updateTable('staff_users')
    .set({ email: 'k.holm@annat.example' })
    .where('id', '=', karinId)
    .execute();
  const second = await browser(app).login('/auth/staff/login?returnTo=/test/me', { person: 'karin-holm' });
  t.equal(second.status, 303);
  const rows = await sessionRows(app);
  t.equal(rows.length, 2);
  t.equal(rows[1]?.staff_id, karinId, 'matched by issuer + subject');

  // Disabled: refused, nothing stored.
  await app.db
    .updateTable('staff_users')
    .set({ disabled_at: new Date() })
    .where('id', '=', karinId)
    .execute();
  const disabled = await browser(app).login('/auth/staff/login', { person: 'karin-holm' });
  await refused(t, app, disabled, 403, /avstängt/, 2);
});

tap.test('staff: unknown, unverified and already bound addresses are refused', async (t) => {
  const app = await start(t);
  // Nobody invited Johan.
  const unknown = await browser(app).login('/auth/staff/login', { person: 'johan-oberg' });
  await refused(t, app, unknown, 403, /inget konto/, 0);
  // No e-mail at all.
  const noEmail = await browser(app).login('/auth/staff/login', { person: 'anna-lindqvist' });
  await refused(t, app, noEmail, 403, /inget konto/, 0);

  // An invitation already taken by another login is not anyone else's to take.
  const amiraId = await seedStaff(app, 'amira-haddad');
  await app.db
    .updateTable('staff_users')
    .set({ oidc_issuer: 'https://idp.other.example', oidc_subject: 'someone-else' })
    .where('id', '=', amiraId)
    .execute();
  const taken = await browser(app).login('/auth/staff/login', { person: 'amira-haddad' });
  await refused(t, app, taken, 403, /inget konto/, 0);

  // A disabled invitation.
  await seedStaff(app, 'johan-oberg', { disabled: true });
  const disabled = await browser(app).login('/auth/staff/login', { person: 'johan-oberg' });
  await refused(t, app, disabled, 403, /avstängt/, 0);
  t.equal(
    (
      await app.db
        .selectFrom('staff_users')
        .select('oidc_issuer')
        .where('email', '=', person('johan-oberg').email!)
        .executeTakeFirst()
    )?.oidc_issuer,
    null,
    'a refused login binds nothing',
  );
});

tap.test('the provider cannot be reached: a clear 503 page, and the next login works', async (t) => {
  const idpPort = await freePort();
  // Nothing listens on that port yet.
  const app = await start(t, { OIDC_ISSUER: `http://127.0.0.1:${idpPort}` });
  const b = browser(app);
  const down = await b.get('/auth/login');
  t.equal(down.status, 503);
  t.match(down.body, /kan inte nås/);
  t.match(down.headers.get('content-type'), /^text\/html/);
  t.equal(await app.db.selectFrom('login_attempts').select('id').executeTakeFirst(), undefined);

  const idp = await startDevIdpServer({
    production: false,
    port: idpPort,
    clients: [
      {
        client_id: 'samtycke',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${app.base}/auth/callback`],
      },
    ],
  });
  t.teardown(() => idp.close());
  const up = await b.login('/auth/login?returnTo=/test/me');
  t.equal(up.status, 303, 'discovery is tried again');
  t.equal((await me(b)).audience, 'signer');
});

tap.test('no personal identity number or name in any URL, cookie or log line', async (t) => {
  const loggedIn = [
    'anna-lindqvist',
    'erik-lindqvist',
    'lucja-sahin',
    'minh-nguyen',
    'mehmet-sahin',
    'mai-nguyen',
    'karin-holm',
  ].map(person);
  const names = loggedIn.flatMap((p) => [p.name, p.familyName]);
  const numbers = [
    ...[...loggedIn, ...['elsa-lindqvist', 'johan-oberg', 'amira-haddad'].map(person)].map(
      (p) => p.personalNumber,
    ),
    ...typedNumbers,
  ];
  const urls = browsers.flatMap((b) => b.locations);
  const cookies = browsers.flatMap((b) => b.cookiesReceived);
  const logs = apps.flatMap((a) => a.logs);
  t.ok(urls.length > 100 && cookies.length > 50 && logs.length > 100, 'plenty was seen');
  // The logger masks numbers as a last line of defence; nothing should have needed it.
  assertNothingPersonal(t, { urls, cookies, logs }, { numbers, words: names, masks: ['[personnummer]'] });
});

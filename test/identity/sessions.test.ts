// Sessions over real HTTP with an injected clock: the cookie, idle and absolute timeouts, logout with CSRF
// and RP-initiated logout at the provider, CSRF for forms without a session, housekeeping, and the
// development IdP refused in production by the plugin itself.
import tap, { type Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { fixedClock } from '../../src/clock.ts';
import { csrfField } from '../../src/http/csrf-field.ts';
import { DevIdpProductionError } from '../../src/identity/dev-idp-refused.ts';
import { deleteExpiredLoginAttempts } from '../../src/identity/login-attempts.ts';
import { lazyDevIdp } from '../../src/dev/idp/mount.ts';
import { requireCsrf, requireSession, sessionExpired } from '../../src/identity/plugin.ts';
import {
  cookieNames,
  cookieOptions,
  createSession,
  deleteExpiredSessions,
  sha256,
} from '../../src/identity/sessions.ts';
import { type BuildResult, freshDatabase, testConfig } from '../helper.ts';
import { Browser, hiddenValue, type RunningApp, startApp } from '../fixtures/app.ts';

const MINUTE = 60_000;

function testRoutes({ app }: BuildResult) {
  app.get('/test/me', async (request) => ({
    audience: request.session?.audience ?? null,
    expired: sessionExpired(request),
  }));
  app.get('/test/required', async (request) => ({ audience: requireSession(request).audience }));
  app.get('/test/form', async (request, reply) =>
    reply.type('text/html').send(`<form method="post">${csrfField(request)}</form>`),
  );
  app.post('/test/act', { preHandler: requireCsrf }, async () => ({ done: true }));
}

async function loggedIn(t: Test, env: Record<string, string> = {}) {
  const clock = fixedClock(new Date());
  const app = await startApp(t, { env, clock, beforeListen: testRoutes });
  const b = new Browser(app.base);
  const answer = await b.login('/auth/login?returnTo=/test/me', { person: 'erik-lindqvist' });
  if (answer.status !== 303) throw new Error(`login failed: ${answer.status} ${answer.body}`);
  return { app, clock, b };
}

async function audience(b: Browser): Promise<string | null> {
  return (JSON.parse((await b.get('/test/me')).body) as { audience: string | null }).audience;
}

const row = (app: RunningApp) => app.db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();

tap.test('the cookie holds only a random id; the row holds its hash', async (t) => {
  const { app, b } = await loggedIn(t);
  const id = b.cookie('samtycke')!;
  t.match(id, /^[A-Za-z0-9_-]{43}$/, '256 bits, base64url');
  const session = await row(app);
  t.equal(session.id_hash, sha256(id));
  t.notOk(
    Object.values(session).some((v) => v === id),
    'the id itself is stored nowhere',
  );
  t.equal(session.expires_at.getTime() - session.created_at.getTime(), 8 * 3600_000, 'absolute: 8 hours');
  const binding = b.cookiesReceived.find((c) => c.startsWith('samtycke_login='))!;
  t.match(binding, /^samtycke_login=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);

  // A made-up or malformed id is no session, and is cleared.
  const other = new Browser(app.base);
  other.jar.store(['samtycke=not-a-session; Path=/']);
  const answer = await other.get('/test/me');
  t.same(JSON.parse(answer.body), { audience: null, expired: true });
  t.match(answer.setCookies.join('\n'), /^samtycke=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/m);
});

tap.test('production cookies: __Host- prefix and Secure', async (t) => {
  t.same(cookieNames(true), {
    session: '__Host-samtycke',
    login: '__Host-samtycke_login',
    csrf: '__Host-samtycke_csrf',
  });
  t.same(cookieNames(false), { session: 'samtycke', login: 'samtycke_login', csrf: 'samtycke_csrf' });
  t.same(cookieOptions(true), { httpOnly: true, sameSite: 'lax', path: '/', secure: true });
  t.same(cookieOptions(false, 60), { httpOnly: true, sameSite: 'lax', path: '/', secure: false, maxAge: 60 });
});

tap.test('idle timeout; last_seen_at written at most once a minute', async (t) => {
  const { app, b, clock } = await loggedIn(t);
  const loginAt = (await row(app)).last_seen_at.getTime();

  clock.advance(30_000);
  t.equal(await audience(b), 'signer');
  t.equal((await row(app)).last_seen_at.getTime(), loginAt, 'not written after 30 s');
  clock.advance(31_000);
  t.equal(await audience(b), 'signer');
  t.equal((await row(app)).last_seen_at.getTime(), loginAt + 61_000, 'written after a minute');

  // Active use keeps it alive past the idle time from the login.
  clock.advance(14 * MINUTE);
  t.equal(await audience(b), 'signer');
  clock.advance(14 * MINUTE);
  t.equal(await audience(b), 'signer', '29 minutes after login, 14 after the last request');

  clock.advance(15 * MINUTE);
  const expired = await b.get('/test/required');
  t.equal(expired.status, 401);
  t.equal(JSON.parse(expired.body).code, 'session_expired');
  t.match(expired.setCookies.join('\n'), /^samtycke=;/m, 'the cookie is cleared');
  const none = await b.get('/test/required');
  t.equal(JSON.parse(none.body).code, 'unauthorized', 'without a cookie: not logged in');
});

tap.test('absolute timeout, however active', async (t) => {
  const { b, clock } = await loggedIn(t, { SESSION_ABSOLUTE_HOURS: '1', SESSION_IDLE_MINUTES: '30' });
  for (let minutes = 20; minutes < 60; minutes += 20) {
    clock.advance(20 * MINUTE);
    t.equal(await audience(b), 'signer', `${minutes} minutes`);
  }
  clock.advance(20 * MINUTE);
  t.same(JSON.parse((await b.get('/test/me')).body), { audience: null, expired: true }, 'after an hour');
});

tap.test('a session ended or expired in the row', async (t) => {
  const { app, b } = await loggedIn(t);
  await app.db.updateTable('sessions').set({ ended_at: new Date() }).execute();
  t.equal(await audience(b), null);
});

tap.test('logout: CSRF token required; ends here, then at the provider', async (t) => {
  const { app, b } = await loggedIn(t);
  const token = hiddenValue((await b.get('/test/form')).body, '_csrf')!;
  t.equal(token, (await row(app)).csrf_token, 'the synchronizer token of the session');

  for (const [what, form, headers] of [
    ['no token', {}, {}],
    ['a wrong token', { _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }, {}],
    ['another site', { _csrf: token }, { origin: 'https://evil.example' }],
  ] as const) {
    const refused = await b.post('/auth/logout', form, headers);
    t.equal(refused.status, 403, what);
    t.match(refused.headers.get('content-type'), /^text\/html/);
    t.match(refused.body, /Formuläret har gått ut/);
    t.same(refused.setCookies, [], `${what}: no cookie change`);
    t.equal(await audience(b), 'signer', `${what}: still logged in`);
  }
  // A token in a header (for scripts) does as well as the form field; same-origin Origin is fine.
  const out = await b.post('/auth/logout', {}, { 'x-csrf-token': token, origin: app.base });
  t.equal(out.status, 303);
  const end = new URL(out.location!);
  t.equal(
    `${end.origin}${end.pathname}`,
    `${app.base}/dev-idp/session/end`,
    "the provider's end-session endpoint",
  );
  t.equal(end.searchParams.get('client_id'), 'samtycke');
  t.equal(end.searchParams.get('post_logout_redirect_uri'), `${app.base}/auth/logged-out`);
  t.notOk(end.searchParams.has('id_token_hint'), 'no ID token (which holds the number) in a URL');
  t.match(out.setCookies.join('\n'), /^samtycke=;.*Expires=Thu, 01 Jan 1970/m);
  t.ok((await row(app)).ended_at, 'ended in the row');
  t.equal(await audience(b), null);

  // The provider asks, then sends the browser back to our "logged out" page.
  const confirm = await b.get(out.location!);
  t.equal(confirm.status, 200);
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1];
  const xsrf = hiddenValue(confirm.body, 'xsrf');
  t.ok(action && xsrf, 'the provider shows its logout confirmation');
  const done = await b.post(action!, { xsrf: xsrf!, logout: 'yes' });
  t.equal(done.status, 303);
  t.equal(done.location, `${app.base}/auth/logged-out`);
  const page = await b.get('/auth/logged-out');
  t.equal(page.status, 200);
  t.match(page.body, /Du är utloggad/);
  t.equal(page.headers.get('cache-control'), 'no-store');
  t.match(page.headers.get('content-security-policy'), /default-src 'none'/);
});

tap.test('logout without a session just shows the logged-out page', async (t) => {
  const app = await startApp(t, { beforeListen: testRoutes });
  const b = new Browser(app.base);
  const out = await b.post('/auth/logout', {});
  t.equal(out.status, 303);
  t.equal(out.location, '/auth/logged-out');
});

tap.test('a login in a browser with a session replaces that session', async (t) => {
  const { app, b } = await loggedIn(t);
  const first = b.cookie('samtycke');
  const again = await b.login('/auth/login?returnTo=/test/me', { person: 'anna-lindqvist' });
  t.equal(again.status, 303);
  t.not(b.cookie('samtycke'), first, 'a new id at every login');
  const rows = await app.db.selectFrom('sessions').selectAll().orderBy('created_at').execute();
  t.equal(rows.length, 2);
  t.ok(rows[0]!.ended_at, 'the earlier session ended');
  t.equal(rows[1]!.ended_at, null);
});

tap.test('forms without a session: a double-submit cookie', async (t) => {
  const app = await startApp(t, { beforeListen: testRoutes });
  const b = new Browser(app.base);
  const form = await b.get('/test/form');
  const token = hiddenValue(form.body, '_csrf')!;
  const cookie = form.setCookies.find((c) => c.startsWith('samtycke_csrf='))!;
  t.match(cookie, /^samtycke_csrf=[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
  t.equal(b.cookie('samtycke_csrf'), token);
  t.equal(
    hiddenValue((await b.get('/test/form')).body, '_csrf'),
    token,
    'the same token while the cookie lasts',
  );

  t.equal((await b.post('/test/act', { _csrf: token })).status, 200);
  const missing = await b.post('/test/act', {});
  t.equal(missing.status, 403);
  t.equal(JSON.parse(missing.body).code, 'csrf_failed');
  t.equal((await b.post('/test/act', { _csrf: 'x'.repeat(43) })).status, 403, 'a wrong token');
  // Another browser (the attacker's page posting cross-site) has no matching cookie.
  t.equal(
    (await new Browser(app.base).post('/test/act', { _csrf: token })).status,
    403,
    'without the cookie',
  );

  // Once logged in, the session's token is the one; the cookie token no longer does.
  await b.login('/auth/login', { person: 'anna-lindqvist' });
  t.equal((await b.post('/test/act', { _csrf: token })).status, 403);
  const sessionToken = hiddenValue((await b.get('/test/form')).body, '_csrf')!;
  t.not(sessionToken, token);
  t.equal((await b.post('/test/act', { _csrf: sessionToken })).status, 200);
});

tap.test('housekeeping helpers delete expired sessions and login attempts in batches', async (t) => {
  const { app } = await loggedIn(t);
  const now = new Date();
  for (let i = 0; i < 3; i++) {
    await createSession(
      app.db,
      app.app.keys,
      {
        audience: 'staff',
        staffId: null,
        personalNumber: null,
        name: null,
        issuer: 'https://idp.example',
        subject: `s${i}`,
        acr: null,
        authTime: null,
      },
      { now: new Date(now.getTime() - 10 * 3600_000), absoluteHours: 8 },
    );
  }
  t.equal(await deleteExpiredSessions(app.db, now, 2), 2);
  t.equal(await deleteExpiredSessions(app.db, now, 2), 1);
  t.equal(await deleteExpiredSessions(app.db, now, 2), 0, 'the active session stays');
  t.equal(await deleteExpiredLoginAttempts(app.db, now, 10), 0, 'the attempt is not expired yet');
  t.equal(await deleteExpiredLoginAttempts(app.db, new Date(now.getTime() + 11 * MINUTE), 10), 1);
});

tap.test('production refuses the development IdP in the plugin too', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const config = { ...testConfig(databaseUrl), production: true };
  await t.rejects(buildApp({ config, databaseUrl, jobs: false }), DevIdpProductionError);
  t.throws(
    () =>
      lazyDevIdp({ issuer: 'https://samtycke.example/dev-idp', clients: [], production: true }, () => {
        throw new Error('never created');
      }),
    DevIdpProductionError,
  );
});

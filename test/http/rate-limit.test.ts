// Rate limits (issue 15 §1): the token endpoint per address and per client id, login starts (counted before
// their row is written), the invitation pages, the signer's acts per person, the search by child per caller;
// 429 with Retry-After as problem+json from the API and as a Swedish page from the pages; a spoofed
// X-Forwarded-For changes nothing unless TRUST_PROXY names the proxy; Redis down is no outage.
// (Two instances sharing Redis: rate-limit-redis.test.ts.)
import type { Test } from 'tap';
import t from 'tap';
import { latestFormSha256 } from '../../src/consents/documents.repository.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { createSession } from '../../src/identity/sessions.ts';
import { staffSession } from '../fixtures/sessions.ts';
import type { App } from '../../src/http/types.ts';
import { freePort, startApp } from '../fixtures/app.ts';
import { basicAuth, tokenRequest } from '../fixtures/api.ts';
import { setup } from '../fixtures/consents.ts';
import { requestConsent, startSignerApp } from './fixtures/signer.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const HTML = { accept: 'text/html,application/xhtml+xml' };

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

function assertProblem429(t: Test, res: Answer, label: string) {
  t.equal(res.statusCode, 429, `${label}: 429`);
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`);
  const body = JSON.parse(res.body) as { code: string; status: number; detail: string };
  t.equal(body.code, 'too_many_requests', `${label}: code`);
  t.equal(body.status, 429);
  assertRetryAfter(t, res, label);
}

function assertPage429(t: Test, res: Answer, label: string) {
  t.equal(res.statusCode, 429, `${label}: 429`);
  t.match(res.headers['content-type'], /^text\/html/, `${label}: an HTML page`);
  t.match(res.body, /<html lang="sv"/, `${label}: Swedish`);
  t.match(res.body, /För många försök/, `${label}: says what happened`);
  t.match(res.body, /Vänta \d+ sekunder och försök igen|Vänta en sekund/, `${label}: and how long to wait`);
  assertRetryAfter(t, res, label);
}

function assertRetryAfter(t: Test, res: Answer, label: string) {
  const retryAfter = Number(res.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `${label}: Retry-After`);
}

async function apiClient(app: App, organisationId: string, name = 'System') {
  const { client, secret } = await createApiClient(app.db, app.config.clientSecretHmacKey, {
    organisationId,
    name,
    scopes: ['consent:status'],
  });
  return { clientId: client.clientId, secret };
}

/** A GET as a browser at the app's address sends it (another host name is redirected in development). */
const get = (
  s: { app: App; base: string },
  url: string,
  options: { headers?: Record<string, string>; remoteAddress?: string } = {},
) =>
  s.app.inject({
    url,
    remoteAddress: options.remoteAddress ?? '127.0.0.1',
    headers: { host: new URL(s.base).host, ...HTML, ...options.headers },
  });

t.test('token endpoint: per address, whatever client is named', async (t) => {
  const s = await setup(t, { jobs: false, env: { RATE_LIMIT_TOKEN_PER_ADDRESS: '3' } });
  const a = await apiClient(s.app, s.organisationId, 'A');
  const b = await apiClient(s.app, s.organisationId, 'B');
  for (const id of [a.clientId, b.clientId, 'hlt-unknown'])
    t.equal((await tokenRequest(s.app, basicAuth(id, 'wrong'))).statusCode, 401, 'a wrong secret: 401');
  const refused = await tokenRequest(s.app, basicAuth(a.clientId, a.secret));
  assertProblem429(t, refused, 'the 4th request from the address, even with the right secret');
  t.equal(refused.headers['cache-control'], 'no-store');
  const elsewhere = await tokenRequest(s.app, basicAuth(a.clientId, a.secret), '192.0.2.7');
  t.equal(elsewhere.statusCode, 200, 'another address is counted on its own');
});

t.test('token endpoint: per client id, from any address, counted before the secret', async (t) => {
  const s = await setup(t, { jobs: false, env: { RATE_LIMIT_TOKEN_PER_CLIENT: '3' } });
  const a = await apiClient(s.app, s.organisationId, 'A');
  const b = await apiClient(s.app, s.organisationId, 'B');
  for (const address of ['192.0.2.1', '192.0.2.2'])
    t.equal((await tokenRequest(s.app, basicAuth(a.clientId, 'wrong'), address)).statusCode, 401);
  // client_secret_post names the client as much as HTTP Basic does.
  const posted = await s.app.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: '192.0.2.3',
    headers: FORM,
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: a.clientId,
      client_secret: 'wrong',
    }).toString(),
  });
  t.equal(posted.statusCode, 401);
  assertProblem429(t, await tokenRequest(s.app, basicAuth(a.clientId, a.secret), '192.0.2.4'), 'client A');
  t.equal((await tokenRequest(s.app, basicAuth(b.clientId, b.secret))).statusCode, 200, 'client B is not');
});

t.test('login starts: per address, counted before the login attempt row is written', async (t) => {
  const s = await startApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '3' } });
  const { app } = s;
  const rows = async () =>
    Number(
      (
        await app.db
          .selectFrom('login_attempts')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  for (const url of ['/auth/login', '/auth/staff/login', '/auth/login?returnTo=/mina-samtycken']) {
    const res = await get(s, url);
    t.equal(res.statusCode, 302, `${url}: to the provider`);
  }
  t.equal(await rows(), 3);
  for (const url of ['/auth/login', '/auth/staff/login']) {
    const res = await get(s, url);
    assertPage429(t, res, url);
    t.equal(res.headers.location, undefined, 'not sent to the provider');
  }
  t.equal(await rows(), 3, 'no row for a refused start');
  t.equal((await get(s, '/auth/login', { remoteAddress: '192.0.2.9' })).statusCode, 302);
});

t.test('invitation pages: per address, a Swedish page for the browser', async (t) => {
  const s = await startSignerApp(t, { env: { RATE_LIMIT_INVITATION_PER_ADDRESS: '3' } });
  const { tokens } = await requestConsent(s, 'lindqvist');
  const token = tokens.guardian1!;
  for (const url of [`/s/${token}`, `/s/${token}`, '/s/not-a-real-token-at-all'])
    t.not((await get(s, url)).statusCode, 429);
  const refused = await get(s, `/s/${token}/granska`);
  assertPage429(t, refused, '/s/:token/granska');
  t.notMatch(refused.body, token, 'the token is not on the page');
  const elsewhere = await get(s, `/s/${token}`, { remoteAddress: '192.0.2.5' });
  t.equal(elsewhere.statusCode, 200, 'another address is counted on its own');
  const lines = s.logs.filter((l) => l.includes('too_many_requests'));
  t.ok(lines.length > 0, 'the refusal is logged');
  for (const line of lines) t.notMatch(line, token, 'without the token');
});

/** A signer session made directly (as a login would), and a helper posting an act's form with it. */
async function signerSession(app: App, personalNumber: string) {
  const { id, session } = await createSession(
    app.db,
    app.keys,
    {
      audience: 'signer',
      staffId: null,
      personalNumber,
      name: null,
      issuer: 'http://localhost:3000/dev-idp',
      subject: `signer-${personalNumber}`,
      acr: null,
      authTime: app.clock.now(),
    },
    { now: app.clock.now(), absoluteHours: 8 },
  );
  return (url: string, form: Record<string, string>, remoteAddress = '127.0.0.1') =>
    app.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { ...FORM, ...HTML, cookie: `samtycke=${id}` },
      payload: new URLSearchParams({ _csrf: session.csrfToken, ...form }).toString(),
    });
}

t.test('signer acts: per person (sign, decline, withdraw share one count), from any address', async (t) => {
  const s = await startSignerApp(t, { env: { RATE_LIMIT_SIGNER_ACTS_PER_PERSON: '2' } });
  const { consentId } = await requestConsent(s, 'lindqvist');
  const version = await latestFormSha256(s.app.db, consentId);
  const anna = await signerSession(s.app, s.person('anna-lindqvist').personalNumber);
  const erik = await signerSession(s.app, s.person('erik-lindqvist').personalNumber);
  const sign = `/mina-samtycken/${consentId}/signera`;
  for (let i = 0; i < 2; i++)
    t.equal((await anna(sign, { version, ort: 'Norrby' })).statusCode, 303, 'to the identification');
  assertPage429(t, await anna(sign, { version, ort: 'Norrby' }, '192.0.2.10'), 'a third sign');
  assertPage429(t, await anna(`/mina-samtycken/${consentId}/avboj`, { anledning: '' }), 'decline');
  assertPage429(t, await anna(`/mina-samtycken/${consentId}/aterkalla`, {}, '192.0.2.11'), 'withdraw');
  t.equal((await erik(sign, { version, ort: 'Norrby' })).statusCode, 303, 'another person is not limited');
  const refusals = s.logs.filter((l) => l.includes('too_many_requests'));
  t.ok(refusals.length >= 3);
  const digits = s.person('anna-lindqvist').personalNumber.slice(-10);
  for (const line of refusals) t.notMatch(line, digits, 'no personal number in the log');
});

t.test("an act's own identification is a login start: counted before its row", async (t) => {
  const s = await startSignerApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '2' } });
  const { consentId } = await requestConsent(s, 'lindqvist');
  const version = await latestFormSha256(s.app.db, consentId);
  const anna = await signerSession(s.app, s.person('anna-lindqvist').personalNumber);
  const sign = `/mina-samtycken/${consentId}/signera`;
  const rows = async () => (await s.app.db.selectFrom('login_attempts').select('id').execute()).length;
  t.equal((await anna(sign, { version, ort: 'Norrby' })).statusCode, 303);
  t.equal((await get(s, '/auth/login')).statusCode, 302);
  t.equal(await rows(), 2);
  assertPage429(t, await anna(sign, { version, ort: 'Norrby' }), 'the third start from the address');
  t.equal(await rows(), 2, 'no row for it');
});

t.test('search by child: per API client and per staff member', async (t) => {
  const s = await setup(t, { jobs: false, env: { RATE_LIMIT_CHILD_SEARCH_PER_CALLER: '2' } });
  const bearer = async (name: string) => {
    const c = await apiClient(s.app, s.organisationId, name);
    const res = await tokenRequest(s.app, basicAuth(c.clientId, c.secret));
    return `Bearer ${res.json().access_token as string}`;
  };
  const [one, two] = [await bearer('One'), await bearer('Two')];
  const search = (authorization: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/consent-status/search',
      headers: { authorization },
      payload: { childPersonalNumber: s.person('saga-lindqvist').personalNumber },
    });
  for (let i = 0; i < 2; i++) t.equal((await search(one)).statusCode, 200);
  const refused = await search(one);
  assertProblem429(t, refused, 'the API search');
  t.notMatch(refused.body, s.person('saga-lindqvist').personalNumber.slice(-10), 'no number echoed');
  t.equal((await search(two)).statusCode, 200, 'another client is counted on its own');

  const { cookie, csrfToken } = await staffSession(s.app, s.staffId, s.app.clock.now());
  const page = () =>
    s.app.inject({
      method: 'POST',
      url: '/personal/sok',
      headers: { ...FORM, ...HTML, cookie },
      payload: new URLSearchParams({
        _csrf: csrfToken,
        personalNumber: s.person('saga-lindqvist').personalNumber,
      }).toString(),
    });
  for (let i = 0; i < 2; i++) t.equal((await page()).statusCode, 200);
  const refusedPage = await page();
  t.equal(refusedPage.statusCode, 429, 'the staff search page');
  t.match(refusedPage.headers['content-type'], /^text\/html/);
  t.match(refusedPage.body, /<h1[^>]*>För många försök<\/h1>/);
  t.match(refusedPage.body, /Vänta \d+ sekunder och försök igen/);
  assertRetryAfter(t, refusedPage, 'the staff search page');
});

t.test('a spoofed X-Forwarded-For changes nothing; behind a trusted proxy it names the client', async (t) => {
  const login = (s: { app: App; base: string }, forwardedFor: string, remoteAddress = '127.0.0.1') =>
    get(s, '/auth/login', { remoteAddress, headers: { 'x-forwarded-for': forwardedFor } });
  const statuses = async (s: { app: App; base: string }, calls: [string, string?][]) => {
    const out: number[] = [];
    for (const [forwardedFor, remoteAddress] of calls)
      out.push((await login(s, forwardedFor, remoteAddress)).statusCode);
    return out;
  };

  const direct = await startApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '2' } });
  t.same(
    await statuses(direct, [['198.51.100.1'], ['198.51.100.2'], ['198.51.100.3']]),
    [302, 302, 429],
    'TRUST_PROXY unset: the socket address is counted, not the header',
  );

  const proxied = await startApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '2', TRUST_PROXY: '127.0.0.1' } });
  t.same(
    await statuses(proxied, [['198.51.100.1'], ['198.51.100.1'], ['198.51.100.1'], ['198.51.100.2']]),
    [302, 302, 429, 302],
    'from the trusted proxy: the forwarded address is counted',
  );
  t.same(
    await statuses(proxied, [
      ['198.51.100.2', '203.0.113.5'],
      ['198.51.100.9', '203.0.113.5'],
      ['198.51.100.10', '203.0.113.5'],
    ]),
    [302, 302, 429],
    'a client that is not the proxy is counted as itself: its own header gives it no new addresses',
  );

  // One proxy in front: the address it appended (the last one) is the client's; what the client wrote
  // before it is not believed.
  const hops = await startApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '1', TRUST_PROXY: '1' } });
  t.same(
    await statuses(hops, [['10.9.9.9, 198.51.100.20'], ['10.9.9.8, 198.51.100.20']]),
    [302, 429],
    'TRUST_PROXY=1: the last hop counts',
  );
});

t.test('Redis out of reach: the limits are counted in the process, no request fails', async (t) => {
  const port = await freePort(); // nothing listens there
  const s = await startApp(t, {
    env: { REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_LOGIN_PER_ADDRESS: '2' },
  });
  const { logs } = s;
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await get(s, '/auth/login')).statusCode);
  t.same(statuses, [302, 302, 429]);
  t.ok(
    logs.some((l) => l.includes('rate limit store (Redis) unavailable')),
    'the operator is told',
  );
});

t.test('a limit of 0 is no limit', async (t) => {
  const s = await startApp(t, { env: { RATE_LIMIT_LOGIN_PER_ADDRESS: '0' } });
  for (let i = 0; i < 5; i++) t.equal((await get(s, '/auth/login')).statusCode, 302);
});

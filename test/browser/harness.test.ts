// The browser harness proves itself: its checks catch a page with an accessibility violation, a page
// too wide for a phone and a request to another origin; and a real smoke run in Chromium (staff log in
// through the development IdP, see the start page, log out).
import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';
import tap, { type Test } from 'tap';
import { fixedClock } from '../../src/clock.ts';
import type { App } from '../../src/http/types.ts';
import { contentSecurityPolicy } from '../../src/http/views.ts';
import {
  type Broker,
  encodeUserMessage,
  startBrokerIdp,
  USER_MESSAGE_MIME_TYPES,
  USER_MESSAGE_PARAM,
  USER_MESSAGE_SUPPORTED,
} from '../fixtures/broker-idp.ts';
import {
  browserTest,
  confirmDevIdpLogout,
  inspectPage,
  launchBrowser,
  loginAtBroker,
  loginStaff,
  newDesktop,
  newPhone,
  pathOf,
  startService,
  startServiceWithBroker,
  step,
  trafficOf,
} from './harness.ts';

/** Test-only pages served by the app itself, under its real CSP (so axe is proven to run under it). */
function badPages(service: { app: App }) {
  const csp = contentSecurityPolicy([]);
  const html = (title: string, body: string, head = '') =>
    `<!doctype html><html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>${head}</head><body><main><h1>${title}</h1>${body}</main></body></html>`;
  const { app } = service;
  app.get('/test/ok', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(html('Bra sida', '<p>Text.</p>')),
  );
  app.get('/test/no-alt', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(
        html(
          'Bild utan alt',
          '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">',
        ),
      ),
  );
  app.get('/test/wide.css', async (_req, reply) =>
    reply.type('text/css').send('.wide{width:900px;background:#eee}'),
  );
  app.get('/test/wide', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(
        html(
          'För bred',
          '<div class="wide">Bred ruta</div>',
          '<link rel="stylesheet" href="/test/wide.css">',
        ),
      ),
  );
  // The 200 % case: fine at 100 %, too wide once the text doubles (a word that cannot wrap).
  app.get('/test/wide-text.css', async (_req, reply) =>
    reply.type('text/css').send('.long{font-size:1rem;white-space:nowrap}'),
  );
  app.get('/test/wide-text', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(
        html(
          'Lång rad',
          '<p class="long">Samtyckesblankettsinformationen</p>',
          '<link rel="stylesheet" href="/test/wide-text.css">',
        ),
      ),
  );
  // No CSP here: a page that loads an image from another origin (port 9: nothing listens, the request
  // is still made and recorded).
  app.get('/test/foreign', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(html('Extern bild', '<img src="http://127.0.0.1:9/pixel.gif" alt="Pixel">')),
  );
}

browserTest('the checks catch what they are for', async (t: Test) => {
  const service = await startService(t, { beforeListen: ({ app }) => badPages({ app }) });
  const browser = await launchBrowser(t);
  const page = await newPhone(browser, service.baseUrl);

  await page.goto('/test/ok');
  t.same(await inspectPage(page), { axe: [], overflow: [], foreign: [], csp: [] }, 'a good page passes');

  await page.goto('/test/no-alt');
  const noAlt = await inspectPage(page);
  t.ok(
    noAlt.axe.some((v) => v.id === 'image-alt' && v.nodes[0]?.target === 'img'),
    'axe (evaluated under the page CSP) finds the image without alt',
  );

  await page.goto('/test/wide');
  const wide = await inspectPage(page);
  t.equal(wide.overflow[0]?.textSize, '100%', 'a 900 px box overflows a 360 px phone');
  t.match(wide.overflow[0]?.elements[0], /^div\.wide/, 'and the box is named');

  await page.goto('/test/wide-text');
  const text = await inspectPage(page);
  t.same(
    text.overflow.map((o) => o.textSize),
    ['200%'],
    'a long word fits at 100 % and overflows at 200 % text size',
  );
  t.match(text.overflow[0]?.elements[0], /^p\.long/);
  t.equal(
    await page.evaluate('document.documentElement.style.fontSize'),
    '',
    'the text size is restored afterwards',
  );

  await page.goto('/test/foreign').catch(() => {});
  await page.waitForLoadState('load');
  const foreign = await inspectPage(page);
  t.same(foreign.foreign, ['http://127.0.0.1:9/pixel.gif'], 'a request to another origin is caught');
  t.same((await inspectPage(page)).foreign, [], 'and reported once');
});

browserTest('smoke: staff log in through the development IdP at 1280 wide and log out', async (t: Test) => {
  const service = await startService(t, { seed: true });
  const browser = await launchBrowser(t);
  const page = await newDesktop(browser, service.baseUrl);

  await step(t, page, 'staff start page', async () => {
    await loginStaff(page, service.baseUrl, 'karin-holm');
    t.equal(pathOf(page), '/personal');
    t.ok(await page.getByRole('heading', { level: 1, name: 'Samtycken' }).isVisible(), 'the start page');
    t.ok(await page.getByRole('button', { name: 'Logga ut' }).isVisible(), 'with a way to log out');
  });

  await step(t, page, 'the development IdP asks to log out there too', async () => {
    const answer = page.waitForResponse((r) => r.url().endsWith('/auth/logout'));
    await page.getByRole('button', { name: 'Logga ut' }).click();
    // Regression: with `Referrer-Policy: no-referrer` Chromium sends `Origin: null` and the post was 403.
    const status = (await answer).status();
    if (!t.equal(status, 303, 'the logout form post is accepted (not 403)')) return;
    await page.waitForURL((u) => u.pathname.startsWith('/dev-idp/'));
  });
  await step(t, page, 'logged out', async () => {
    await confirmDevIdpLogout(page, service.baseUrl);
    t.ok(
      await page.getByRole('heading', { name: /utloggad/i }).isVisible(),
      'says the staff member is logged out',
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The broker, over plain HTTP: what a relying party sees.

const REDIRECT = 'http://localhost:9/auth/callback';

async function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** A browser without JavaScript against the broker: one cookie jar, redirects followed by hand. */
function brokerClient(broker: Broker) {
  let cookie = '';
  return {
    async authorize(params: Record<string, string>, pkce?: { challenge: string }) {
      const url = new URL(`${broker.issuer}/authorize`);
      const all: Record<string, string> = {
        client_id: broker.clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'openid profile',
        state: 'st-1',
        nonce: 'n-1',
        ...(pkce ? { code_challenge: pkce.challenge, code_challenge_method: 'S256' } : {}),
        ...params,
      };
      for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
      const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
      return { status: res.status, location: res.headers.get('location'), html: await res.text() };
    },
    async login(html: string, person: string) {
      const rid = /name="rid" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const res = await fetch(`${broker.issuer}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ rid, person, action: 'login' }).toString(),
      });
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0] ?? '';
      return { status: res.status, location: res.headers.get('location') };
    },
  };
}

async function redeem(
  broker: Broker,
  location: string,
  verifier: string,
  auth: 'basic' | 'post' = 'basic',
): Promise<{ status: number; body: Record<string, unknown>; claims?: Record<string, unknown> }> {
  const code = new URL(location).searchParams.get('code') ?? '';
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  };
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'basic')
    headers.authorization = `Basic ${Buffer.from(`${broker.clientId}:${broker.clientSecret}`).toString('base64')}`;
  else Object.assign(form, { client_id: broker.clientId, client_secret: broker.clientSecret });
  const res = await fetch(`${broker.issuer}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (typeof body.id_token !== 'string') return { status: res.status, body };
  // Verify the signature against the broker's JWKS, as a relying party would.
  const [h, p, s] = body.id_token.split('.') as [string, string, string];
  const { keys } = (await (await fetch(`${broker.issuer}/jwks`)).json()) as { keys: JsonWebKey[] };
  const key = createPublicKey({ key: keys[0]!, format: 'jwk' });
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('ID token signature does not verify');
  return { status: res.status, body, claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) };
}

tap.test('the broker: SSO answers with the old auth_time; prompt=login and max_age ask again', async (t) => {
  const clock = fixedClock('2025-03-10T09:00:00Z');
  const broker = await startBrokerIdp({ redirectUris: [REDIRECT], clock });
  t.teardown(() => broker.close());
  const client = brokerClient(broker);

  const discovery = (await (
    await fetch(`${broker.issuer}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  t.equal(discovery.issuer, broker.issuer);
  t.same(discovery.code_challenge_methods_supported, ['S256']);
  t.equal(discovery.authorization_response_iss_parameter_supported, true);
  t.ok((discovery.claims_supported as string[]).includes('ssn'));
  t.notOk(USER_MESSAGE_SUPPORTED in discovery, 'no user message support unless asked for');

  // First login: the login page, then a code with iss and state (RFC 9207).
  let pkce = await pkcePair();
  const first = await client.authorize({}, pkce);
  t.equal(first.status, 200, 'no session: the login page');
  t.match(first.html, /Legitimera dig med test-e-legitimation/);
  const back = await client.login(first.html, 'anna-lindqvist');
  const backUrl = new URL(back.location ?? '');
  t.equal(backUrl.searchParams.get('iss'), broker.issuer, 'iss in the redirect (RFC 9207)');
  t.equal(backUrl.searchParams.get('state'), 'st-1', 'state in the redirect');
  const firstToken = await redeem(broker, back.location!, pkce.verifier);
  const loginTime = Date.parse('2025-03-10T09:00:00Z') / 1000;
  t.match(firstToken.claims, {
    iss: broker.issuer,
    aud: broker.clientId,
    nonce: 'n-1',
    auth_time: loginTime,
    acr: 'http://id.elegnamnden.se/loa/1.0/loa3',
    name: 'Anna Lindqvist',
  });
  t.match(firstToken.claims?.ssn, /^\d{12}$/, 'the 12-digit personal number in ssn');
  t.notOk(String(firstToken.claims?.sub).includes(String(firstToken.claims?.ssn)), 'sub is not the number');
  t.equal(
    (await redeem(broker, back.location!, pkce.verifier)).body.error,
    'invalid_grant',
    'codes are one-time',
  );

  // Five minutes later, no prompt=login: answered at once from SSO with the OLD auth_time.
  clock.advance(5 * 60_000);
  pkce = await pkcePair();
  const sso = await client.authorize({}, pkce);
  t.equal(sso.status, 302, 'SSO: no login page');
  const ssoToken = await redeem(broker, sso.location!, pkce.verifier, 'post');
  t.equal(ssoToken.claims?.auth_time, loginTime, 'the old auth_time (client_secret_post works too)');
  t.equal(ssoToken.claims?.iat, loginTime + 300);

  // max_age larger than the session's age: still SSO; max_age=0: a login page.
  t.equal((await client.authorize({ max_age: '3600' }, pkce)).status, 302, 'max_age=3600 is met by SSO');
  t.equal((await client.authorize({ max_age: '0' }, pkce)).status, 200, 'max_age=0 asks again');

  // prompt=login: the login page, and a new auth_time.
  clock.advance(60_000);
  pkce = await pkcePair();
  const fresh = await client.authorize({ prompt: 'login', max_age: '0' }, pkce);
  t.equal(fresh.status, 200, 'prompt=login: the login page although the session exists');
  const freshBack = await client.login(fresh.html, 'anna-lindqvist');
  const freshToken = await redeem(broker, freshBack.location!, pkce.verifier);
  t.equal(freshToken.claims?.auth_time, loginTime + 360, 'a new auth_time');

  t.same(
    broker.log.map((r) => [r.prompt, r.maxAge, r.answeredFromSso, r.outcome]),
    [
      [null, null, false, 'code'],
      [null, null, true, 'code'],
      [null, '3600', true, 'code'],
      [null, '0', false, 'login_page'],
      ['login', '0', false, 'code'],
    ],
    'the log holds every authorization request',
  );
  t.notOk(
    JSON.stringify(broker.log).includes(String(firstToken.claims?.ssn)),
    'the log holds no personal number',
  );
});

tap.test('the broker refuses a request without PKCE S256, unknown clients and bad verifiers', async (t) => {
  const broker = await startBrokerIdp({ redirectUris: [REDIRECT] });
  t.teardown(() => broker.close());
  const client = brokerClient(broker);

  const none = await client.authorize({});
  const noneUrl = new URL(none.location ?? '');
  t.equal(none.status, 302);
  t.equal(noneUrl.searchParams.get('error'), 'invalid_request', 'no code_challenge: invalid_request');
  t.equal(noneUrl.searchParams.get('iss'), broker.issuer, 'errors carry iss too');
  t.equal(noneUrl.searchParams.get('state'), 'st-1');
  const plain = await client.authorize({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
  t.equal(new URL(plain.location ?? '').searchParams.get('error'), 'invalid_request', 'plain: refused');

  t.equal((await client.authorize({ client_id: 'other' }, await pkcePair())).status, 400, 'unknown client');
  t.equal(
    (await client.authorize({ redirect_uri: 'http://evil.example/cb' }, await pkcePair())).status,
    400,
    'unregistered redirect_uri: an error page, never a redirect',
  );

  const pkce = await pkcePair();
  const page = await client.authorize({}, pkce);
  const back = await client.login(page.html, 'erik-lindqvist');
  const wrong = await redeem(broker, back.location!, 'wrong-verifier-wrong-verifier-wrong-verifier');
  t.equal(wrong.body.error, 'invalid_grant', 'a wrong code_verifier is refused');
});

tap.test('the broker announces and records the Client Provided User Message', async (t) => {
  const broker = await startBrokerIdp({ redirectUris: [REDIRECT], userMessageSupport: true });
  t.teardown(() => broker.close());
  const discovery = (await (
    await fetch(`${broker.issuer}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  t.equal(discovery[USER_MESSAGE_SUPPORTED], true);
  t.same(discovery[USER_MESSAGE_MIME_TYPES], ['text/plain']);

  const message = encodeUserMessage({
    sv: 'Du skriver under ett samtycke.',
    en: 'You are signing a consent.',
  });
  const page = await brokerClient(broker).authorize(
    { prompt: 'login', max_age: '0', [USER_MESSAGE_PARAM]: message },
    await pkcePair(),
  );
  t.match(page.html, /Du skriver under ett samtycke\./, 'the Swedish message is shown on the login page');
  t.same(broker.log[0]?.userMessage, {
    messages: { sv: 'Du skriver under ett samtycke.', en: 'You are signing a consent.' },
    mimeType: 'text/plain',
  });
});

// ---------------------------------------------------------------------------------------------------
// The service against the broker, in Chromium.

browserTest('smoke: the service against the broker; a second login is answered from SSO', async (t: Test) => {
  const service = await startServiceWithBroker(t, { seed: true });
  const browser = await launchBrowser(t);
  const page = await newPhone(browser, service.baseUrl, { allowedOrigins: [service.broker.origin] });

  await step(t, page, 'broker login page', async () => {
    await page.goto('/auth/staff/login?returnTo=/personal');
    t.equal(new URL(page.url()).origin, service.broker.origin, 'the broker login page, on its own origin');
  });
  await step(t, page, 'staff logged in at the broker', async () => {
    await loginAtBroker(page, 'karin-holm', service.baseUrl);
    t.equal(pathOf(page), '/personal', 'staff are matched by the verified email the broker sends');
    t.ok(await page.getByRole('heading', { level: 1, name: 'Samtycken' }).isVisible());
  });

  await step(t, page, 'signer login answered from SSO', async () => {
    await page.goto('/auth/login');
    t.equal(new URL(page.url()).origin, service.baseUrl, 'no broker page: the SSO session answered');
  });
  t.same(
    service.broker.log.map((r) => [r.prompt, r.answeredFromSso]),
    [
      [null, false],
      [null, true],
    ],
    'the broker saw a login, then an SSO answer',
  );
  t.same(trafficOf(page).foreign, [], 'nothing but the service and the broker');
});

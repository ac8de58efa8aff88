// The development IdP itself: never in production, mountable under a path in Fastify, its login page.
import { freePort } from '../../src/db/embedded.ts';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import t from 'tap';
import { LOA } from '../../src/identity/claims.ts';
import devIdpPlugin from '../../src/dev/idp/fastify.ts';
import { createDevIdp, DevIdpProductionError, startDevIdpServer } from '../../src/dev/idp/index.ts';
import { createRelyingParty } from '../../src/identity/oidc-client.ts';
import { CookieJar, driveLogin, getPage } from '../fixtures/login-flow.ts';
import { REDIRECT_URI, SECRET_BASIC, startTestIdp } from '../fixtures/test-idp.ts';
import { leakedNumbers } from '../fixtures/people.ts';

const client = {
  client_id: 'rp-basic',
  client_secret: SECRET_BASIC,
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: 'client_secret_basic' as const,
};

t.test('refuses to run in production', async (t) => {
  t.throws(
    () => createDevIdp({ issuer: 'http://localhost:3000/dev-idp', clients: [client], production: true }),
    DevIdpProductionError,
  );
  // A missing flag (e.g. from untyped JavaScript) counts as production.
  t.throws(
    () =>
      createDevIdp({ issuer: 'http://localhost:3000/dev-idp', clients: [client] } as unknown as Parameters<
        typeof createDevIdp
      >[0]),
    DevIdpProductionError,
  );
  await t.rejects(startDevIdpServer({ clients: [client], production: true }), DevIdpProductionError);
});

t.test('mounted under /dev-idp in a Fastify app', async (t) => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/dev-idp`;
  // As in development: the app's client `samtycke` without a secret (a public client; PKCE binds the code).
  const devClient = {
    client_id: 'samtycke',
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'none' as const,
  };
  const devIdp = createDevIdp({ issuer, clients: [devClient], production: false });
  t.equal(devIdp.mountPath, '/dev-idp');
  const app = Fastify();
  await app.register(formbody);
  await app.register(devIdpPlugin, { devIdp });
  app.get('/hello', async () => ({ hello: 'world' }));
  app.post('/echo', async (request) => request.body);
  await app.listen({ port, host: '127.0.0.1' });
  t.teardown(() => app.close());

  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
  t.equal(discovery.issuer, issuer);
  for (const key of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'end_session_endpoint',
  ]) {
    t.match(discovery[key], new RegExp(`^${issuer}/`), `${key} is under the mount path`);
  }

  const rp = await createRelyingParty({
    issuer,
    clientId: 'samtycke',
    redirectUri: REDIRECT_URI,
    claimProfile: 'swedish-oidc',
    acrValues: [LOA.loa3],
    allowInsecure: true,
  });
  const jar = new CookieJar();
  const attempt = await rp.beginLogin();
  const flow = await driveLogin(attempt.url, REDIRECT_URI, { person: 'saga-lindqvist' }, jar);
  t.ok(
    flow.urls.slice(1, -1).every((u) => u.startsWith(`${issuer}/`)),
    'every provider URL is under the mount path',
  );
  const identity = await rp.completeLogin(flow.callbackUrl, attempt);
  t.equal(identity.name, 'Saga Lindqvist');
  t.same(leakedNumbers(flow.urls, [identity.personalNumber]), []);

  // The app's own routes, form parsing included, are untouched.
  t.same(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { hello: 'world' });
  const echo = await fetch(`http://127.0.0.1:${port}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1',
  });
  t.same(await echo.json(), { a: '1' });
  t.equal((await fetch(`http://127.0.0.1:${port}/dev-idpx`)).status, 404, 'a longer path is not the IdP');
});

t.test('cookies stay under the mount path', async (t) => {
  const server = await startDevIdpServer({ clients: [client], production: false, path: '/dev-idp' });
  t.teardown(() => server.close());
  const rp = await createRelyingParty({
    issuer: server.issuer,
    clientId: 'rp-basic',
    clientSecret: SECRET_BASIC,
    redirectUri: REDIRECT_URI,
    claimProfile: 'ssn',
    allowInsecure: true,
  });
  const jar = new CookieJar();
  const attempt = await rp.beginLogin();
  const flow = await driveLogin(attempt.url, REDIRECT_URI, { profile: 'ssn' }, jar);
  t.ok(await rp.completeLogin(flow.callbackUrl, attempt));
  const session = jar.received.filter((c) => c.startsWith('dev_idp_session='));
  t.ok(session.length > 0, 'a provider session cookie was set');
  for (const c of session) t.match(c, /path=\/dev-idp(;|$)/i, 'the session cookie is scoped to the IdP');
  for (const c of jar.received) t.match(c, /path=\/dev-idp/i);
  const other = await fetch(`${server.issuer.replace('/dev-idp', '')}/other`);
  t.equal(other.status, 404, 'outside the mount path: not found');
});

t.test('the login page', async (t) => {
  const idp = await startTestIdp();
  t.teardown(() => idp.close());
  const rp = await createRelyingParty({
    issuer: idp.issuer,
    clientId: 'rp-basic',
    clientSecret: SECRET_BASIC,
    redirectUri: REDIRECT_URI,
    claimProfile: 'swedish-oidc',
    allowInsecure: true,
  });

  const open = async (fresh: boolean) => {
    const jar = new CookieJar();
    const attempt = await rp.beginLogin({ fresh });
    const first = await fetch(attempt.url, { redirect: 'manual' });
    jar.store(first.headers.getSetCookie());
    const url = new URL(first.headers.get('location')!, attempt.url).href;
    return { url, jar, page: await getPage(url, jar) };
  };

  const { url, jar, page } = await open(false);
  t.equal(page.status, 200);
  t.match(page.html, /<html lang="sv">/);
  t.match(page.html, /Logga in med test-e-legitimation/);
  t.match(page.html, /påhittade/, 'marked fictional');
  t.match(page.html, /Łucja Şahin/);
  t.match(page.html, /Minh Nguyễn/);
  for (const profile of ['swedish-oidc', 'ssn', 'nin']) t.match(page.html, new RegExp(`value="${profile}"`));
  for (const acr of [LOA.loa3, LOA.loa2, 'urn:grn:authn:se:bankid:same-device'])
    t.ok(page.html.includes(`value="${acr}"`));
  t.match(page.html, /value="NO"/, 'another issuing country can be chosen');
  t.notMatch(page.html, /<script/i, 'no JavaScript');
  t.notMatch(page.html, /(src|href)=/i, 'no external resources');
  t.notMatch(page.html, /@import|url\(/i, 'no external resources in the style');
  t.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  t.notMatch(page.html, /En ny legitimering krävs/);

  const fresh = await open(true);
  t.match(fresh.page.html, /En ny legitimering krävs/, 'a fresh login says so');

  // A typed number is checked unless the tester asks otherwise; the page answers 400 and shows the form again.
  const action = /<form method="post" action="([^"]+)"/.exec(page.html)![1]!;
  const res = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ person: '', number: '198405179825', name: 'X', action: 'login' }).toString(),
    redirect: 'manual',
  });
  t.equal(res.status, 400);
  const html = await res.text();
  t.match(html, /kontrollsiffra/);
  t.match(html, /name="person"/, 'the form is shown again');

  // Nothing typed and no person chosen.
  const empty = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: 'person=&number=&action=login',
    redirect: 'manual',
  });
  t.equal(empty.status, 400);

  // Without the interaction cookie (expired or another browser).
  const lost = await fetch(url, { redirect: 'manual' });
  t.equal(lost.status, 400);
  t.match(await lost.text(), /har gått ut/);

  const wrongMethod = await fetch(url, {
    method: 'POST',
    headers: { cookie: jar.header() },
    redirect: 'manual',
  });
  t.equal(wrongMethod.status, 405);
});

t.test('a provider error page is ours: Swedish, no third-party resources', async (t) => {
  const server = await startDevIdpServer({ clients: [client], production: false });
  t.teardown(() => server.close());
  const res = await fetch(`${server.issuer}/auth?client_id=unknown&response_type=code&scope=openid`);
  t.equal(res.status, 400);
  const html = await res.text();
  t.match(html, /Något gick fel/);
  t.notMatch(html, /@import|<script|(src|href)=/i);
});

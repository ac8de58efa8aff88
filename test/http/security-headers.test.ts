// Headers on every answer (issue 15 §4): a walk over every route the app has, as nobody, as staff and as an
// API client, with real ids so that the personal-data answers are really given; plus what the walk cannot
// reach (404s, the development IdP, Fastify's early answers), HSTS in production only, and API_DOCS.
import Fastify from 'fastify';
import type { Test } from 'tap';
import t from 'tap';
import { type Config, ConfigError, loadConfig } from '../../src/config.ts';
import { SWAGGER_UI_CSP } from '../../src/http/openapi.ts';
import securityHeaders, { contentSecurityPolicy, pageDirectives } from '../../src/http/security-headers.ts';
import type { App } from '../../src/http/types.ts';
import { apiSetup, type ApiSetup } from '../fixtures/api.ts';
import { PRODUCTION_ENV } from '../fixtures/production-env.ts';
import { build } from '../helper.ts';

/** Answers the same for everyone, which may be cached; every other answer must be `no-store`. */
const PUBLIC = [/^\/assets\/app\.css$/, /^\/openapi\.json$/, /^\/docs\/static\//];

type Headers = Record<string, string | string[] | number | undefined>;

/** Today's page policy (before issue 15), directive by directive: the new headers must be as strict. */
const PAGE_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];
const directives = (csp: unknown) =>
  String(csp)
    .split(';')
    .map((d) => d.trim().replace(/\s+/g, ' '))
    .filter(Boolean);

/** Every security header every answer carries; `where` names the answer in failures. */
function assertSecurityHeaders(t: Test, headers: Headers, where: string) {
  t.equal(headers['x-content-type-options'], 'nosniff', `${where}: nosniff`);
  t.equal(headers['x-frame-options'], 'DENY', `${where}: X-Frame-Options`);
  t.equal(headers['referrer-policy'], 'same-origin', `${where}: Referrer-Policy`);
  t.match(String(headers['content-security-policy']), /frame-ancestors 'none'/, `${where}: frame-ancestors`);
  t.notOk(headers['strict-transport-security'], `${where}: no HSTS in development`);
}

/**
 * Every route of the app as `METHOD path`, from Fastify's route tree (`printRoutes` with full segments:
 * a node's path is its ancestors' segments and its own, joined as they are).
 */
function routesOf(app: App): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter(Boolean))
      routes.push({ method, url: stack.join('') });
  }
  return routes;
}

const SOME_UUID = '00000000-0000-4000-8000-000000000000';

t.test(
  'every answer of every route carries nosniff and the security headers, and none but the public ones may be stored',
  async (t) => {
    const s: ApiSetup = await apiSetup(t);
    const { app, db } = s;
    // Karin administers her organisation, so the admin routes answer her with their lists.
    await db
      .updateTable('staff_memberships')
      .set({ role: 'admin' })
      .where('staff_id', '=', s.staffId)
      .execute();
    const consentId = await s.createConsent();
    const params: Record<string, string> = {
      id: consentId,
      organisationId: s.organisationId,
      staffId: s.staffId,
      apiClientId: s.client.clientId,
      secretId: SOME_UUID,
      token: 'no-such-token',
      '*': 'swagger-ui.css',
    };
    const fill = (url: string) =>
      url.replace(
        /:([A-Za-z]+)|\*/g,
        (whole, name: string | undefined) => params[name ?? whole] ?? SOME_UUID,
      );

    await app.ready();
    const routes = routesOf(app);
    t.ok(routes.length > 60, `the walk found the routes (${routes.length})`);
    for (const expected of ['GET /api/v1/consents/:id/events', 'POST /oauth/token', 'GET /samtycken/:id'])
      t.ok(
        routes.some((r) => `${r.method} ${r.url}` === expected),
        `${expected} is among them`,
      );

    // Reads first, then writes (they may change what the reads see), logout last (it ends the session).
    const order = (r: { method: string; url: string }) =>
      (r.method === 'GET' || r.method === 'HEAD' ? 0 : 1) + (r.url === '/auth/logout' ? 2 : 0);
    const ok = new Map<string, number[]>();
    for (const route of [...routes].sort((a, b) => order(a) - order(b))) {
      const url = fill(route.url);
      for (const who of ['anonymous', 'ownStaff', 'ownClient'] as const) {
        const res = await s.call(
          who,
          route.method as 'GET' | 'POST',
          url,
          route.method === 'POST' ? {} : undefined,
          { accept: route.url.startsWith('/api') ? 'application/json' : 'text/html' },
        );
        const where = `${route.method} ${route.url} as ${who} (${res.statusCode})`;
        assertSecurityHeaders(t, res.headers, where);
        if (!PUBLIC.some((p) => p.test(url)))
          t.equal(res.headers['cache-control'], 'no-store', `${where}: Cache-Control no-store`);
        const key = `${route.method} ${route.url}`;
        ok.set(key, [...(ok.get(key) ?? []), res.statusCode]);
      }
    }
    // The walk reached the answers that carry personal data, not only their refusals.
    for (const key of [
      'GET /api/v1/consents',
      'GET /api/v1/consents/:id',
      'GET /api/v1/consents/:id/events',
      'GET /api/v1/consents/:id/document',
      'GET /api/v1/admin/organisations/:organisationId/staff',
      'GET /api/v1/admin/organisations/:organisationId/clients',
      'GET /samtycken/:id',
      'GET /samtycken/:id/dokument',
    ])
      t.ok(ok.get(key)?.includes(200), `${key} answered 200 to someone`, { statuses: ok.get(key) });
  },
);

t.test(
  'the pages keep their policy exactly; 404s, redirects and early answers carry the headers too',
  async (t) => {
    const { app } = await build(t);
    const page = await app.inject('/');
    t.same(
      directives(page.headers['content-security-policy']),
      PAGE_POLICY,
      'the page policy as strict as before',
    );
    t.same(directives(contentSecurityPolicy([])), PAGE_POLICY);
    t.same(pageDirectives(['https://idp.example.se'])['form-action'], ["'self'", 'https://idp.example.se']);
    t.equal(page.headers['cache-control'], 'no-store');

    const css = await app.inject('/assets/app.css');
    t.equal(css.headers['cache-control'], 'public, max-age=3600', 'the stylesheet stays cacheable');
    assertSecurityHeaders(t, css.headers, 'the stylesheet');

    for (const [url, accept] of [
      ['/no-such-page', 'text/html'],
      ['/api/v1/no-such-route', 'application/json'],
    ] as const) {
      const res = await app.inject({ url, headers: { accept } });
      t.equal(res.statusCode, 404);
      assertSecurityHeaders(t, res.headers, `404 ${url}`);
      t.equal(res.headers['cache-control'], 'no-store', `404 ${url}: no-store`);
    }
    for (const [name, request] of [
      ['a redirect to the login', { url: '/mina-samtycken', headers: { accept: 'text/html' } }],
      // The canonical-host hook answers before any route (development: another host name than PUBLIC_BASE_URL's).
      ['the canonical-host redirect', { url: '/', headers: { accept: 'text/html', host: '127.0.0.1:3000' } }],
    ] as const) {
      const redirect = await app.inject(request);
      t.ok(redirect.statusCode >= 300 && redirect.statusCode < 400, `${name} (${redirect.statusCode})`);
      assertSecurityHeaders(t, redirect.headers, name);
      t.equal(redirect.headers['cache-control'], 'no-store', `${name}: no-store`);
    }

    // The development IdP answers outside Fastify's routing (its hook hands the raw request over).
    const discovery = await app.inject('/dev-idp/.well-known/openid-configuration');
    t.equal(discovery.statusCode, 200);
    t.equal(discovery.headers['x-content-type-options'], 'nosniff', 'the development IdP: nosniff');
    const idpPage = await app.inject({ url: '/dev-idp/auth', headers: { accept: 'text/html' } });
    t.match(idpPage.headers['content-type'], /text\/html/);
    t.equal(idpPage.headers['x-content-type-options'], 'nosniff', 'its page: nosniff');
    t.match(
      String(idpPage.headers['content-security-policy']),
      /default-src 'none'; style-src 'unsafe-inline'/,
      'its page: its own policy',
    );

    // Fastify's own early answer (a path parameter over its length limit) is problem+json, never sniffed.
    const long = await app.inject({ url: `/api/v1/consents/${'a'.repeat(200)}/status` });
    t.ok(long.statusCode >= 400 && long.statusCode < 500, `an early answer (${long.statusCode})`);
    t.equal(long.headers['x-content-type-options'], 'nosniff', 'the early answer: nosniff');
    t.equal(long.headers['cache-control'], 'no-store', 'the early answer: no-store');
  },
);

/** The headers plugin alone in an app of the given mode (a whole production app needs real PKI files). */
async function headersApp(t: Test, production: boolean) {
  const app = Fastify();
  app.decorate('config', { production } as Config);
  await app.register(securityHeaders, { formTargets: [] });
  app.get('/json', async () => ({ ok: true }));
  app.get('/api/v1/json', async () => ({ ok: true }));
  t.teardown(() => app.close());
  return app;
}

t.test('HSTS in production only', async (t) => {
  const production = await headersApp(t, true);
  for (const url of ['/json', '/no-such-route', '/api/v1/json', '/api/v1/no-such-route']) {
    const res = await production.inject(url);
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', `${url}: HSTS`);
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(res.headers['cache-control'], 'no-store');
  }
  const development = await headersApp(t, false);
  for (const url of ['/json', '/api/v1/json'])
    t.notOk(
      (await development.inject(url)).headers['strict-transport-security'],
      `${url}: none in development`,
    );
  const { app } = await build(t);
  t.notOk((await app.inject('/')).headers['strict-transport-security'], 'none in the development app');
});

/** helmet's headers that act on HTML documents only: on pages, not on the machine API's answers. */
const DOCUMENT_ONLY = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

t.test(
  "the machine API's answers carry the headers an API answer needs; pages helmet's whole set",
  async (t) => {
    const s = await apiSetup(t);
    const consentId = await s.createConsent();
    const answers = {
      'a status check': await s.call('ownClient', 'GET', `/api/v1/consents/${consentId}/status`),
      'a refused status check': await s.call('anonymous', 'GET', `/api/v1/consents/${consentId}/status`),
      'a consent': await s.call('ownClient', 'GET', `/api/v1/consents/${consentId}`),
      'a bad token request': await s.app.inject({ method: 'POST', url: '/oauth/token', payload: {} }),
      readiness: await s.app.inject('/health/ready'),
    };
    for (const [name, res] of Object.entries(answers)) {
      t.same(
        directives(res.headers['content-security-policy']),
        ["default-src 'none'", "frame-ancestors 'none'"],
        `${name} (${res.statusCode}): nothing may load or frame it`,
      );
      t.equal(res.headers['cross-origin-resource-policy'], 'same-origin', `${name}: CORP`);
      t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`);
      assertSecurityHeaders(t, res.headers, name);
      for (const header of DOCUMENT_ONLY) t.notOk(res.headers[header], `${name}: no ${header}`);
    }
    for (const url of ['/', '/personal', '/no-such-page', '/apinot/here']) {
      const page = await s.app.inject({ url, headers: { accept: 'text/html' } });
      t.same(directives(page.headers['content-security-policy']), PAGE_POLICY, `${url}: the page policy`);
      for (const header of DOCUMENT_ONLY) t.ok(page.headers[header], `${url}: ${header}`);
    }
  },
);

t.test('API_DOCS: /docs and /openapi.json in development by default, not in production', async (t) => {
  // What production decides is the setting's default; the app serves the documents by the setting alone.
  const production = PRODUCTION_ENV;
  t.equal(loadConfig(production).apiDocs, false, 'production: off by default');
  t.equal(loadConfig({ ...production, API_DOCS: 'true' }).apiDocs, true, 'production: on when asked');
  t.equal(loadConfig({}).apiDocs, true, 'development: on by default');
  t.equal(loadConfig({ API_DOCS: 'false' }).apiDocs, false, 'development: off when asked');
  t.throws(() => loadConfig({ API_DOCS: 'maybe' }), ConfigError, 'a malformed value stops the start');

  const served = async (env: Record<string, string>) => {
    const { app } = await build(t, { env });
    const doc = await app.inject('/openapi.json');
    const ui = await app.inject('/docs/');
    t.equal(doc.statusCode, ui.statusCode, 'both or neither');
    if (doc.statusCode === 200) {
      t.equal(doc.json().openapi, '3.1.0');
      t.equal(doc.headers['cache-control'], 'public, max-age=300', 'the document may be cached');
      t.equal(ui.headers['content-security-policy'], SWAGGER_UI_CSP, 'Swagger UI: its own policy');
      t.equal(ui.headers['x-content-type-options'], 'nosniff');
    } else {
      t.equal(doc.statusCode, 404);
      t.equal(doc.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    return doc.statusCode === 200;
  };
  t.equal(await served({}), true, 'served by default in development');
  t.equal(await served({ API_DOCS: 'false' }), false, 'not served with API_DOCS=false');
  t.equal(await served({ API_DOCS: 'true' }), true, 'served with API_DOCS=true');
  // Swagger UI's policy is its own: every other answer keeps the pages' policy.
  const { app } = await build(t);
  t.same(directives((await app.inject('/')).headers['content-security-policy']), PAGE_POLICY);
  t.same(directives((await app.inject('/openapi.json')).headers['content-security-policy']), PAGE_POLICY);
});

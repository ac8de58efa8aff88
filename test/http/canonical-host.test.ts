// Opening http://127.0.0.1:3000 (the address Fastify prints) instead of PUBLIC_BASE_URL broke the login
// with a misleading message: cookies and the development IdP's issuer belong to PUBLIC_BASE_URL's host.
// In development a browser is sent there; production never redirects.
import tap from 'tap';
import { canonicalHostRedirect } from '../../src/http/canonical-host.ts';
import { build } from '../helper.ts';

tap.test(
  'development: GET and HEAD on another host name go to the same path on PUBLIC_BASE_URL',
  async (t) => {
    const { app } = await build(t); // PUBLIC_BASE_URL http://localhost:3000
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await app.inject({
        method,
        url: '/personal?x=1',
        headers: { host: '127.0.0.1:3000', accept: 'text/html' },
      });
      t.equal(res.statusCode, 308, method);
      t.equal(res.headers.location, 'http://localhost:3000/personal?x=1', method);
    }
    const idp = await app.inject({
      url: '/dev-idp/auth?client_id=samtycke',
      headers: { host: '127.0.0.1:3000', accept: 'text/html,application/xhtml+xml' },
    });
    t.equal(idp.statusCode, 308, 'the development IdP too');
    t.equal(idp.headers.location, 'http://localhost:3000/dev-idp/auth?client_id=samtycke');

    // Programs asking for no page (API clients, health checks, benchmarks) keep their answers.
    for (const accept of [undefined, 'application/json']) {
      const api = await app.inject({
        url: '/health/live',
        headers: { host: '127.0.0.1:3000', ...(accept ? { accept } : {}) },
      });
      t.equal(api.statusCode, 200, `accept: ${accept ?? 'none'}`);
    }

    const post = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { host: '127.0.0.1:3000' },
    });
    t.not(post.statusCode, 308, 'a form post is never replayed elsewhere');

    // The right host name: no redirect, whatever the port says (cookies do not care about ports).
    for (const host of ['localhost:3000', 'localhost', 'LOCALHOST:80']) {
      const res = await app.inject({ url: '/health/live', headers: { host } });
      t.equal(res.statusCode, 200, host);
    }
  },
);

tap.test('production never redirects', async (t) => {
  t.equal(
    canonicalHostRedirect({ production: true, publicBaseUrl: 'https://samtycke.example.se' }),
    undefined,
  );
  // A PUBLIC_BASE_URL on port 0 (a test socket) is not an address anyone can be sent to.
  t.equal(canonicalHostRedirect({ production: false, publicBaseUrl: 'http://localhost:0' }), undefined);
  t.type(canonicalHostRedirect({ production: false, publicBaseUrl: 'http://localhost:3000' }), 'function');
});

tap.test('a PUBLIC_BASE_URL with a path (behind a proxy): the path is put in front', async (t) => {
  const { app } = await build(t, { env: { PUBLIC_BASE_URL: 'http://samtycke.localhost:8080/hlt' } });
  const res = await app.inject({
    url: '/personal',
    headers: { host: '127.0.0.1:8080', accept: 'text/html' },
  });
  t.equal(res.statusCode, 308);
  t.equal(res.headers.location, 'http://samtycke.localhost:8080/hlt/personal');
});

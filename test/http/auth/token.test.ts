// The token endpoint (RFC 6749 §4.4, §5.2) and what its tokens open: real HTTP through app.inject, a real
// database, and the authorization policy on a route registered here (the consent routes come later).
import { createHmac } from 'node:crypto';
import type { Test } from 'tap';
import t from 'tap';
import { fixedClock } from '../../../src/clock.ts';
import type { ConsentStatus } from '../../../src/domain/consent.ts';
import {
  addClientSecret,
  type ConsentScope,
  createApiClient,
  disableApiClient,
  revokeClientSecret,
} from '../../../src/identity/api-clients.ts';
import { hashClientSecret, verifyClientSecret } from '../../../src/identity/client-secrets.ts';
import { callerOf } from '../../../src/identity/caller.ts';
import { addTeamMember, createOrganisation, ensureTeam } from '../../../src/identity/organisations.ts';
import { authorize, type ConsentAction } from '../../../src/identity/policy.ts';
import { build } from '../../helper.ts';

const START = '2026-11-23T09:00:00Z';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Three organisations: A and B in one HLT team, C outside it; clients of each. */
async function setup(
  t: Test,
  options: { clock?: ReturnType<typeof fixedClock>; captureLogs?: boolean } = {},
) {
  const clock = options.clock ?? fixedClock(START);
  const built = await build(t, { clock, captureLogs: options.captureLogs ?? false });
  const { app, db } = built;
  const org = (name: string, type: 'school' | 'health_care' | 'social_services') =>
    createOrganisation(db, { name, type, municipality: 'Testby kommun', hltArea: 'HLT Testby' });
  const a = await org('Skola A', 'school');
  const b = await org('Hälsocentral B', 'health_care');
  const c = await org('Socialtjänst C', 'social_services');
  const team = await ensureTeam(db, {
    name: 'Team AB',
    hltArea: 'HLT Testby',
    municipality: 'Testby kommun',
  });
  await addTeamMember(db, team.id, a.id);
  await addTeamMember(db, team.id, b.id);
  const otherTeam = await ensureTeam(db, {
    name: 'Team C',
    hltArea: 'HLT Testby',
    municipality: 'Testby kommun',
  });
  await addTeamMember(db, otherTeam.id, c.id);
  const client = (organisationId: string, scopes: ConsentScope[]) =>
    createApiClient(db, app.config.clientSecretHmacKey, {
      organisationId,
      name: 'System',
      scopes,
      contactName: 'Kontakt Person',
    });
  const clients = {
    a: await client(a.id, ['consent:status', 'consent:read', 'consent:write']),
    aStatus: await client(a.id, ['consent:status']),
    b: await client(b.id, ['consent:status', 'consent:read']),
    c: await client(c.id, ['consent:status', 'consent:read', 'consent:write']),
  };

  // Fake consents (the consent routes come later): one per organisation and status.
  const consents = new Map<string, { organisationId: string; teamId: string; status: ConsentStatus }>();
  for (const status of ['pending', 'active', 'withdrawn'] as const) {
    consents.set(`a-${status}`, { organisationId: a.id, teamId: team.id, status });
    consents.set(`c-${status}`, { organisationId: c.id, teamId: otherTeam.id, status });
  }
  const route = (action: ConsentAction, scope: ConsentScope, method: 'GET' | 'POST' = 'GET') =>
    app.route({
      method,
      url: `/api/v1/test-consents/:ref/${action}`,
      config: { auth: { scope } },
      handler: async (request) => {
        const consent = consents.get((request.params as { ref: string }).ref);
        if (!consent) throw new Error('test consent missing');
        authorize(callerOf(request), action, consent);
        return { ok: true, caller: callerOf(request).kind };
      },
    });
  route('status', 'consent:status');
  route('read', 'consent:read');
  route('cancel', 'consent:write', 'POST');

  const token = async (c: { client: { clientId: string }; secret: string }, scope?: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basic(c.client.clientId, c.secret) },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        ...(scope ? { scope } : {}),
      }).toString(),
    });
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return res.json().access_token as string;
  };
  const get = (url: string, accessToken?: string) =>
    app.inject({ url, headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} });
  return { ...built, clock, orgs: { a, b, c }, team, clients, token, get };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function tokenRequest(s: Setup, form: Record<string, string>, headers: Record<string, string> = {}) {
  return s.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams(form).toString(),
  });
}

function assertOAuthError(
  t: Test,
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  error: string,
) {
  t.equal(res.statusCode, status, `${error}: status`);
  t.match(res.headers['content-type'], /^application\/json/, `${error}: RFC 6749 JSON, not problem+json`);
  t.equal(res.headers['cache-control'], 'no-store');
  const body = res.json() as { error: string; error_description: string };
  t.equal(body.error, error);
  t.type(body.error_description, 'string');
  if (status === 401) t.match(res.headers['www-authenticate'], /^Basic /);
}

t.test('a good client gets a token by HTTP Basic and by client_secret_post', async (t) => {
  const s = await setup(t);
  const { client, secret } = s.clients.a;

  const viaBasic = await tokenRequest(
    s,
    { grant_type: 'client_credentials' },
    { authorization: basic(client.clientId, secret) },
  );
  t.equal(viaBasic.statusCode, 200);
  t.equal(viaBasic.headers['cache-control'], 'no-store');
  t.equal(viaBasic.headers.pragma, 'no-cache');
  const body = viaBasic.json();
  t.equal(body.token_type, 'Bearer');
  t.equal(body.expires_in, 600);
  t.equal(body.scope, 'consent:status consent:read consent:write', 'no scope asked: every registered scope');

  const [header, payload] = (body.access_token as string)
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  t.same(header, { alg: 'HS256', typ: 'at+jwt' });
  t.same(Object.keys(payload).sort(), [
    'aud',
    'client_id',
    'exp',
    'iat',
    'iss',
    'jti',
    'org',
    'scope',
    'sub',
  ]);
  t.equal(payload.sub, client.id);
  t.equal(payload.org, s.orgs.a.id);
  t.equal(payload.iss, 'http://localhost:3000');
  t.equal(payload.aud, 'http://localhost:3000/api');
  t.equal(payload.exp - payload.iat, 600);
  t.equal(payload.iat, Date.parse(START) / 1000, 'issued at the app clock');

  const viaPost = await tokenRequest(s, {
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: secret,
    scope: 'consent:read',
  });
  t.equal(viaPost.statusCode, 200);
  t.equal(viaPost.json().scope, 'consent:read', 'a subset when asked');
  t.equal((await s.get('/api/v1/test-consents/a-active/read', viaPost.json().access_token)).statusCode, 200);
});

t.test('rejected token requests answer RFC 6749 errors', async (t) => {
  const s = await setup(t);
  const { client, secret } = s.clients.a;
  const auth = { authorization: basic(client.clientId, secret) };
  const grant = { grant_type: 'client_credentials' };

  t.test('wrong secret, unknown client, no credentials: invalid_client 401', async (t) => {
    assertOAuthError(
      t,
      await tokenRequest(s, grant, { authorization: basic(client.clientId, `${secret}x`) }),
      401,
      'invalid_client',
    );
    assertOAuthError(
      t,
      await tokenRequest(s, grant, { authorization: basic('hlt-unknown', secret) }),
      401,
      'invalid_client',
    );
    assertOAuthError(
      t,
      await tokenRequest(s, { ...grant, client_id: client.clientId, client_secret: 'nope' }),
      401,
      'invalid_client',
    );
    assertOAuthError(t, await tokenRequest(s, grant), 401, 'invalid_client');
    assertOAuthError(t, await tokenRequest(s, grant, { authorization: 'Bearer abc' }), 401, 'invalid_client');
    assertOAuthError(
      t,
      await tokenRequest(s, grant, { authorization: 'Basic bm9jb2xvbg==' }),
      401,
      'invalid_client',
    );
  });

  t.test('scopes: unknown, or one the client lacks: invalid_scope', async (t) => {
    assertOAuthError(
      t,
      await tokenRequest(s, { ...grant, scope: 'consent:delete' }, auth),
      400,
      'invalid_scope',
    );
    const statusOnly = { authorization: basic(s.clients.aStatus.client.clientId, s.clients.aStatus.secret) };
    assertOAuthError(
      t,
      await tokenRequest(s, { ...grant, scope: 'consent:status consent:read' }, statusOnly),
      400,
      'invalid_scope',
    );
    const ok = await tokenRequest(s, { ...grant, scope: 'consent:status' }, statusOnly);
    t.equal(ok.statusCode, 200);
  });

  t.test('grant type: missing → invalid_request, other → unsupported_grant_type', async (t) => {
    assertOAuthError(t, await tokenRequest(s, {}, auth), 400, 'invalid_request');
    assertOAuthError(
      t,
      await tokenRequest(s, { grant_type: 'password' }, auth),
      400,
      'unsupported_grant_type',
    );
    assertOAuthError(
      t,
      await tokenRequest(s, { grant_type: 'authorization_code' }, auth),
      400,
      'unsupported_grant_type',
    );
  });

  t.test('the body must be form-encoded, parameters once, one authentication method', async (t) => {
    const json = await s.app.inject({ method: 'POST', url: '/oauth/token', headers: auth, payload: grant });
    assertOAuthError(t, json, 400, 'invalid_request');
    const xml = await s.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...auth, 'content-type': 'text/xml' },
      payload: '<grant_type>client_credentials</grant_type>',
    });
    assertOAuthError(t, xml, 400, 'invalid_request');
    // JSON in another charset or not UTF-8 at all: refused by the JSON parser (json-body.ts) before the
    // route, and still answered in the RFC 6749 shape (a charset other than UTF-8 gave a 500).
    for (const [type, payload] of [
      ['application/json; charset=utf-16le', '['],
      ['application/json; charset=iso-8859-1', JSON.stringify({ grant_type: 'client_credentials' })],
      ['application/json', Buffer.from([0x7b, 0xff, 0x7d])],
    ] as const) {
      const refused = await s.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...auth, 'content-type': type },
        payload,
      });
      assertOAuthError(t, refused, 400, 'invalid_request');
    }
    const none = await s.app.inject({ method: 'POST', url: '/oauth/token', headers: auth });
    assertOAuthError(t, none, 400, 'invalid_request');
    const twice = await s.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, ...auth },
      payload: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    assertOAuthError(t, twice, 400, 'invalid_request');
    const both = await tokenRequest(s, { ...grant, client_id: client.clientId, client_secret: secret }, auth);
    assertOAuthError(t, both, 400, 'invalid_request');
    const get = await s.app.inject({ method: 'GET', url: '/oauth/token' });
    t.equal(get.statusCode, 404, 'only POST');
  });
});

t.test('a disabled client gets no token, and its unexpired tokens stop working', async (t) => {
  const s = await setup(t);
  const accessToken = await s.token(s.clients.a);
  t.equal((await s.get('/api/v1/test-consents/a-active/status', accessToken)).statusCode, 200);
  await disableApiClient(s.db, s.clients.a.client.id, s.clock.now());
  const res = await s.get('/api/v1/test-consents/a-active/status', accessToken);
  t.equal(res.statusCode, 401);
  t.match(res.headers['www-authenticate'], /error="invalid_token"/);
  assertOAuthError(
    t,
    await tokenRequest(
      s,
      { grant_type: 'client_credentials' },
      { authorization: basic(s.clients.a.client.clientId, s.clients.a.secret) },
    ),
    401,
    'invalid_client',
  );
});

t.test('an access token expires after 10 minutes (by the app clock)', async (t) => {
  const clock = fixedClock(START);
  const s = await setup(t, { clock });
  const accessToken = await s.token(s.clients.a);
  clock.advance(599_000);
  t.equal((await s.get('/api/v1/test-consents/a-active/status', accessToken)).statusCode, 200, 'at 9:59');
  clock.advance(1_000);
  const expired = await s.get('/api/v1/test-consents/a-active/status', accessToken);
  t.equal(expired.statusCode, 401, 'at 10:00');
  t.equal(expired.json().code, 'unauthorized');
  t.match(expired.headers['www-authenticate'], /^Bearer realm="samtycke", error="invalid_token"/);
});

t.test('forged, tampered and foreign tokens are refused', async (t) => {
  const s = await setup(t);
  const accessToken = await s.token(s.clients.a);
  const [h, p, sig] = accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const swapped = Buffer.from(JSON.stringify({ ...claims, org: s.orgs.c.id })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
  // Signed by another deployment (another SESSION_SECRET) with the same issuer and audience.
  const other = await build(t, {
    env: { SESSION_SECRET: 'another-secret-of-at-least-thirty-two-characters' },
  });
  const otherClient = await createApiClient(other.db, other.config.clientSecretHmacKey, {
    organisationId: (
      await createOrganisation(other.db, { name: 'X', type: 'school', municipality: 'M', hltArea: 'H' })
    ).id,
    name: 'X',
    scopes: ['consent:status'],
  });
  const res = await other.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic(otherClient.client.clientId, otherClient.secret) },
    payload: 'grant_type=client_credentials',
  });
  const foreign = res.json().access_token as string;

  for (const [label, bad] of [
    ['tampered payload', `${h}.${swapped}.${sig}`],
    ['alg none', `${none}.${p}.`],
    ['truncated', `${h}.${p}`],
    ['garbage', 'not-a-token'],
    ['empty', ''],
    ['another deployment', foreign],
  ] as const) {
    const r = await s.app.inject({
      url: '/api/v1/test-consents/a-active/status',
      headers: { authorization: `Bearer ${bad}` },
    });
    t.equal(r.statusCode, 401, label);
    t.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8', `${label}: problem+json`);
  }
  const missing = await s.get('/api/v1/test-consents/a-active/status');
  t.equal(missing.statusCode, 401);
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="samtycke"');
});

t.test('rotation: two active secrets both work; a revoked one fails', async (t) => {
  const s = await setup(t);
  const { client, secret: oldSecret, secretId: oldId } = s.clients.a;
  const { secret: newSecret, secretId: newId } = await addClientSecret(
    s.db,
    s.config.clientSecretHmacKey,
    client.id,
  );
  const grant = { grant_type: 'client_credentials' };
  for (const secret of [oldSecret, newSecret])
    t.equal(
      (await tokenRequest(s, grant, { authorization: basic(client.clientId, secret) })).statusCode,
      200,
    );

  await t.rejects(
    addClientSecret(s.db, s.config.clientSecretHmacKey, client.id),
    { code: 'conflict' },
    'at most two active secrets',
  );
  await revokeClientSecret(s.db, client.id, oldId, s.clock.now());
  assertOAuthError(
    t,
    await tokenRequest(s, grant, { authorization: basic(client.clientId, oldSecret) }),
    401,
    'invalid_client',
  );
  t.equal(
    (await tokenRequest(s, grant, { authorization: basic(client.clientId, newSecret) })).statusCode,
    200,
  );
  await t.rejects(
    revokeClientSecret(s.db, client.id, newId, s.clock.now()),
    { code: 'conflict' },
    'not the last one',
  );
  await revokeClientSecret(s.db, client.id, oldId, s.clock.now()); // again: nothing happens
  await t.rejects(
    revokeClientSecret(s.db, client.id, s.clients.b.secretId, s.clock.now()),
    { code: 'not_found' },
    "another client's secret",
  );
});

t.test('secrets are stored as HMAC-SHA-256 under the server key, compared in constant time', async (t) => {
  const s = await setup(t);
  const key = s.config.clientSecretHmacKey;
  const rows = await s.db.selectFrom('api_client_secrets').select('secret_hash').execute();
  for (const { secret_hash } of rows) t.match(secret_hash, /^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
  t.ok(Buffer.from(s.clients.a.secret, 'base64url').length >= 32, '256 bits');
  const hash = hashClientSecret('s3cret', key);
  t.equal(
    hash,
    `hmac-sha256$${createHmac('sha256', key).update('s3cret').digest('base64url')}`,
    'keyed: HMAC-SHA-256 under CLIENT_SECRET_HMAC_KEY',
  );
  t.ok(await verifyClientSecret('s3cret', hash, key));
  t.notOk(await verifyClientSecret('s3cret!', hash, key));
  t.notOk(await verifyClientSecret('s3cret', hash, 'another-key-of-at-least-thirty-two-characters'));
  t.notOk(await verifyClientSecret('s3cret', 'bcrypt$whatever', key));
  t.notOk(await verifyClientSecret('s3cret', hash.replace(/\$[^$]+$/, '$AAAA'), key));
  t.notOk(await verifyClientSecret('s3cret', 'scrypt$32768$8$1$AAAA$AAAA', key), 'malformed legacy hash');
});

t.test(
  "a token of one organisation reading another's consent gets 404, as if it did not exist",
  async (t) => {
    const s = await setup(t);
    const a = await s.token(s.clients.a);
    const b = await s.token(s.clients.b);
    const c = await s.token(s.clients.c);
    const statusOnly = await s.token(s.clients.aStatus);
    const cases: [string, string, string, number, string?][] = [
      ['requesting org reads its own', a, '/a-pending/read', 200],
      ['requesting org cancels', a, '/a-pending/cancel', 200],
      ['another organisation: status', c, '/a-active/status', 404, 'not_found'],
      ['another organisation: read', c, '/a-active/read', 404, 'not_found'],
      ['another organisation: cancel', c, '/a-pending/cancel', 404, 'not_found'],
      ['the other way round', a, '/c-active/read', 404, 'not_found'],
      ['team org: status while pending', b, '/a-pending/status', 200],
      ['team org: status after withdrawal', b, '/a-withdrawn/status', 200],
      ['team org: read while active', b, '/a-active/read', 200],
      ['team org: read while pending', b, '/a-pending/read', 403, 'forbidden'],
      ['team org: read after withdrawal', b, '/a-withdrawn/read', 403, 'forbidden'],
      ['team org client without write scope: cancel', b, '/a-pending/cancel', 403, 'insufficient_scope'],
      ['requesting org, status scope only: read', statusOnly, '/a-active/read', 403, 'insufficient_scope'],
      ['requesting org, status scope only: status', statusOnly, '/a-active/status', 200],
    ];
    for (const [label, accessToken, path, status, code] of cases) {
      const method = path.endsWith('cancel') ? 'POST' : 'GET';
      const res = await s.app.inject({
        method,
        url: `/api/v1/test-consents${path}`,
        headers: { authorization: `Bearer ${accessToken}` },
      });
      t.equal(res.statusCode, status, label);
      if (code) t.equal(res.json().code, code, `${label}: ${code}`);
      if (code === 'insufficient_scope')
        t.match(
          res.headers['www-authenticate'],
          /error="insufficient_scope", scope="consent:(read|write)"/,
          label,
        );
    }
  },
);

t.test('no secret, token or Authorization header reaches the logs', async (t) => {
  const s = await setup(t, { captureLogs: true });
  const { client, secret } = s.clients.a;
  const accessToken = await s.token(s.clients.a);
  await tokenRequest(s, {
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: `${secret}x`,
  });
  await s.get('/api/v1/test-consents/a-active/read', accessToken);
  const logs = s.logs.join('\n');
  t.match(logs, /access token issued/);
  t.notMatch(logs, secret);
  t.notMatch(logs, accessToken.split('.')[2] as string);
  t.notMatch(logs, /Basic [A-Za-z0-9+/=]{8,}/);
});

t.test('every /api/ route must declare config.auth', async (t) => {
  const s = await setup(t);
  t.throws(() => s.app.get('/api/v1/undeclared', async () => ({})), /must declare config.auth/);
  t.throws(
    () => s.app.get('/api/v1/nobody', { config: { auth: { staff: false } } }, async () => ({})),
    /lets no caller in/,
  );
  s.app.get('/api/v1/public', { config: { auth: false } }, async () => ({ ok: true }));
  t.equal((await s.app.inject('/api/v1/public')).statusCode, 200, 'auth: false is public on purpose');
});

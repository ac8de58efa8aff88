// The admin API over real HTTP with real sessions (sessions.ts) on a fresh database: an organisation's admin,
// its plain staff, another organisation's admin, API clients and signers.
import type { Test } from 'tap';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { addTeamMember, createOrganisation, ensureTeam } from '../../src/identity/organisations.ts';
import { createSession } from '../../src/identity/sessions.ts';
import { disableStaff, inviteStaff } from '../../src/identity/staff.ts';
import { build } from '../helper.ts';

const START = '2026-11-23T09:00:00Z';

async function setup(t: Test) {
  const clock = fixedClock(START);
  const built = await build(t, { clock });
  const { app, db, config } = built;
  const org = (name: string) =>
    createOrganisation(db, { name, type: 'school', municipality: 'Testby kommun', hltArea: 'HLT Testby' });
  // Routes of this test: every route must be added before the first request.
  app.get('/api/v1/probe', { config: { auth: { scope: 'consent:status' } } }, async () => ({ ok: true }));
  app.get('/api/v1/staff-probe', { config: { auth: { staff: true } } }, async () => ({ ok: true }));
  app.get('/api/v1/whoami', { config: { auth: { signer: true, staff: true } } }, async (request) => {
    const c = request.caller;
    if (c?.kind === 'signer')
      return { kind: c.kind, issuer: c.issuer, hasNumber: c.personalNumber.length === 12 };
    if (c?.kind === 'staff') return { kind: c.kind, memberships: c.memberships, teams: c.teams };
    return { kind: 'none' };
  });
  app.get('/lazy', { config: { auth: false } }, async (request) => ({
    kind: (await request.getCaller())?.kind ?? null,
    preset: request.caller,
  }));
  const a = await org('Skola A');
  const b = await org('Skola B');
  const team = await ensureTeam(db, { name: 'Team', hltArea: 'HLT Testby', municipality: 'Testby kommun' });
  await addTeamMember(db, team.id, a.id);
  const invite = async (email: string, organisationId: string, role: 'staff' | 'admin') =>
    (await inviteStaff(db, { email, name: 'Test Person', organisationId, role })).staff.id;
  const staff = {
    adminA: await invite('admin.a@skola-a.example', a.id, 'admin'),
    staffA: await invite('staff.a@skola-a.example', a.id, 'staff'),
    adminB: await invite('admin.b@skola-b.example', b.id, 'admin'),
  };

  /** A logged-in browser: the session cookie and its CSRF token. */
  const login = async (session: {
    audience: 'staff' | 'signer';
    staffId?: string;
    personalNumber?: string;
  }) => {
    const { id, session: data } = await createSession(
      db,
      app.keys,
      {
        audience: session.audience,
        staffId: session.staffId ?? null,
        personalNumber: session.personalNumber ?? null,
        name: 'Test Person',
        issuer: 'https://idp.example',
        subject: `sub-${session.staffId ?? session.personalNumber}`,
        acr: null,
        authTime: clock.now(),
      },
      { now: clock.now(), absoluteHours: config.session.absoluteHours },
    );
    return { cookie: `samtycke=${id}`, 'x-csrf-token': data.csrfToken };
  };
  const as = {
    adminA: await login({ audience: 'staff', staffId: staff.adminA }),
    staffA: await login({ audience: 'staff', staffId: staff.staffA }),
    adminB: await login({ audience: 'staff', staffId: staff.adminB }),
    signer: await login({ audience: 'signer', personalNumber: '198405179822' }),
  };
  const call = (
    headers: Record<string, string> | undefined,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: Record<string, unknown>,
  ) =>
    app.inject({
      method,
      url,
      headers: headers ?? {},
      ...(payload ? { payload } : {}),
    });
  return { ...built, clock, orgs: { a, b }, staff, as, call, base: `/api/v1/admin/organisations/${a.id}` };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function tokenFor(s: Awaited<ReturnType<typeof setup>>, clientId: string, secret: string) {
  return s.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, secret) },
    payload: 'grant_type=client_credentials',
  });
}

t.test('an admin manages API clients: create (secret once), rotate, revoke, disable', async (t) => {
  const s = await setup(t);
  const created = await s.call(s.as.adminA, 'POST', `${s.base}/clients`, {
    name: 'Elevhälsosystemet',
    scopes: ['consent:status', 'consent:read'],
    contactEmail: 'it@skola-a.example',
  });
  t.equal(created.statusCode, 201);
  t.equal(created.headers['cache-control'], 'no-store');
  const { client, clientSecret } = created.json();
  t.match(client, {
    name: 'Elevhälsosystemet',
    scopes: ['consent:status', 'consent:read'],
    disabledAt: null,
  });
  t.equal(client.secrets.length, 1);
  t.notOk('secretHash' in client.secrets[0], 'never the hash');
  t.equal((await tokenFor(s, client.clientId, clientSecret)).statusCode, 200, 'the secret works');

  const list = await s.call(s.as.adminA, 'GET', `${s.base}/clients`);
  t.equal(list.statusCode, 200);
  t.same(
    list.json().clients.map((c: { id: string }) => c.id),
    [client.id],
  );
  t.notMatch(list.body, clientSecret, 'the list never shows the secret');

  // Rotation: add a second secret, both work, a third is refused, revoke the old one.
  const added = await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/secrets`);
  t.equal(added.statusCode, 201);
  const second = added.json().clientSecret as string;
  t.equal((await tokenFor(s, client.clientId, second)).statusCode, 200);
  t.equal((await tokenFor(s, client.clientId, clientSecret)).statusCode, 200);
  const third = await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/secrets`);
  t.equal(third.statusCode, 409);
  const oldId = client.secrets[0].id as string;
  const revoked = await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/secrets/${oldId}/revoke`);
  t.equal(revoked.statusCode, 200);
  t.ok(revoked.json().secrets.find((x: { id: string }) => x.id === oldId).revokedAt);
  t.equal((await tokenFor(s, client.clientId, clientSecret)).statusCode, 401, 'the revoked secret fails');
  t.equal((await tokenFor(s, client.clientId, second)).statusCode, 200, 'the new one works');
  const newId = added.json().secret.id as string;
  const last = await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/secrets/${newId}/revoke`);
  t.equal(last.statusCode, 409, 'not the last active secret');
  const unknown = await s.call(
    s.as.adminA,
    'POST',
    `${s.base}/clients/${client.id}/secrets/00000000-0000-4000-8000-000000000000/revoke`,
  );
  t.equal(unknown.statusCode, 404);

  // Disable: the token in hand stops working.
  const token = (await tokenFor(s, client.clientId, second)).json().access_token as string;
  t.equal(
    (await s.app.inject({ url: '/api/v1/probe', headers: { authorization: `Bearer ${token}` } })).statusCode,
    200,
  );
  const disabled = await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/disable`);
  t.equal(disabled.statusCode, 200);
  t.equal(disabled.json().disabledAt, START.replace('Z', '.000Z'));
  t.equal(
    (await s.app.inject({ url: '/api/v1/probe', headers: { authorization: `Bearer ${token}` } })).statusCode,
    401,
  );
  t.equal((await tokenFor(s, client.clientId, second)).statusCode, 401);
  t.equal((await s.call(s.as.adminA, 'POST', `${s.base}/clients/${client.id}/secrets`)).statusCode, 409);
});

t.test('an admin sets the retention time; others may not; out of range is a 400', async (t) => {
  const s = await setup(t);
  const url = `${s.base}/retention`;
  const initial = await s.call(s.as.adminA, 'GET', url);
  t.equal(initial.statusCode, 200);
  t.same(initial.json(), { months: 24, default: true, defaultMonths: 24 }, 'the default at first');
  const set = await s.call(s.as.adminA, 'PUT', url, { months: 36 });
  t.equal(set.statusCode, 200);
  t.same(set.json(), { months: 36, default: false, defaultMonths: 24 });
  t.same((await s.call(s.as.adminA, 'GET', url)).json(), { months: 36, default: false, defaultMonths: 24 });
  for (const months of [0, 121, 1.5, '12'])
    t.equal((await s.call(s.as.adminA, 'PUT', url, { months })).statusCode, 400, `months ${months}: 400`);
  t.equal((await s.call(s.as.adminA, 'PUT', url, { months: 12, extra: 1 })).statusCode, 400, 'unknown field');
  t.equal((await s.call(s.as.staffA, 'PUT', url, { months: 1 })).statusCode, 403, 'plain staff: 403');
  t.equal((await s.call(s.as.adminB, 'PUT', url, { months: 1 })).statusCode, 404, 'another admin: 404');
  t.equal((await s.call(undefined, 'GET', url)).statusCode, 401, 'nobody: 401');
  const back = await s.call(s.as.adminA, 'PUT', url, { months: null });
  t.same(back.json(), { months: 24, default: true, defaultMonths: 24 }, 'null: the default again');
});

t.test('bad input to the admin API: clear 4xx problems', async (t) => {
  const s = await setup(t);
  const post = (payload: Record<string, unknown>) =>
    s.call(s.as.adminA, 'POST', `${s.base}/clients`, payload);
  const cases: [string, Record<string, unknown>, string][] = [
    ['no name', { scopes: ['consent:status'] }, 'body.name'],
    ['blank name', { name: '   ', scopes: ['consent:status'] }, 'body.name'],
    ['unknown scope', { name: 'X', scopes: ['consent:delete'] }, 'body.scopes.0'],
    ['no scopes', { name: 'X', scopes: [] }, 'body.scopes'],
    ['write without a contact', { name: 'X', scopes: ['consent:write'] }, 'body.contactName'],
    ['bad e-mail', { name: 'X', scopes: ['consent:status'], contactEmail: 'nope' }, 'body.contactEmail'],
  ];
  for (const [label, payload, field] of cases) {
    const res = await post(payload);
    t.equal(res.statusCode, 400, label);
    t.equal(res.json().code, 'validation_failed', label);
    t.ok(
      res.json().errors.some((e: { field: string }) => e.field === field),
      `${label}: names ${field}`,
    );
  }
  const badStaff = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'not-an-address',
    name: 'X',
  });
  t.equal(badStaff.statusCode, 400);
  t.notMatch(badStaff.body, 'not-an-address', 'values are not echoed');
  const badRole = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'x@skola-a.example',
    name: 'X',
    role: 'owner',
  });
  t.equal(badRole.statusCode, 400);
  t.equal(
    (await s.call(s.as.adminA, 'GET', '/api/v1/admin/organisations/not-a-uuid/clients')).statusCode,
    400,
  );
  const json = await s.app.inject({
    method: 'POST',
    url: `${s.base}/clients`,
    headers: { ...s.as.adminA, 'content-type': 'application/json' },
    payload: '{"name":',
  });
  t.equal(json.statusCode, 400);
});

t.test('an admin manages staff: list, invite, disable', async (t) => {
  const s = await setup(t);
  const list = await s.call(s.as.adminA, 'GET', `${s.base}/staff`);
  t.equal(list.statusCode, 200);
  t.same(
    list
      .json()
      .staff.map((x: { id: string; role: string }) => [x.id, x.role])
      .sort(),
    [
      [s.staff.adminA, 'admin'],
      [s.staff.staffA, 'staff'],
    ].sort(),
  );

  const invited = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'Ny.Person@Skola-A.example',
    name: 'Ny Person',
    title: 'Kurator',
    phone: '+46 70 000 00 00',
  });
  t.equal(invited.statusCode, 201);
  t.match(invited.json(), {
    email: 'ny.person@skola-a.example',
    role: 'staff',
    loginBound: false,
    disabledAt: null,
  });
  const again = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'ny.person@skola-a.example',
    name: 'X',
  });
  t.equal(again.statusCode, 409, 'already a member');

  // A person of another organisation gets a membership; their own organisation is untouched.
  const fromB = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'admin.b@skola-b.example',
    name: 'X',
  });
  t.equal(fromB.statusCode, 201);
  t.equal(fromB.json().id, s.staff.adminB);
  t.equal(
    (await s.call(s.as.adminB, 'GET', `${s.base}/clients`)).statusCode,
    403,
    "now A's plain staff: 403, no longer 404",
  );
  t.equal(
    (await s.call(s.as.adminB, 'GET', `/api/v1/admin/organisations/${s.orgs.b.id}/clients`)).statusCode,
    200,
  );

  const self = await s.call(s.as.adminA, 'POST', `${s.base}/staff/${s.staff.adminA}/disable`);
  t.equal(self.statusCode, 409, 'not your own membership');
  const disabled = await s.call(s.as.adminA, 'POST', `${s.base}/staff/${s.staff.staffA}/disable`);
  t.equal(disabled.statusCode, 200);
  t.ok(disabled.json().disabledAt);
  const gone = await s.app.inject({ url: '/api/v1/staff-probe', headers: s.as.staffA });
  t.equal(gone.statusCode, 403, 'a disabled membership no longer counts');
  t.equal(
    (await s.call(s.as.adminA, 'POST', `${s.base}/staff/${s.staff.adminB}/disable`)).statusCode,
    200,
    'B keeps its own',
  );
  t.equal(
    (await s.call(s.as.adminB, 'GET', `/api/v1/admin/organisations/${s.orgs.b.id}/staff`)).statusCode,
    200,
  );
  t.equal(
    (
      await s.call(
        s.as.adminA,
        'POST',
        `/api/v1/admin/organisations/${s.orgs.a.id}/staff/${s.staff.adminA}x/disable`,
      )
    ).statusCode,
    400,
  );

  // Re-inviting a disabled membership enables it again, with the role asked for.
  const back = await s.call(s.as.adminA, 'POST', `${s.base}/staff`, {
    email: 'staff.a@skola-a.example',
    name: 'X',
    role: 'admin',
  });
  t.equal(back.statusCode, 201);
  t.match(back.json(), { role: 'admin', disabledAt: null });
  t.equal((await s.call(s.as.staffA, 'GET', `${s.base}/staff`)).statusCode, 200, 'now an admin');

  // A user disabled everywhere has no memberships at all.
  await disableStaff(s.db, s.staff.adminA, s.clock.now());
  t.equal((await s.call(s.as.adminA, 'GET', `${s.base}/staff`)).statusCode, 403);
});

t.test('who may use the admin API: admin, plain staff, other admin, clients, signers, nobody', async (t) => {
  const s = await setup(t);
  const { client, secret } = await createApiClient(s.db, s.app.config.clientSecretHmacKey, {
    organisationId: s.orgs.a.id,
    name: 'System',
    scopes: ['consent:status', 'consent:read', 'consent:write'],
    contactName: 'Kontakt',
  });
  const token = (await tokenFor(s, client.clientId, secret)).json().access_token as string;
  const routes: ['GET' | 'POST', string][] = [
    ['GET', `${s.base}/clients`],
    ['POST', `${s.base}/clients/${client.id}/disable`],
    ['POST', `${s.base}/clients/${client.id}/secrets`],
    ['GET', `${s.base}/staff`],
    ['POST', `${s.base}/staff/${s.staff.staffA}/disable`],
  ];
  const callers: [string, Record<string, string> | undefined, number, string][] = [
    ['no session', undefined, 401, 'unauthorized'],
    ['plain staff of the organisation', s.as.staffA, 403, 'forbidden'],
    ["another organisation's admin", s.as.adminB, 404, 'not_found'],
    ['an API client with every scope', { authorization: `Bearer ${token}` }, 403, 'forbidden'],
    ['a signer', s.as.signer, 403, 'forbidden'],
  ];
  for (const [who, headers, status, code] of callers) {
    for (const [method, url] of routes) {
      const res = await s.call(headers, method, url);
      t.equal(res.statusCode, status, `${who}: ${method} ${url.replace(s.base, '')}`);
      t.equal(res.json().code, code);
    }
  }
  // After all those attempts nothing changed.
  const clients = (await s.call(s.as.adminA, 'GET', `${s.base}/clients`)).json().clients;
  t.equal(clients[0].disabledAt, null);
  t.equal(clients[0].secrets.length, 1);

  const mine = await s.call(s.as.adminA, 'GET', '/api/v1/admin/organisations');
  t.same(
    mine.json().organisations.map((o: { id: string }) => o.id),
    [s.orgs.a.id],
  );
  t.equal((await s.call(s.as.staffA, 'GET', '/api/v1/admin/organisations')).statusCode, 403);
});

t.test('session-authenticated API writes need the CSRF token; reads and bearer tokens do not', async (t) => {
  const s = await setup(t);
  const { cookie } = s.as.adminA;
  const payload = { name: 'X', scopes: ['consent:status'] };
  const none = await s.call({ cookie }, 'POST', `${s.base}/clients`, payload);
  t.equal(none.statusCode, 403);
  t.equal(none.json().code, 'csrf_failed');
  const wrong = await s.call(
    { cookie, 'x-csrf-token': s.as.adminB['x-csrf-token'] as string },
    'POST',
    `${s.base}/clients`,
    payload,
  );
  t.equal(wrong.statusCode, 403);
  const crossSite = await s.call(
    { ...s.as.adminA, origin: 'https://evil.example' },
    'POST',
    `${s.base}/clients`,
    payload,
  );
  t.equal(crossSite.statusCode, 403, 'a foreign Origin');
  t.equal(
    (await s.call({ cookie }, 'GET', `${s.base}/clients`)).json().clients.length,
    0,
    'nothing was created',
  );
  t.equal((await s.call(s.as.adminA, 'POST', `${s.base}/clients`, payload)).statusCode, 201);
});

t.test('caller resolution: a signer session and a staff session on routes that admit them', async (t) => {
  const s = await setup(t);
  t.same((await s.app.inject({ url: '/api/v1/whoami', headers: s.as.signer })).json(), {
    kind: 'signer',
    issuer: 'https://idp.example',
    hasNumber: true,
  });
  t.same((await s.app.inject({ url: '/api/v1/whoami', headers: s.as.adminA })).json(), {
    kind: 'staff',
    memberships: [{ organisationId: s.orgs.a.id, role: 'admin' }],
    teams: [
      {
        teamId: (await s.db.selectFrom('hlt_teams').select('id').executeTakeFirstOrThrow()).id,
        organisationId: s.orgs.a.id,
      },
    ],
  });
  t.same((await s.app.inject({ url: '/lazy', headers: s.as.adminB })).json(), {
    kind: 'staff',
    preset: null,
  });
  t.same((await s.app.inject({ url: '/lazy' })).json(), { kind: null, preset: null });
});

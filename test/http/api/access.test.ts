// Who may see what (issue 6), table-driven over real HTTP: each kind of caller × each consent route ×
// the consent's state → the status code. The requesting organisation sees everything; the other
// organisations of the HLT team its status always and form/document only while `active`; anyone else
// gets 404 as if the consent did not exist; no credentials → 401; a token without the scope → 403.
import t from 'tap';
import { type ApiSetup, apiSetup, CALLERS, type CallerName } from '../../fixtures/api.ts';
import { localDateOf } from '../../../src/domain/dates.ts';

type State = 'pending' | 'active' | 'withdrawn';
type Expect = Record<CallerName, number | Record<State, number>>;

const NOT_RELATED = { otherStaff: 404, otherClient: 404, anonymous: 401 } as const;
const byState = (pending: number, active: number, withdrawn: number) => ({ pending, active, withdrawn });

/** The consent's content: the requesting organisation always, the team's partners only while active. */
const CONTENT: Expect = {
  ownStaff: 200,
  ownClient: 200,
  ownStatusClient: 403,
  teamStaff: byState(403, 200, 403),
  teamClient: byState(403, 200, 403),
  ...NOT_RELATED,
};

/** Reads: safe to repeat, so every caller × every state. */
const READS: { name: string; path: string; expect: Expect }[] = [
  {
    name: 'details',
    path: '',
    expect: CONTENT,
  },
  {
    name: 'events',
    path: '/events',
    expect: {
      ownStaff: 200,
      ownClient: 200,
      ownStatusClient: 403,
      teamStaff: 403,
      teamClient: 403,
      ...NOT_RELATED,
    },
  },
  {
    name: 'document',
    path: '/document',
    expect: CONTENT,
  },
  {
    name: 'receipt',
    path: '/document/receipt',
    expect: {
      // No receipt before completion.
      ownStaff: byState(404, 200, 200),
      ownClient: byState(404, 200, 200),
      ownStatusClient: 403,
      teamStaff: byState(403, 200, 403),
      teamClient: byState(403, 200, 403),
      ...NOT_RELATED,
    },
  },
  {
    name: 'status',
    path: '/status',
    expect: {
      ownStaff: 200,
      ownClient: 200,
      ownStatusClient: 200,
      teamStaff: 200,
      teamClient: 200,
      ...NOT_RELATED,
    },
  },
];

/** Acts by callers who may not act: they must be refused before anything changes. */
const ACTS: { name: string; path: string; body?: (today: string) => unknown }[] = [
  { name: 'remind', path: '/remind' },
  { name: 'cancel', path: '/cancel' },
  { name: 'end', path: '/end', body: (date) => ({ date }) },
  {
    name: 'withdrawal',
    path: '/withdrawals',
    body: (date) => ({ role: 'guardian1', channel: 'letter', date }),
  },
  { name: 'renew', path: '/renew', body: () => ({}) },
];
const ACT_EXPECT: Partial<Record<CallerName, number>> = {
  ownStatusClient: 403,
  teamStaff: 403,
  teamClient: 403,
  otherStaff: 404,
  otherClient: 404,
  anonymous: 401,
};

async function consents(s: ApiSetup): Promise<Record<State, string>> {
  const pending = await s.createConsent();
  const active = await s.createConsent();
  await s.signAll(active);
  const withdrawn = await s.createConsent();
  await s.signAll(withdrawn);
  const res = await s.call('ownClient', 'POST', `/api/v1/consents/${withdrawn}/withdrawals`, {
    role: 'guardian1',
    channel: 'in_person',
    date: localDateOf(s.clock.now()),
  });
  if (res.statusCode !== 200) throw new Error(`withdraw: ${res.statusCode}`);
  return { pending, active, withdrawn };
}

const expected = (e: Expect, who: CallerName, state: State) => {
  const v = e[who];
  return typeof v === 'number' ? v : v[state];
};

t.test('every caller × every route × every state', async (t) => {
  const s = await apiSetup(t);
  const ids = await consents(s);
  const unknown = '00000000-0000-4000-8000-000000000000';
  const today = localDateOf(s.clock.now());

  for (const state of ['pending', 'active', 'withdrawn'] as const) {
    const before = (await s.call('ownStaff', 'GET', `/api/v1/consents/${ids[state]}`)).json();
    for (const route of READS) {
      for (const who of CALLERS) {
        const res = await s.call(who, 'GET', `/api/v1/consents/${ids[state]}${route.path}`);
        t.equal(res.statusCode, expected(route.expect, who, state), `${route.name} · ${who} · ${state}`);
        if (res.statusCode >= 400) t.match(res.headers['content-type'], /problem\+json/);
      }
    }
    for (const act of ACTS) {
      for (const [who, status] of Object.entries(ACT_EXPECT) as [CallerName, number][]) {
        const res = await s.call(who, 'POST', `/api/v1/consents/${ids[state]}${act.path}`, act.body?.(today));
        t.equal(res.statusCode, status, `${act.name} · ${who} · ${state}`);
      }
    }
    const after = (await s.call('ownStaff', 'GET', `/api/v1/consents/${ids[state]}`)).json();
    t.equal(after.status, before.status, `${state}: nobody refused changed anything`);
    const acts = (timeline: { action: string }[]) =>
      timeline.map((e) => e.action).filter((a) => a !== 'document_downloaded');
    t.same(acts(after.timeline), acts(before.timeline), `${state}: no act was recorded`);
  }

  // A 404 for an unrelated caller is exactly the 404 of a consent that does not exist.
  for (const route of READS) {
    const missing = await s.call('ownClient', 'GET', `/api/v1/consents/${unknown}${route.path}`);
    const hidden = await s.call('otherClient', 'GET', `/api/v1/consents/${ids.active}${route.path}`);
    t.equal(missing.statusCode, 404);
    t.same(hidden.json(), missing.json(), `${route.name}: the same answer as a missing consent`);
  }
});

t.test('the requesting organisation may act; create and search by caller', async (t) => {
  const s = await apiSetup(t);
  const id = await s.createConsent();
  t.equal((await s.call('ownClient', 'POST', `/api/v1/consents/${id}/remind`)).statusCode, 200);
  t.equal((await s.call('ownStaff', 'POST', `/api/v1/consents/${id}/remind`)).statusCode, 200);

  const body = (await import('../../fixtures/consents.ts')).familyRequest(s);
  const create: Record<CallerName, number> = {
    ownStaff: 201,
    ownClient: 201,
    ownStatusClient: 403,
    teamStaff: 201, // the partner is in the same team: it may ask for consent itself
    teamClient: 403, // no consent:write
    otherStaff: 400, // not in the chosen team
    otherClient: 400,
    anonymous: 401,
  };
  for (const who of CALLERS) {
    const res = await s.call(who, 'POST', '/api/v1/consent-requests', body);
    t.equal(res.statusCode, create[who], `create · ${who}`);
  }
  const search: Record<CallerName, [number, number]> = {
    ownStaff: [200, 4],
    ownClient: [200, 4],
    ownStatusClient: [200, 4],
    teamStaff: [200, 4],
    teamClient: [200, 4],
    otherStaff: [200, 0],
    otherClient: [200, 0],
    anonymous: [401, 0],
  };
  const number = s.person('saga-lindqvist').personalNumber;
  for (const who of CALLERS) {
    const res = await s.call(who, 'POST', '/api/v1/consent-status/search', { childPersonalNumber: number });
    t.equal(res.statusCode, search[who][0], `search · ${who}`);
    if (res.statusCode === 200)
      t.equal(res.json().consents.length, search[who][1], `search · ${who} · found`);
  }
  // The list as the search, but a status-only token may not list.
  const list: Record<CallerName, [number, number]> = { ...search, ownStatusClient: [403, 0] };
  for (const who of CALLERS) {
    const res = await s.call(who, 'GET', '/api/v1/consents');
    t.equal(res.statusCode, list[who][0], `list · ${who}`);
    if (res.statusCode === 200) t.equal(res.json().items.length, list[who][1], `list · ${who} · items`);
  }
});

// Regression (issue 15): a NUL character (U+0000) in a text field was a 500 — PostgreSQL refuses it in text
// and jsonb. Now the one text type at the edge (domain/text.ts) refuses control characters, lone surrogates
// and U+FFFE/U+FFFF with a 400 naming the field and never quoting the value; notes may hold line breaks.
import type { Test } from 'tap';
import t from 'tap';
import { familyRequest } from '../fixtures/consents.ts';
import { type FuzzTarget, fuzzTarget, type Who } from '../fixtures/fuzz.ts';

const NUL = '\u0000';
const MARK = 'Kvist';

async function send(
  s: FuzzTarget,
  who: Who,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const cred = s.credentials[who];
  return s.app.inject({
    method,
    url,
    headers: { ...cred.headers, ...(cred.csrf ? { 'x-csrf-token': cred.csrf } : {}), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/** A 400 problem naming `field`, without the value sent, with the request id. */
function refusedField(t: Test, res: Awaited<ReturnType<typeof send>>, field: string, value: string) {
  t.equal(res.statusCode, 400, `${field}: 400, not 500`);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  t.ok(res.headers['x-request-id'], 'the request id');
  const body = res.json();
  t.equal(body.code, 'validation_failed');
  t.ok(
    body.errors.some(
      (e: { field: string; message: string }) => e.field === field && /tecken/.test(e.message),
    ),
    `names ${field}: ${res.body}`,
  );
  t.notOk(res.body.includes(value), 'the value is not in the answer');
  t.notOk(res.body.includes(JSON.stringify(value).slice(1, -1)), 'not even escaped');
}

t.test('the consent API: names, places, contacts, numbers, notes and the cursor', async (t) => {
  const s = await fuzzTarget(t);
  const body = familyRequest({ teamId: s.known.teamId });
  const [g1, g2] = body.guardians;
  const value = `${MARK}${NUL}`;
  const cases: [string, unknown][] = [
    ['child.name', { ...body, child: { ...body.child, name: value } }],
    ['child.healthCentre', { ...body, child: { ...body.child, healthCentre: value } }],
    ['child.school', { ...body, child: { ...body.child, school: `${MARK}\ud800` } }],
    ['child.personalNumber', { ...body, child: { ...body.child, personalNumber: `20120315${NUL}` } }],
    ['guardians.0.name', { ...body, guardians: [{ ...g1, name: `${MARK}\u001b` }, g2] }],
    ['guardians.0.phone', { ...body, guardians: [{ ...g1, phone: `070${NUL}` }, g2] }],
    ['guardians.1.name', { ...body, guardians: [g1, { ...g2, name: `${MARK}\uffff` }] }],
  ];
  for (const [field, payload] of cases)
    for (const who of ['client', 'staff'] as const)
      refusedField(t, await send(s, who, 'POST', '/api/v1/consent-requests', payload), field, value);

  const id = s.known.consentId;
  refusedField(
    t,
    await send(s, 'client', 'POST', `/api/v1/consents/${id}/end`, { date: '2026-01-01', note: value }),
    'body.note',
    value,
  );
  refusedField(
    t,
    await send(s, 'client', 'POST', `/api/v1/consents/${id}/withdrawals`, {
      role: 'guardian1',
      channel: 'phone',
      date: '2026-01-01',
      note: value,
    }),
    'body.note',
    value,
  );
  refusedField(
    t,
    await send(s, 'client', 'POST', '/api/v1/consent-status/search', { childPersonalNumber: `2012${NUL}` }),
    'body.childPersonalNumber',
    `2012${NUL}`,
  );
  refusedField(
    t,
    await send(s, 'client', 'GET', `/api/v1/consents?cursor=${MARK}%00`),
    'querystring.cursor',
    value,
  );

  // A note may run over lines: tab and line breaks are not refused as control characters.
  const multiLine = await send(s, 'client', 'POST', `/api/v1/consents/${id}/end`, {
    date: '2026-02-30',
    note: 'Rad ett\nRad två\r\n\tindraget',
  });
  t.equal(multiLine.statusCode, 400);
  t.same(
    multiLine.json().errors.map((e: { field: string }) => e.field),
    ['body.date'],
    'only the date is refused',
  );
});

t.test('the token endpoint: form fields and HTTP Basic credentials', async (t) => {
  const s = await fuzzTarget(t);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  for (const field of ['client_id', 'client_secret', 'scope', 'grant_type']) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: form,
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: MARK,
        client_secret: 'hemligt',
        [field]: field === 'grant_type' ? `client_credentials${NUL}` : `${MARK}${NUL}`,
      }).toString(),
    });
    t.equal(res.statusCode, 400, `${field}: 400, not 500`);
    t.equal(res.json().error, 'invalid_request');
    t.notMatch(res.body, MARK);
  }
  for (const [id, secret] of [
    [`${MARK}${NUL}`, 'hemligt'],
    [MARK, `hemligt${NUL}`],
    [MARK, 'hemligt\u0001'],
  ]) {
    const basic = Buffer.from(`${encodeURIComponent(id!)}:${encodeURIComponent(secret!)}`).toString('base64');
    const res = await s.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...form, authorization: `Basic ${basic}` },
      payload: 'grant_type=client_credentials',
    });
    t.equal(res.statusCode, 401, 'Basic: 401, not 500');
    t.equal(res.json().error, 'invalid_client');
    t.notMatch(res.body, MARK);
  }
});

t.test('the admin API: staff invitations and API clients', async (t) => {
  const s = await fuzzTarget(t);
  const base = `/api/v1/admin/organisations/${s.known.organisationId}`;
  const value = `${MARK}${NUL}`;
  const invite = { email: 'ny.person@exempelby.example', name: 'Ny Person', title: 'Kurator' };
  refusedField(
    t,
    await send(s, 'admin', 'POST', `${base}/staff`, { ...invite, name: value }),
    'body.name',
    value,
  );
  refusedField(
    t,
    await send(s, 'admin', 'POST', `${base}/staff`, { ...invite, title: value }),
    'body.title',
    value,
  );
  const client = { name: 'System', scopes: ['consent:write'], contactName: 'Kontakt' };
  refusedField(
    t,
    await send(s, 'admin', 'POST', `${base}/clients`, { ...client, name: value }),
    'body.name',
    value,
  );
  refusedField(
    t,
    await send(s, 'admin', 'POST', `${base}/clients`, { ...client, contactName: value }),
    'body.contactName',
    value,
  );
  const fine = await send(s, 'admin', 'POST', `${base}/staff`, invite);
  t.equal(fine.statusCode, 201, 'the same invitation without it is taken');
});

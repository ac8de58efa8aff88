// The consent API over HTTP (app.inject): create → details → list → remind → cancel / end / withdrawal →
// downloads → events → status → search, with an API client token and with a staff session.
import t from 'tap';
import { fixedClock } from '../../../src/clock.ts';
import { createConsentRequest } from '../../../src/consents/create-consent-request.ts';
import { addDays, localDateOf } from '../../../src/domain/dates.ts';
import { familyRequest } from '../../fixtures/consents.ts';
import { type ApiSetup, apiSetup } from '../../fixtures/api.ts';

const numbersIn = (s: ApiSetup, text: string) =>
  s.people.people.map((p) => p.personalNumber).filter((n) => text.includes(n) || text.includes(n.slice(2)));

t.test('create, read, list, remind and cancel as an API client', async (t) => {
  const s = await apiSetup(t);
  const body = familyRequest(s);

  const created = await s.call('ownClient', 'POST', '/api/v1/consent-requests', body, {
    'idempotency-key': 'retry-1',
  });
  t.equal(created.statusCode, 201, created.body);
  t.equal(created.headers['cache-control'], 'no-store');
  const c = created.json();
  t.equal(c.status, 'pending');
  t.equal(c.replayed, false);
  t.same(
    c.signers.map((x: { role: string }) => x.role),
    ['guardian1', 'guardian2', 'youth'],
  );
  t.match(c.signers[0].invitation.url, /\/s\//);
  t.same(numbersIn(s, created.body), [], 'no personal numbers in the answer');

  const replay = await s.call('ownClient', 'POST', '/api/v1/consent-requests', body, {
    'idempotency-key': 'retry-1',
  });
  t.equal(replay.statusCode, 201);
  t.equal(replay.json().id, c.id, 'a retried create returns the first result');
  t.equal(replay.json().replayed, true);
  t.notOk(replay.json().signers[0].invitation, 'links are shown once');
  const clash = await s.call(
    'ownClient',
    'POST',
    '/api/v1/consent-requests',
    { ...body, soleGuardian: true, guardians: body.guardians.slice(0, 1) },
    { 'idempotency-key': 'retry-1' },
  );
  t.equal(clash.statusCode, 409);
  t.equal(clash.json().code, 'idempotency_conflict');

  const details = await s.call('ownClient', 'GET', `/api/v1/consents/${c.id}`);
  t.equal(details.statusCode, 200, details.body);
  const d = details.json();
  t.equal(d.status, 'pending');
  t.equal(d.reason, 'awaiting_signatures');
  t.equal(d.relation, 'requesting');
  t.equal(d.child.name, body.child.name);
  t.same(d.awaitingRoles, ['guardian1', 'guardian2', 'youth']);
  t.equal(d.signers[0].contact.email, 'anna@hem.example', 'contacts for the requesting organisation');
  t.equal(d.obtainedBy.name, 'Kontakt Person', "the client's named contact obtained it");
  t.equal(d.requestedBy.type, 'api_client');
  t.ok(d.timeline.some((e: { action: string }) => e.action === 'consent_requested'));
  t.same(numbersIn(s, details.body), []);

  const list = await s.call('ownClient', 'GET', '/api/v1/consents');
  t.equal(list.statusCode, 200, list.body);
  t.equal(list.json().items.length, 1);
  t.equal(list.json().items[0].childName, body.child.name);
  t.equal(list.json().items[0].relation, 'requesting');
  t.same(numbersIn(s, list.body), [], 'never lists personal numbers');
  const none = await s.call('ownClient', 'GET', '/api/v1/consents?status=active');
  t.same(none.json().items, []);

  const remind = await s.call('ownClient', 'POST', `/api/v1/consents/${c.id}/remind`);
  t.equal(remind.statusCode, 200, remind.body);
  t.equal(remind.json().signers.length, 3);
  t.ok(
    remind.json().signers.every((x: { invitation?: unknown }) => x.invitation),
    'new links for staff',
  );

  const cancel = await s.call('ownClient', 'POST', `/api/v1/consents/${c.id}/cancel`);
  t.equal(cancel.statusCode, 200, cancel.body);
  t.equal(cancel.json().status, 'cancelled');
  const again = await s.call('ownClient', 'POST', `/api/v1/consents/${c.id}/cancel`);
  t.equal(again.statusCode, 409, 'not twice');
  t.equal(again.json().code, 'consent_state_conflict');
  const remindCancelled = await s.call('ownClient', 'POST', `/api/v1/consents/${c.id}/remind`);
  t.equal(remindCancelled.statusCode, 409);

  const cancelled = await s.call('ownClient', 'GET', '/api/v1/consents?status=cancelled');
  t.equal(cancelled.json().items.length, 1, 'the status filter');

  const events = await s.call('ownClient', 'GET', `/api/v1/consents/${c.id}/events`);
  t.same(
    events
      .json()
      .events.filter((e: { action: string }) => ['reminded', 'cancelled'].includes(e.action))
      .map((e: { action: string; actor: { type: string; organisationId: string } }) => [
        e.action,
        e.actor.type,
        e.actor.organisationId,
      ]),
    [
      ['reminded', 'api_client', s.organisationId],
      ['cancelled', 'api_client', s.organisationId],
    ],
    'each act in the audit trail: who, for which organisation; the refused ones not',
  );
});

t.test('bad input is a clear 4xx problem, never a 500', async (t) => {
  const s = await apiSetup(t);
  const body = familyRequest(s);
  const cases: [string, 'GET' | 'POST', string, unknown, number, string][] = [
    ['not json', 'POST', '/api/v1/consent-requests', 'nonsense', 400, 'bad_request'],
    ['no body', 'POST', '/api/v1/consent-requests', undefined, 400, 'validation_failed'],
    [
      'three guardians',
      'POST',
      '/api/v1/consent-requests',
      { ...body, guardians: [...body.guardians, body.guardians[0]] },
      400,
      'validation_failed',
    ],
    [
      'a wrong number',
      'POST',
      '/api/v1/consent-requests',
      { ...body, child: { ...body.child, personalNumber: '201203152385' } },
      400,
      'validation_failed',
    ],
    [
      'another team',
      'POST',
      '/api/v1/consent-requests',
      { ...body, teamId: s.otherTeamId },
      400,
      'validation_failed',
    ],
    [
      'an unknown team',
      'POST',
      '/api/v1/consent-requests',
      { ...body, teamId: '00000000-0000-4000-8000-000000000000' },
      400,
      'validation_failed',
    ],
    [
      'another organisation',
      'POST',
      '/api/v1/consent-requests',
      { ...body, organisationId: s.otherOrganisationId },
      403,
      'forbidden',
    ],
    ['a bad id', 'GET', '/api/v1/consents/not-a-uuid', undefined, 400, 'validation_failed'],
    [
      'an unknown id',
      'GET',
      '/api/v1/consents/00000000-0000-4000-8000-000000000000',
      undefined,
      404,
      'not_found',
    ],
    [
      'an unknown status',
      'GET',
      '/api/v1/consents/00000000-0000-4000-8000-000000000000/status',
      undefined,
      404,
      'not_found',
    ],
    ['a bad status filter', 'GET', '/api/v1/consents?status=happy', undefined, 400, 'validation_failed'],
    ['a bad date', 'GET', '/api/v1/consents?requestedFrom=2026-13-01', undefined, 400, 'validation_failed'],
    ['a bad cursor', 'GET', '/api/v1/consents?cursor=abc', undefined, 400, 'validation_failed'],
    ['a bad limit', 'GET', '/api/v1/consents?limit=1000', undefined, 400, 'validation_failed'],
    ['a search without number', 'POST', '/api/v1/consent-status/search', {}, 400, 'validation_failed'],
    [
      'a search with a bad number',
      'POST',
      '/api/v1/consent-status/search',
      { childPersonalNumber: '123' },
      400,
      'validation_failed',
    ],
  ];
  for (const [name, method, url, payload, status, code] of cases) {
    const headers: Record<string, string> =
      typeof payload === 'string' ? { 'content-type': 'application/json' } : {};
    const res = await s.call('ownClient', method, url, payload, headers);
    t.equal(res.statusCode, status, `${name}: ${res.body}`);
    t.equal(res.json().code, code, name);
    t.match(res.headers['content-type'], /application\/problem\+json/, name);
    t.same(numbersIn(s, res.body), [], `${name}: no personal number in the problem`);
  }
  const missing = await s.call('ownClient', 'POST', '/api/v1/consent-requests', { ...body, guardians: [] });
  t.equal(missing.statusCode, 400);
  t.ok(missing.json().errors.length > 0, 'field errors');

  const id = await s.createConsent();
  const acts: [string, string, unknown][] = [
    ['end in the future', 'end', { date: '2999-01-01' }],
    ['end without date', 'end', {}],
    ['withdrawal by nobody', 'withdrawals', { role: 'mother', channel: 'phone', date: '2026-01-01' }],
    [
      'withdrawal by a bad channel',
      'withdrawals',
      { role: 'guardian1', channel: 'pigeon', date: '2026-01-01' },
    ],
  ];
  for (const [name, act, payload] of acts) {
    const res = await s.call('ownStaff', 'POST', `/api/v1/consents/${id}/${act}`, payload);
    t.equal(res.statusCode, 400, `${name}: ${res.body}`);
  }
  const receipt = await s.call('ownClient', 'GET', `/api/v1/consents/${id}/document/receipt`);
  t.equal(receipt.statusCode, 404, 'no receipt before completion');
});

t.test(
  'the whole lifecycle with a staff session: active, downloads, status, withdrawal, events',
  async (t) => {
    const s = await apiSetup(t);
    const id = await s.createConsent();

    const noCsrf = await s.app.inject({
      method: 'POST',
      url: `/api/v1/consents/${id}/remind`,
      headers: s.as.ownStaff.headers,
    });
    t.equal(noCsrf.statusCode, 403, 'a session POST needs the CSRF token');
    t.equal(noCsrf.json().code, 'csrf_failed');

    await s.signAll(id);
    const status = await s.call('ownClient', 'GET', `/api/v1/consents/${id}/status`);
    t.equal(status.statusCode, 200, status.body);
    t.same(Object.keys(status.json()).sort(), [
      'checkedAt',
      'id',
      'reason',
      'status',
      'validFrom',
      'validUntil',
    ]);
    t.equal(status.json().status, 'active');
    t.equal(status.json().reason, 'all_signed');
    t.ok(status.json().validFrom && status.json().validUntil);
    t.equal(status.json().checkedAt, s.clock.now().toISOString(), 'computed at the moment of asking');

    for (const [path, name] of [
      ['document', `samtycke-${id.slice(0, 8)}.pdf`],
      ['document/receipt', `samtycke-${id.slice(0, 8)}-kvittens.pdf`],
    ] as const) {
      const doc = await s.call('ownStaff', 'GET', `/api/v1/consents/${id}/${path}`);
      t.equal(doc.statusCode, 200, path);
      t.equal(doc.headers['content-type'], 'application/pdf');
      t.equal(doc.headers['content-disposition'], `attachment; filename="${name}"`);
      t.equal(doc.headers['cache-control'], 'no-store');
      t.equal(doc.rawPayload.subarray(0, 5).toString(), '%PDF-');
    }
    const teamDoc = await s.call('teamClient', 'GET', `/api/v1/consents/${id}/document`);
    t.equal(teamDoc.statusCode, 200, 'the team may download while active');

    const search = await s.call('teamClient', 'POST', '/api/v1/consent-status/search', {
      childPersonalNumber: s.person('saga-lindqvist').personalNumber,
    });
    t.equal(search.statusCode, 200, search.body);
    t.same(
      search.json().consents.map((x: { id: string; status: string }) => [x.id, x.status]),
      [[id, 'active']],
    );
    t.same(numbersIn(s, search.body), []);
    const otherSearch = await s.call('otherClient', 'POST', '/api/v1/consent-status/search', {
      childPersonalNumber: s.person('saga-lindqvist').personalNumber,
    });
    t.same(otherSearch.json().consents, [], 'another organisation learns nothing');

    const teamDetails = await s.call('teamStaff', 'GET', `/api/v1/consents/${id}`);
    t.equal(teamDetails.statusCode, 200);
    t.equal(teamDetails.json().relation, 'team');
    t.notOk(teamDetails.json().signers[0].contact, 'no contact details for the team');
    t.same(teamDetails.json().timeline, []);

    s.clock.advance(60_000);
    const today = localDateOf(s.clock.now());
    const withdrawn = await s.call('ownStaff', 'POST', `/api/v1/consents/${id}/withdrawals`, {
      role: 'guardian2',
      channel: 'phone',
      date: today,
      note: 'Ringde in på förmiddagen.',
    });
    t.equal(withdrawn.statusCode, 200, withdrawn.body);
    t.equal(withdrawn.json().status, 'withdrawn');
    t.equal(withdrawn.json().role, 'guardian2');

    const after = await s.call('teamClient', 'GET', `/api/v1/consents/${id}/status`);
    t.equal(after.json().status, 'withdrawn', 'the next status request says withdrawn');
    t.equal((await s.call('teamClient', 'GET', `/api/v1/consents/${id}/document`)).statusCode, 403);
    t.equal((await s.call('teamClient', 'GET', `/api/v1/consents/${id}`)).statusCode, 403);

    const own = (await s.call('ownStaff', 'GET', `/api/v1/consents/${id}`)).json();
    t.equal(own.withdrawal.channel, 'phone');
    t.equal(own.withdrawal.note, 'Ringde in på förmiddagen.', 'the note for the requesting organisation');

    const events = await s.call('ownStaff', 'GET', `/api/v1/consents/${id}/events`);
    t.equal(events.statusCode, 200);
    const actions = events.json().events.map((e: { action: string }) => e.action);
    for (const a of [
      'consent_requested',
      'signed',
      'completed',
      'status_checked',
      'looked_up_by_child',
      'document_downloaded',
      'withdrawn',
    ])
      t.ok(actions.includes(a), `timeline has ${a}`);
    const checks = events.json().events.filter((e: { action: string }) => e.action === 'status_checked');
    t.equal(checks.length, 2, 'each status look-up is audited');
    t.equal(checks[1].actor.type, 'api_client');
    t.equal(checks[1].actor.organisationId, s.teamOrganisationId, 'who asked');
    t.notMatch(events.body, /Ringde in/, 'free text never in the audit trail');

    const renewed = await s.call('ownStaff', 'POST', `/api/v1/consents/${id}/renew`, {});
    t.equal(renewed.statusCode, 409, 'a withdrawn consent is not renewed');
  },
);

t.test('end support, renew, and the list with paging, filters and names', async (t) => {
  const s = await apiSetup(t);
  const first = await s.createConsent();
  s.clock.advance(60_000);
  const second = await s.createConsent();
  await s.signAll(second);

  const end = await s.call('ownStaff', 'POST', `/api/v1/consents/${second}/end`, {
    date: localDateOf(s.clock.now()),
  });
  t.equal(end.statusCode, 200, end.body);
  t.equal(end.json().status, 'ended');
  const endedEvents = (await s.call('ownStaff', 'GET', `/api/v1/consents/${second}/events`))
    .json()
    .events.filter((e: { action: string }) => e.action === 'ended');
  t.match(endedEvents, [{ actor: { type: 'staff', id: s.staffId, organisationId: s.organisationId } }]);
  t.equal(endedEvents.length, 1, 'ended: one audit event, by the staff member');

  const renew = await s.call('ownStaff', 'POST', `/api/v1/consents/${second}/renew`, {});
  t.equal(renew.statusCode, 201, renew.body);
  t.equal(renew.json().renewedFrom, second);
  t.equal(renew.json().status, 'pending');

  const page1 = await s.call('ownStaff', 'GET', '/api/v1/consents?limit=2');
  t.equal(page1.statusCode, 200);
  const p1 = page1.json();
  t.same(
    p1.items.map((i: { id: string }) => i.id),
    [renew.json().id, second],
    'newest first',
  );
  t.ok(p1.nextCursor);
  const page2 = await s.call('ownStaff', 'GET', `/api/v1/consents?limit=2&cursor=${p1.nextCursor}`);
  t.same(
    page2.json().items.map((i: { id: string }) => i.id),
    [first],
  );
  t.equal(page2.json().nextCursor, null);
  const ended = await s.call('ownStaff', 'GET', '/api/v1/consents?status=ended&status=pending');
  t.equal(ended.json().items.length, 3);
  const byTeam = await s.call('ownStaff', 'GET', `/api/v1/consents?teamId=${s.otherTeamId}`);
  t.same(byTeam.json().items, []);
  // Dates are Stockholm days: three requests on one day, one made three days later (by the use case on
  // a clock of its own: the sessions and tokens here live on the app's clock).
  const firstDay = localDateOf(s.clock.now());
  const laterClock = fixedClock(new Date(s.clock.now().getTime() + 3 * 86_400_000));
  const later = (await createConsentRequest({ ...s.ctx, clock: laterClock }, s.staff, familyRequest(s))).id;
  const laterDay = localDateOf(laterClock.now());
  const byDate = async (query: string) => {
    const res = await s.call('ownStaff', 'GET', `/api/v1/consents?${query}`);
    t.equal(res.statusCode, 200, res.body);
    return res.json().items.map((i: { id: string }) => i.id);
  };
  t.same(
    await byDate(`requestedFrom=${firstDay}&requestedTo=${firstDay}`),
    [renew.json().id, second, first],
    'one day: only that day',
  );
  t.same(await byDate(`requestedFrom=${laterDay}`), [later], 'from a day on');
  t.same(
    await byDate(`requestedTo=${addDays(laterDay, -1)}`),
    [renew.json().id, second, first],
    'up to a day',
  );
  t.same(await byDate(`requestedFrom=${addDays(firstDay, 1)}&requestedTo=${addDays(laterDay, -1)}`), []);

  const team = await s.call('teamStaff', 'GET', '/api/v1/consents');
  t.equal(team.statusCode, 200);
  t.equal(team.json().items.length, 4, 'the team sees the status of its consents');
  t.ok(
    team
      .json()
      .items.every((i: { relation: string; childName?: string }) => i.relation === 'team' && !i.childName),
    'but no names while not active',
  );
  const other = await s.call('otherStaff', 'GET', '/api/v1/consents');
  t.same(other.json().items, [], 'another organisation sees nothing');
});

// Skyddade personuppgifter (issue 16 §5) over real HTTP. Anna (guardian 1) and Saga (the child, who signs)
// are marked when Karin Holm makes the request: their phones and e-mails are on no page the other guardian
// sees (invitation, review, Mina samtycken, signed, withdraw), not in the form he downloads (pdftotext), not
// on the staff pages of Karin's colleague (list, consent page, search) and not in the API for a system
// that did not make the request (details, list, events); the system that made an API request sees them.
// Staff see the marker and the rule; a later mark on the consent page is audited and says plainly that the
// form made before it still prints the phone. Messages go only by the channels the person gave.
import t, { type Test } from 'tap';
import { consentContext, createConsentRequest, signConsent } from '../../src/consents/index.ts';
import { clientBearer } from '../fixtures/api.ts';
import { drainJobs, familyRequest, signerActor } from '../fixtures/consents.ts';
import { pdftotext, toolTest } from '../pdf/fixtures/pdf-tools.ts';
import { loggedIn, type SignerApp, startSignerApp, textOf } from './fixtures/signer.ts';
import { staffSession as createStaffSession } from '../fixtures/sessions.ts';

const ANNA_PHONE = '070-111 11 11';
const ANNA_EMAIL = 'anna@hem.example';
const SAGA_PHONE = '073-333 33 33';
const SAGA_EMAIL = 'saga@hem.example';
const ERIK_PHONE = '070-222 22 22';
/** What must never reach anyone but the requester. */
const PROTECTED = [ANNA_PHONE, ANNA_EMAIL, SAGA_PHONE, SAGA_EMAIL];
const MARKER = 'Skyddade personuppgifter';

/** Karin's request for the Lindqvists with Anna and Saga marked; Erik, not marked, gives a phone too. */
function protectedRequest(s: SignerApp) {
  const input = familyRequest(s, 'lindqvist');
  input.guardians[0] = { ...input.guardians[0]!, phone: ANNA_PHONE, protectedIdentity: true };
  input.guardians[1] = { ...input.guardians[1]!, phone: ERIK_PHONE };
  input.child = { ...input.child, protectedIdentity: true };
  input.youth = { phone: SAGA_PHONE, email: SAGA_EMAIL };
  return input;
}

/** A staff session cookie (as a staff login makes it) and its CSRF token. */
async function staffSession(s: SignerApp, staffId: string) {
  const { cookie, csrfToken } = await createStaffSession(s.app, staffId, s.app.clock.now());
  const get = async (path: string) => {
    const res = await fetch(`${s.base}${path}`, { headers: { cookie }, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  };
  const post = async (path: string, form: Record<string, string>) => {
    const res = await fetch(`${s.base}${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: s.base },
      body: new URLSearchParams({ _csrf: csrfToken, ...form }).toString(),
      redirect: 'manual',
    });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  };
  return { get, post };
}

/** A colleague of Karin's at Björkskolan: the same organisation, not the requester. */
async function colleague(s: SignerApp): Promise<string> {
  const per = await s.db
    .insertInto('staff_users')
    .values({ email: 'per.berg@exempelby.example', name: 'Per Berg', title: 'Lärare', phone: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await s.db
    .insertInto('staff_memberships')
    .values({ staff_id: per.id, organisation_id: s.organisationId, role: 'staff' })
    .execute();
  return per.id;
}

function absent(t: Test, body: string, where: string, values = PROTECTED) {
  for (const v of values) t.notOk(body.includes(v), `${where}: no ${v.includes('@') ? 'e-mail' : 'phone'}`);
}

t.test('the other guardian sees no contact of a protected person, on any page or in the form', async (t) => {
  const s = await startSignerApp(t);
  const created = await createConsentRequest(consentContext(s.app), s.staff, protectedRequest(s));
  const id = created.id;
  const erikToken = created.signers.find((x) => x.role === 'guardian2')!.invitation!.url.split('/s/')[1]!;

  const erik = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  const invitation = await s.browser().get(`/s/${erikToken}`);
  t.equal(invitation.status, 200);
  absent(t, invitation.body, 'invitation');
  const mine = await erik.get('/mina-samtycken');
  t.equal(mine.status, 200);
  absent(t, mine.body, 'Mina samtycken');
  const review = await erik.get(`/mina-samtycken/${id}/granska`);
  t.equal(review.status, 200);
  absent(t, review.body, 'review');
  t.ok(review.body.includes(ERIK_PHONE), "review: Erik's own phone, not marked, is there as on the form");
  t.notOk(textOf(review.body).includes(MARKER), 'the page does not tell him who is protected either');

  // Erik signs: the signed page, the withdraw page and the form he can download.
  await signConsent(
    consentContext(s.app),
    signerActor('guardian2', s.person('erik-lindqvist'), s.app.clock),
    {
      consentId: id,
      place: 'Norrby',
    },
  );
  const signed = await erik.get(`/mina-samtycken/${id}/underskrivet`);
  t.equal(signed.status, 200);
  absent(t, signed.body, 'signed');
  const withdraw = await erik.get(`/mina-samtycken/${id}/aterkalla`);
  absent(t, withdraw.body, 'withdraw');
  const document = await erik.get(`/mina-samtycken/${id}/dokument`);
  t.equal(document.status, 200);

  // Saga (protected herself) sees no contact of her mother's either.
  const saga = await loggedIn(s, 'saga-lindqvist', `/mina-samtycken/${id}/granska`);
  absent(t, (await saga.get(`/mina-samtycken/${id}/granska`)).body, "Saga's review", [
    ANNA_PHONE,
    ANNA_EMAIL,
  ]);
});

toolTest('the form of a protected guardian prints no phone (pdftotext)', ['pdftotext'], async (t) => {
  const s = await startSignerApp(t, { jobs: false });
  const created = await createConsentRequest(consentContext(s.app), s.staff, protectedRequest(s));
  const erik = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  const res = await fetch(`${s.base}/mina-samtycken/${created.id}/dokument`, {
    headers: { cookie: erik.jar.header() },
  });
  t.equal(res.status, 200);
  const text = pdftotext(new Uint8Array(await res.arrayBuffer()));
  t.match(text, 'Anna Lindqvist', 'the form names her');
  absent(t, text, 'the form');
  t.ok(text.includes(ERIK_PHONE), "Erik's phone is printed");
});

t.test('staff: the marker and the rule; no contacts beyond the requester; a later mark', async (t) => {
  const s = await startSignerApp(t, { jobs: false });
  const created = await createConsentRequest(consentContext(s.app), s.staff, protectedRequest(s));
  const id = created.id;
  const karin = await staffSession(s, s.staffId);
  const per = await staffSession(s, await colleague(s));

  for (const [who, session] of [
    ['Karin', karin],
    ['Per', per],
  ] as const) {
    const page = await session.get(`/samtycken/${id}`);
    t.equal(page.status, 200);
    const text = textOf(page.body);
    t.match(text, MARKER, `${who} sees the marker`);
    t.match(text, 'Skicka aldrig något med post till personen.', `${who} sees the rule`);
    t.match(text, 'Berätta aldrig för den andra vårdnadshavaren', `${who}: never say where or how to reach`);
    t.match(text, 'Kontakta personen bara på det sätt som personen själv har angett.');
    t.match(text, `Vårdnadshavare 1: ${s.person('anna-lindqvist').name}`);
    t.match(text, `Barnet: ${s.person('saga-lindqvist').name}`);
    absent(t, page.body, `${who}'s consent page`);
    const list = await session.get('/personal');
    t.equal(list.status, 200);
    t.match(list.body, `/samtycken/${id}`);
    absent(t, list.body, `${who}'s list`);
  }
  const search = await per.post('/personal/sok', {
    personalNumber: s.person('saga-lindqvist').personalNumber,
  });
  t.equal(search.status, 200);
  t.match(search.body, `/samtycken/${id}`, 'the search finds it');
  absent(t, search.body, 'search results');

  // A request without marks; Karin marks Anna afterwards. The form was made with her phone on it.
  const plain = familyRequest(s, 'lindqvist');
  const later = await createConsentRequest(consentContext(s.app), s.staff, plain);
  const before = await karin.get(`/samtycken/${later.id}`);
  t.match(before.body, 'Markera skyddade personuppgifter', 'the mark is offered');
  t.notMatch(textOf(before.body), /Så gör du/, 'no rule before anyone is marked');
  const marked = await karin.post(`/samtycken/${later.id}/skyddad`, { person: 'guardian1' });
  t.equal(marked.status, 303);
  t.equal(marked.location, `/samtycken/${later.id}?klart=skyddad-blankett`);
  const after = textOf((await karin.get(marked.location!)).body);
  t.match(after, 'blanketten skapades innan markeringen och visar telefonnumret', 'says what the form holds');
  t.match(after, MARKER);
  const event = await s.db
    .selectFrom('audit_events')
    .select(['action', 'actor_type', 'details'])
    .where('consent_id', '=', later.id)
    .where('action', '=', 'protected_identity_marked')
    .executeTakeFirstOrThrow();
  t.same(event.details, { person: 'guardian1', formShowsPhone: true }, 'audited, without a value');
  const erik = await loggedIn(s, 'erik-lindqvist', `/mina-samtycken/${later.id}/granska`);
  absent(t, (await erik.get(`/mina-samtycken/${later.id}/granska`)).body, 'review after a later mark', [
    ANNA_PHONE,
  ]);
  // The child has no printed contact: a mark of the child says nothing about the form.
  const child = await karin.post(`/samtycken/${later.id}/skyddad`, { person: 'child' });
  t.equal(child.location, `/samtycken/${later.id}?klart=skyddad`);
  const again = await karin.post(`/samtycken/${later.id}/skyddad`, { person: 'child' });
  t.equal(again.location, `/samtycken/${later.id}?klart=skyddad`, 'twice is harmless');
  t.equal(
    (
      await s.db
        .selectFrom('audit_events')
        .select('id')
        .where('consent_id', '=', later.id)
        .where('action', '=', 'protected_identity_marked')
        .execute()
    ).length,
    2,
    'one event per mark',
  );
  const bad = await karin.post(`/samtycken/${later.id}/skyddad`, { person: 'guardian3' });
  t.equal(bad.status, 400);
  t.match(bad.body, 'Välj vem som har skyddade personuppgifter.');
  // Another organisation of the team cannot mark; someone outside it does not find the consent.
  const amira = await staffSession(s, s.otherStaff.staffId);
  t.equal((await amira.post(`/samtycken/${later.id}/skyddad`, { person: 'guardian2' })).status, 404);
});

t.test('API: contacts of a protected person for the caller who made the request only', async (t) => {
  const s = await startSignerApp(t, { jobs: false });
  const scopes = ['consent:status', 'consent:read', 'consent:write'] as const;
  const requester = await clientBearer(s.app, s.organisationId, [...scopes], 'Elevhälsans system');
  const other = await clientBearer(s.app, s.organisationId, [...scopes], 'Skolans system');
  const api = async (bearer: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.base}${path}`, {
      method,
      headers: { authorization: bearer, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, text: await res.text() };
  };
  const made = await api(requester, 'POST', '/api/v1/consent-requests', protectedRequest(s));
  t.equal(made.status, 201, 'created');
  absent(t, made.text, 'the create answer');
  const id = (JSON.parse(made.text) as { id: string }).id;

  const mine = await api(requester, 'GET', `/api/v1/consents/${id}`);
  t.equal(mine.status, 200);
  const details = JSON.parse(mine.text) as {
    child: { protectedIdentity: boolean };
    signers: {
      role: string;
      protectedIdentity: boolean;
      contact?: { phone: string | null; email: string | null };
    }[];
  };
  t.equal(details.child.protectedIdentity, true);
  t.same(
    details.signers.map((x) => [x.role, x.protectedIdentity, x.contact]),
    [
      ['guardian1', true, { phone: ANNA_PHONE, email: ANNA_EMAIL }],
      ['guardian2', false, { phone: ERIK_PHONE, email: 'erik@hem.example' }],
      ['youth', true, { phone: SAGA_PHONE, email: SAGA_EMAIL }],
    ],
    'the requester sees every contact, and the marks',
  );

  const theirs = await api(other, 'GET', `/api/v1/consents/${id}`);
  t.equal(theirs.status, 200);
  absent(t, theirs.text, "another system's details");
  const seen = JSON.parse(theirs.text) as typeof details;
  t.same(
    seen.signers.map((x) => [x.role, x.protectedIdentity, x.contact]),
    [
      ['guardian1', true, { phone: null, email: null }],
      ['guardian2', false, { phone: ERIK_PHONE, email: 'erik@hem.example' }],
      ['youth', true, { phone: null, email: null }],
    ],
    'the rest of the organisation: the marks, not the contacts',
  );
  for (const path of [`/api/v1/consents/${id}/events`, '/api/v1/consents']) {
    for (const [who, bearer] of [
      ['requester', requester],
      ['other', other],
    ] as const) {
      const res = await api(bearer, 'GET', path);
      t.equal(res.status, 200, `${who} ${path}`);
      absent(t, res.text, `${who} ${path}`);
    }
  }

  // Karin's request (made on the staff page's behalf): no API client is its requester.
  const karins = await createConsentRequest(consentContext(s.app), s.staff, protectedRequest(s));
  absent(t, (await api(requester, 'GET', `/api/v1/consents/${karins.id}`)).text, "details of Karin's");
});

t.test('messages reach a protected person only by the channel she gave', async (t) => {
  const s = await startSignerApp(t);
  const input = protectedRequest(s);
  // Anna gave only her e-mail; Saga only her e-mail.
  input.guardians[0] = { ...input.guardians[0]!, phone: undefined };
  input.youth = { email: SAGA_EMAIL };
  const created = await createConsentRequest(consentContext(s.app), s.staff, input);
  await drainJobs(s.app);
  const sent = await s.db
    .selectFrom('notifications_sent')
    .select(['recipient', 'channel'])
    .where('consent_id', '=', created.id)
    .orderBy('recipient')
    .orderBy('channel')
    .execute();
  const of = (role: string) => sent.filter((r) => r.recipient === `signer:${role}`).map((r) => r.channel);
  t.same(of('guardian1'), ['email'], 'Anna: by e-mail only, as she gave');
  t.same(of('youth'), ['email'], 'Saga: by e-mail only');
  t.ok(of('guardian2').includes('email'), 'Erik as he gave');
});

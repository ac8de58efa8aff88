// Expiry at 00:00 over HTTP, with the clock injected (issue 6, "Tests"): a consent in force until the
// anniversary of its first signature, and a guardians' consent until the child's 18th birthday. At the
// last millisecond before 00:00 Stockholm time everyone sees it in force; at 00:00 the status API, the
// staff API and page, the signer's "Mina samtycken" and the team partner's access all say it has expired,
// with no job having run.
import t, { type Test } from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { consentContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { addYears, eighteenthBirthday, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import type { SignerRole } from '../../src/domain/roles.ts';
import { createApiClient, getApiClient } from '../../src/identity/api-clients.ts';
import { createSession } from '../../src/identity/sessions.ts';
import { addTeamPartner, bornToTurn, childBorn, familyRequest, signerActor } from '../fixtures/consents.ts';
import { type SignerApp, startSignerApp, textOf } from '../http/fixtures/signer.ts';
import { person } from '../fixtures/people.ts';

/** The app at a clock standing still (signing needs the real now: the dev CA's certificates). */
async function start(t: Test) {
  const clock = fixedClock(new Date());
  const s = await startSignerApp(t, { clock, jobs: false });
  // A health centre in the same HLT team, with its own system asking for status.
  const partnerId = await addTeamPartner(s.db, s.teamId);
  const clients = {
    own: await createApiClient(s.db, s.app.config.clientSecretHmacKey, {
      organisationId: s.organisationId,
      name: 'Elevhälsans journal',
      scopes: ['consent:status', 'consent:read'],
      contactName: 'Kontakt Person',
    }),
    partner: await createApiClient(s.db, s.app.config.clientSecretHmacKey, {
      organisationId: partnerId,
      name: 'Journalsystem HC',
      scopes: ['consent:status', 'consent:read'],
      contactName: 'Kontakt HC',
    }),
  };
  /** A token issued at the clock's now (tokens live ten minutes of that clock). */
  const bearer = async (which: keyof typeof clients) => {
    const client = await getApiClient(s.db, clients[which].client.id);
    const { token } = s.app.accessTokens.issue(client!, ['consent:status', 'consent:read']);
    return { authorization: `Bearer ${token}` };
  };
  /** A session as a login at the clock's now makes it (the dev IdP keeps real time, so not through it). */
  const session = async (who: { staffId: string } | { personKey: string }) => {
    const p = 'personKey' in who ? person(who.personKey) : undefined;
    const { id } = await createSession(
      s.db,
      s.app.keys,
      {
        audience: p ? 'signer' : 'staff',
        staffId: 'staffId' in who ? who.staffId : null,
        personalNumber: p?.personalNumber ?? null,
        name: p?.name ?? null,
        issuer: `${s.base}/dev-idp`,
        subject: p ? `sub-${p.key}` : `staff-${'staffId' in who ? who.staffId : ''}`,
        acr: null,
        authTime: clock.now(),
      },
      { now: clock.now(), absoluteHours: 8 },
    );
    return { cookie: `samtycke=${id}` };
  };
  const get = async (path: string, headers: Record<string, string>) => {
    const res = await fetch(`${s.base}${path}`, { headers });
    return { status: res.status, text: await res.text() };
  };
  return { s, clock, bearer, session, get };
}

type Harness = Awaited<ReturnType<typeof start>>;

/** Everything each kind of caller sees of `consentId` at the clock's now. */
async function seen(h: Harness, consentId: string, signerKey: string) {
  const own = await h.bearer('own');
  const partner = await h.bearer('partner');
  const status = JSON.parse((await h.get(`/api/v1/consents/${consentId}/status`, own)).text);
  const partnerStatus = JSON.parse((await h.get(`/api/v1/consents/${consentId}/status`, partner)).text);
  const partnerDocument = (await h.get(`/api/v1/consents/${consentId}/document`, partner)).status;
  const staff = await h.session({ staffId: h.s.staffId });
  const details = JSON.parse((await h.get(`/api/v1/consents/${consentId}`, staff)).text);
  const staffPage = textOf((await h.get(`/samtycken/${consentId}`, staff)).text);
  const mine = textOf((await h.get('/mina-samtycken', await h.session({ personKey: signerKey }))).text);
  return { status, partnerStatus, partnerDocument, details, staffPage, mine };
}

async function signAll(
  s: SignerApp,
  consentId: string,
  signers: [SignerRole, { name: string; personalNumber: string }][],
) {
  const ctx = consentContext(s.app);
  const signed = [];
  for (const [role, who] of signers)
    signed.push(
      await signConsent(ctx, signerActor(role, who, s.app.clock), {
        consentId,
        place: 'Norrby',
        ...(signers.length === 1 ? { confirmSoleGuardian: true } : {}),
      }),
    );
  return signed;
}

t.test('a consent expires at 00:00 on the anniversary of its first signature', async (t) => {
  const h = await start(t);
  const { s, clock } = h;
  // Anna, sole guardian of Elsa (6–7: she does not sign).
  const created = await createConsentRequest(
    consentContext(s.app),
    s.staff,
    familyRequest(s, 'lindqvist-sole'),
  );
  const [first] = await signAll(s, created.id, [['guardian1', person('anna-lindqvist')]]);
  const end = startOfLocalDay(addYears(localDateOf(first!.signedAt), 1));
  t.same(first!.validUntil, end, 'in force until 00:00 on the anniversary');

  clock.set(new Date(end.getTime() - 1));
  const before = await seen(h, created.id, 'anna-lindqvist');
  t.match(before.status, { status: 'active', reason: 'all_signed', validUntil: end.toISOString() });
  t.equal(before.partnerStatus.status, 'active', 'the team partner: in force');
  t.equal(before.partnerDocument, 200, 'the team partner may read the document while it is in force');
  t.equal(before.details.status, 'active');
  t.match(before.mine, /gällande/i, 'Mina samtycken: in force');

  clock.set(end);
  const after = await seen(h, created.id, 'anna-lindqvist');
  t.match(after.status, {
    status: 'expired',
    reason: 'one_year_passed',
    validUntil: end.toISOString(),
    checkedAt: end.toISOString(),
  });
  t.equal(after.partnerStatus.status, 'expired', 'the team partner: expired, at once');
  t.equal(after.partnerDocument, 403, 'and may no longer read the document');
  t.match(after.details, { status: 'expired', reason: 'one_year_passed' });
  t.match(after.staffPage, /Ett år har gått sedan första underskriften/, 'the staff page says why');
  t.match(after.mine, /utgånget/i, 'Mina samtycken: expired');
  t.notMatch(after.mine, /gällande/i);
});

t.test("a guardians' consent expires at 00:00 on the child's 18th birthday", async (t) => {
  const h = await start(t);
  const { s, clock } = h;
  const today = localDateOf(clock.now());
  // A child who turns 18 in 100 days: the youth signs too.
  const birthDate = bornToTurn(today, 18, 100);
  const child = childBorn(birthDate);
  const request = familyRequest(s, 'lindqvist');
  const created = await createConsentRequest(consentContext(s.app), s.staff, {
    ...request,
    child: { ...request.child, name: child.name, personalNumber: child.personalNumber },
  });
  await signAll(s, created.id, [
    ['guardian1', person('anna-lindqvist')],
    ['guardian2', person('erik-lindqvist')],
    ['youth', child],
  ]);
  const birthday = startOfLocalDay(eighteenthBirthday(birthDate));

  clock.set(new Date(birthday.getTime() - 1));
  const before = await seen(h, created.id, 'erik-lindqvist');
  t.match(before.status, { status: 'active', validUntil: birthday.toISOString() });
  t.equal(before.partnerDocument, 200);
  t.match(before.mine, /gällande/i);

  clock.set(birthday);
  const after = await seen(h, created.id, 'erik-lindqvist');
  t.match(after.status, { status: 'expired', reason: 'child_turned_18', validUntil: birthday.toISOString() });
  t.equal(after.partnerStatus.status, 'expired');
  t.equal(after.partnerDocument, 403);
  t.match(after.details, { status: 'expired', reason: 'child_turned_18' });
  t.match(after.staffPage, /Barnet har fyllt 18 år/);
  t.match(after.mine, /utgånget/i);
});

// The guardians' access log (issue 16 §3) over real HTTP: over four days a staff member opens the consent's
// page, a school's system checks its status (summed up per day), reads its details and finds it by the
// child's number, and the staff member downloads the signed document; the guardian then sees each of them
// in Mina samtycken, newest first, with the names and in Swedish time, and never her own acts. Someone
// who is not a signer of the consent gets 404; the page holds no personal number.
import t from 'tap';
import { fixedClock } from '../../../src/clock.ts';
import { listAuditEvents } from '../../../src/consents/audit.repository.ts';
import { consentContext, getConsent, signConsent } from '../../../src/consents/index.ts';
import { addDays, localDateOf, startOfLocalDay, swedishDate } from '../../../src/domain/dates.ts';
import { createApiClient } from '../../../src/identity/api-clients.ts';
import { signerActor } from '../../fixtures/consents.ts';
import { people, personalDataIn } from '../../fixtures/people.ts';
import { loggedIn, requestConsent, type SignerApp, startSignerApp, textOf } from '../fixtures/signer.ts';
import { staffSession } from '../../fixtures/sessions.ts';

const today = localDateOf(new Date());
/** `hh:mm` Swedish time, `daysBack` days before today. */
const at = (daysBack: number, hh: number, mm = 0) =>
  new Date(startOfLocalDay(addDays(today, -daysBack)).getTime() + (hh * 60 + mm) * 60_000);
const dayText = (daysBack: number) => swedishDate(addDays(today, -daysBack));

/** A staff session cookie, as a staff login would make it. */
async function staffCookie(s: SignerApp, staffId: string) {
  return (await staffSession(s.app, staffId, s.app.clock.now())).cookie;
}

/** A system of the school with its access token (issued at the app's clock). */
async function schoolSystem(s: SignerApp) {
  const { client, secret } = await createApiClient(s.db, s.app.config.clientSecretHmacKey, {
    organisationId: s.organisationId,
    name: 'Skolans system',
    scopes: ['consent:status', 'consent:read'],
    contactName: 'Kontakt Person',
  });
  return async () => {
    const res = await fetch(`${s.base}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    if (res.status !== 200) throw new Error(`token: ${res.status}`);
    return `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
  };
}

const get = (s: SignerApp, path: string, headers: Record<string, string>) =>
  fetch(`${s.base}${path}`, { headers, redirect: 'manual' });

t.test('a guardian sees who opened, checked, searched and downloaded her consent', async (t) => {
  const clock = fixedClock(at(4, 9));
  const s = await startSignerApp(t, { clock });
  const { consentId } = await requestConsent(s, 'lindqvist-sole');
  // Sessions and access tokens are made at the moment of use: the clock jumps hours and days.
  const karin = () => staffCookie(s, s.staffId);
  const token = await schoolSystem(s);

  // Four days ago: Karin Holm opens the consent's page twice.
  for (const time of [at(4, 10), at(4, 10, 30)]) {
    clock.set(time);
    t.equal((await get(s, `/samtycken/${consentId}`, { cookie: await karin() })).status, 200);
  }
  // Three days ago the school's system checks the status 14 times, two days ago 3 times and reads it.
  for (const [daysBack, n, step] of [
    [3, 14, 30],
    [2, 3, 10],
  ] as const) {
    for (let i = 0; i < n; i++) {
      clock.set(at(daysBack, 8, i * step));
      const res = await get(s, `/api/v1/consents/${consentId}/status`, { authorization: await token() });
      t.equal(res.status, 200);
    }
  }
  clock.set(at(2, 15));
  t.equal((await get(s, `/api/v1/consents/${consentId}`, { authorization: await token() })).status, 200);
  // Yesterday the system finds it by the child's number; a staff member of another organisation is refused.
  clock.set(at(1, 11));
  const search = await fetch(`${s.base}/api/v1/consent-status/search`, {
    method: 'POST',
    headers: { authorization: await token(), 'content-type': 'application/json' },
    body: JSON.stringify({ childPersonalNumber: s.person('elsa-lindqvist').personalNumber }),
  });
  t.equal(search.status, 200);
  t.equal(((await search.json()) as { consents: unknown[] }).consents.length, 1, 'a hit');
  const amira = await staffCookie(s, s.otherStaff.staffId);
  t.equal((await get(s, `/samtycken/${consentId}`, { cookie: amira })).status, 404, 'not hers to open');

  // Today: Anna signs (the consent is in force), Karin downloads the signed document, Anna her own copy.
  clock.set(new Date());
  await signConsent(consentContext(s.app), signerActor('guardian1', s.person('anna-lindqvist'), clock), {
    consentId,
    place: 'Norrby',
    confirmSoleGuardian: true,
  });
  const downloadedAt = clock.now();
  const pdf = await get(s, `/samtycken/${consentId}/dokument`, { cookie: await karin() });
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  await pdf.arrayBuffer();

  const anna = await loggedIn(s, 'anna-lindqvist', '/mina-samtycken');
  t.equal((await anna.get(`/mina-samtycken/${consentId}/dokument`)).status, 200, 'her own download');
  // Status checks are written behind their answers: this waits for them.
  const events = await listAuditEvents(s.db, consentId);

  const list = await anna.get('/mina-samtycken');
  t.match(list.body, `<a href="/mina-samtycken/${consentId}/atkomst">Vem har sett samtycket?</a>`);
  const page = await anna.get(`/mina-samtycken/${consentId}/atkomst`);
  t.equal(page.status, 200);
  t.equal(page.headers.get('cache-control'), 'no-store');
  t.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  t.notMatch(page.body, /<script/i);
  t.match(page.body, /<h1>Vem har sett samtycket\?<\/h1>/);
  // textOf puts a space where a tag was: "</time>, kl." reads "… 2026 , kl.".
  const text = textOf(page.body).replace(/ ([,.])/g, '$1');
  const hhmm = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Stockholm',
    hour: '2-digit',
    minute: '2-digit',
  }).format(downloadedAt);
  const school = '(verksamhetssystem, Björkskolan)';
  const expected = [
    `Karin Holm (Rektor, Björkskolan) laddade ner det signerade dokumentet den ${dayText(0)}, kl. ${hhmm}.`,
    `Skolans system ${school} sökte på barnets personnummer den ${dayText(1)}, kl. 11:00.`,
    `Skolans system ${school} öppnade samtycket den ${dayText(2)}, kl. 15:00.`,
    `Skolans system ${school} kontrollerade status 3 gånger den ${dayText(2)}, kl. 08:00–08:20.`,
    `Skolans system ${school} kontrollerade status 14 gånger den ${dayText(3)}, kl. 08:00–14:30.`,
    `Karin Holm (Rektor, Björkskolan) öppnade samtycket 2 gånger den ${dayText(4)}, kl. 10:00–10:30.`,
  ];
  let from = 0;
  for (const line of expected) {
    const i = text.indexOf(line, from);
    t.ok(i >= 0, `in order: ${line}`, { found: text });
    if (i >= 0) from = i + line.length;
  }
  t.equal((page.body.match(/<li>/g) ?? []).length, expected.length, 'nothing else: not her own acts');
  t.notMatch(text, /Amira|Anna/, 'neither the refused staff member nor the guardian herself');
  t.same(
    personalDataIn(page.body, people).filter((f) => /\d/.test(f)),
    [],
    'no personal numbers in the page',
  );

  // The staff timeline still leaves views out, and counts them.
  const details = await getConsent(s.app, consentId);
  t.notOk(
    details.timeline.some((e) => e.action === 'consent_viewed'),
    'no view in the staff timeline',
  );
  t.equal(details.lookups.views.count, 3, 'two page views and one read over the API');
  const views = events.filter((e) => e.action === 'consent_viewed');
  t.same(
    views.map((e) => [e.actor.type, e.details.via, e.details.scope]),
    [
      ['staff', 'page', 'content'],
      ['staff', 'page', 'content'],
      ['api_client', 'api', 'content'],
    ],
  );

  // Erik is no signer of this consent (Anna is the sole guardian): not found, nothing of it shown.
  const erik = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  const refused = await erik.get(`/mina-samtycken/${consentId}/atkomst`);
  t.equal(refused.status, 404);
  t.notMatch(refused.body, /Karin Holm|Skolans system|Elsa/);
  t.equal((await erik.get(`/mina-samtycken/not-a-uuid/atkomst`)).status, 404);
  const anonymous = await s.browser().get(`/mina-samtycken/${consentId}/atkomst`);
  t.equal(anonymous.status, 303, 'without a session: to the login');
  t.equal(
    anonymous.location,
    `/auth/login?returnTo=${encodeURIComponent(`/mina-samtycken/${consentId}/atkomst`)}`,
  );
});

t.test('a consent nobody else has read says so; a page number out of range is harmless', async (t) => {
  const s = await startSignerApp(t, { jobs: false });
  const { consentId } = await requestConsent(s, 'lindqvist-sole');
  const anna = await loggedIn(s, 'anna-lindqvist', '/mina-samtycken');
  const page = await anna.get(`/mina-samtycken/${consentId}/atkomst`);
  t.equal(page.status, 200);
  t.match(textOf(page.body), /Ingen anställd eller något verksamhetssystem har sett samtycket ännu\./);
  for (const sida of ['0', '-1', 'abc', '99999', '2']) {
    const other = await anna.get(`/mina-samtycken/${consentId}/atkomst?sida=${sida}`);
    t.equal(other.status, 200, `sida=${sida}`);
  }
  const beyond = await anna.get(`/mina-samtycken/${consentId}/atkomst?sida=2`);
  t.match(textOf(beyond.body), /Det finns inga fler händelser\./);
  t.match(beyond.body, new RegExp(`href="/mina-samtycken/${consentId}/atkomst">Nyare händelser`));
});

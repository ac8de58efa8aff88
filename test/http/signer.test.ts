// The signer's pages over real HTTP, with the development IdP: invitation, review, sign (with its own
// identification), decline, "Mina samtycken" and withdrawal (with its own identification), and the
// refusals (wrong person, used/expired/unknown link, CSRF, an identification not made for the act).
import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import { getConsent } from '../../src/consents/index.ts';
import { hashToken } from '../../src/consents/invitations.repository.ts';
import { type Browser, csrfOf, hiddenValue } from '../fixtures/app.ts';
import { loggedIn, requestConsent, type SignerApp, startSignerApp, textOf } from './fixtures/signer.ts';
import { people, person, personalDataIn } from '../fixtures/people.ts';

/**
 * Every page the signer sees, checked alike: plain server-rendered HTML for a phone (viewport), no
 * JavaScript, nothing loaded from elsewhere, the strict CSP, never cached. SAMTYCKE_SAVE_PAGES=dir keeps
 * each page's HTML there, to read them.
 */
function checkPage(t: Test, name: string, res: { body: string; headers: Headers }): void {
  const dir = process.env.SAMTYCKE_SAVE_PAGES;
  if (dir) writeFileSync(`${dir}/${name}.html`, res.body);
  t.match(
    res.body,
    /<meta name="viewport" content="width=device-width, initial-scale=1">/,
    `${name}: for phones`,
  );
  t.notMatch(res.body, /<script/i, `${name}: no JavaScript`);
  t.notMatch(res.body, /(src|href|action)="https?:\/\//, `${name}: nothing from elsewhere`);
  t.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/, `${name}: strict CSP`);
  t.equal(res.headers.get('cache-control'), 'no-store', `${name}: not cached`);
}

/** Every personal number of the test people, in every written form. */
function numbersIn(html: string): string[] {
  return personalDataIn(html, people).filter((f) => /\d/.test(f));
}

const status = async (s: SignerApp, id: string) => (await getConsent(s.app, id)).status;

const review = (id: string) => `/mina-samtycken/${id}/granska`;

/** The id of the invitation link with this token. */
const invitationIdOf = async (s: SignerApp, token: string) =>
  (
    await s.db
      .selectFrom('invitations')
      .select('id')
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirstOrThrow()
  ).id;

/** Posts the sign form and goes through the signature's own identification as `personKey`. */
async function signWithIdentification(
  b: Browser,
  consentId: string,
  form: Record<string, string>,
  personKey: string,
  choices: { stale?: boolean } = {},
) {
  return b.login({ path: `/mina-samtycken/${consentId}/signera`, form }, { person: personKey, ...choices });
}

t.test('invitation → review → sign: no personal data before login, the form after it', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = s.browser();

  const invitation = await b.get(`/s/${tokens.guardian1}`);
  checkPage(t, 'invitation', invitation);
  t.equal(invitation.status, 200);
  t.match(invitation.body, /En förfrågan om samtycke väntar på dig/);
  t.same(personalDataIn(invitation.body, people), [], 'no names or numbers');
  t.notMatch(invitation.body, /Björkskolan|Norrby|Exempelby/, 'no organisation');
  // The login returns to the link's id, never its token (issue 15 §5: the return path is stored).
  const invitationId = await invitationIdOf(s, tokens.guardian1!);
  t.match(
    invitation.body,
    new RegExp(`href="/auth/login\\?returnTo=%2Fmina-samtycken%2Finbjudan%2F${invitationId}"`),
  );
  t.notMatch(invitation.body.replace(`/s/${tokens.guardian1}`, ''), tokens.guardian1, 'no token in the page');

  // Without a session the link sends the browser to the login and back.
  const anonymous = await b.get(`/s/${tokens.guardian1}/granska`);
  t.equal(anonymous.status, 303);
  t.match(anonymous.location, /^\/auth\/login\?returnTo=/);
  const login = await b.login(anonymous.location!, { person: 'anna-lindqvist' });
  t.equal(login.location, `/mina-samtycken/inbjudan/${invitationId}`);
  const checked = await b.get(login.location!);
  t.equal(checked.status, 303, 'the person is the one the link is for: on to the consent');
  t.equal(checked.location, review(consentId));

  const page = await b.get(review(consentId));
  checkPage(t, 'review', page);
  t.equal(page.status, 200);
  const text = textOf(page.body);
  t.match(text, /Det här betyder det att samtycka/);
  t.match(text, /Björkskolan får, trots sekretess/, 'the statement with the organisation');
  t.match(text, /högst ett år/);
  t.match(text, /18 år/);
  t.match(text, /Saga Lindqvist/, 'the child is on the form');
  t.match(text, /Karin Holm/, 'who obtained the consent');
  t.match(text, /Du vårdnadshavare 1 har inte skrivit under än/, 'who still has to sign, by role');
  t.match(text, /Den som är vårdnadshavare 2 har inte skrivit under än/);
  t.match(text, /Den som är berörd ungdom har inte skrivit under än/);
  // The page says what the document says: every personal number, as on the paper form.
  for (const key of ['anna-lindqvist', 'erik-lindqvist', 'saga-lindqvist']) {
    const n = person(key).personalNumber;
    t.match(text, `${n.slice(0, 8)}-${n.slice(8)}`, `${key}: the number the PDF shows`);
  }
  t.notMatch(text, /Visas inte här/);
  t.match(text, /Den innehåller barnets och allas namn, personnummer och telefonnummer/);
  t.match(page.body, /<details class="form-details">\s*<summary>Visa hela blanketten<\/summary>/);
  t.equal(
    (text.match(/trots sekretess/g) ?? []).length,
    2,
    'the statement once in the summary, once in the form',
  );
  t.notMatch(page.body, /name="ensam"/, 'no sole guardian question with two guardians');
  t.equal((page.body.match(/<h1[ >]/g) ?? []).length, 1, 'one h1');

  const pdf = await b.get(`/mina-samtycken/${consentId}/dokument`);
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');

  // Place is required; nothing goes to the provider before it is right.
  const csrf = csrfOf(page.body);
  const version = hiddenValue(page.body, 'version')!;
  t.match(version, /^[0-9a-f]{64}$/, 'the revision reviewed travels in the form');
  const noPlace = await b.post(`/mina-samtycken/${consentId}/signera`, { _csrf: csrf, version, ort: '  ' });
  checkPage(t, 'review-errors', noPlace);
  t.equal(noPlace.status, 400);
  t.match(noPlace.body, /<a href="#ort">Ange ort\.<\/a>/);
  t.equal(await status(s, consentId), 'pending');

  // Signera starts its own identification: prompt=login and max_age=0; the place is not in any URL.
  const signed = await signWithIdentification(
    b,
    consentId,
    { _csrf: csrf, version, ort: 'Norrby' },
    'anna-lindqvist',
  );
  const authorization = new URL(
    b.locations.find((l) => l.includes('/dev-idp/auth?') && l.includes('prompt=login'))!,
  );
  t.equal(authorization.searchParams.get('prompt'), 'login');
  t.equal(authorization.searchParams.get('max_age'), '0');
  t.notOk(
    b.locations.some((l) => l.includes('Norrby')),
    'what was typed stays out of URLs',
  );
  t.equal(signed.status, 303);
  t.equal(signed.location, `/mina-samtycken/${consentId}/underskrivet`);
  const receipt = await b.get(signed.location!);
  checkPage(t, 'signed', receipt);
  t.match(receipt.body, /Du har skrivit under/);
  t.match(textOf(receipt.body), /Kvar att skriva under: vårdnadshavare 2 berörd ungdom/);
  t.equal((await getConsent(s.app, consentId)).signers[0]!.state, 'signed');

  // The link is used now.
  const used = await b.get(`/s/${tokens.guardian1}`);
  checkPage(t, 'used', used);
  t.equal(used.status, 410);
  t.match(used.body, /Du har redan svarat/);
  t.equal((await b.get(review(consentId))).location, `/mina-samtycken/${consentId}/underskrivet`);
});

t.test(
  'regression: an identification from before the act does not sign (single sign-on answer)',
  async (t) => {
    const s = await startSignerApp(t);
    const { consentId } = await requestConsent(s, 'lindqvist');
    const b = await loggedIn(s, 'erik-lindqvist', review(consentId));
    const page = await b.get(review(consentId));
    const form = { _csrf: csrfOf(page.body), version: hiddenValue(page.body, 'version')!, ort: 'Umeå' };
    // The provider answers with an auth_time ten minutes old, as a broker answering from its session does.
    const refused = await signWithIdentification(b, consentId, form, 'erik-lindqvist', { stale: true });
    checkPage(t, 'sso-refused', refused);
    t.equal(refused.status, 401);
    t.match(refused.body, /svarade med en tidigare inloggning/);
    t.match(refused.body, new RegExp(`href="${review(consentId)}"`), 'a way back to the form');
    t.equal((await getConsent(s.app, consentId)).signers[1]!.state, 'pending', 'not signed');
    const signed = await signWithIdentification(b, consentId, form, 'erik-lindqvist');
    t.equal(signed.location, `/mina-samtycken/${consentId}/underskrivet`, 'a real identification signs');
  },
);

t.test('the document changed after it was reviewed: no signature on a revision not read', async (t) => {
  const s = await startSignerApp(t);
  const { consentId } = await requestConsent(s, 'lindqvist');
  const erik = await loggedIn(s, 'erik-lindqvist', review(consentId));
  const erikPage = await erik.get(review(consentId));
  const erikForm = {
    _csrf: csrfOf(erikPage.body),
    version: hiddenValue(erikPage.body, 'version')!,
    ort: 'Umeå',
  };
  // Erik has pressed Signera and is at the provider when Anna signs.
  const { callbackUrl } = await erik.toCallback(
    { path: `/mina-samtycken/${consentId}/signera`, form: erikForm },
    { person: 'erik-lindqvist' },
  );
  const anna = await loggedIn(s, 'anna-lindqvist', review(consentId));
  const annaPage = await anna.get(review(consentId));
  await signWithIdentification(
    anna,
    consentId,
    { _csrf: csrfOf(annaPage.body), version: hiddenValue(annaPage.body, 'version')!, ort: 'Norrby' },
    'anna-lindqvist',
  );
  const late = await erik.get(callbackUrl.href);
  t.equal(late.status, 409);
  t.match(late.body, /Blanketten har ändrats sedan du läste den/);
  t.match(late.body, new RegExp(`href="${review(consentId)}"`));
  t.equal((await getConsent(s.app, consentId)).signers[1]!.state, 'pending');
  // A stale page posted afterwards is shown again with the new revision, not sent to the provider.
  const stalePost = await erik.post(`/mina-samtycken/${consentId}/signera`, erikForm);
  t.equal(stalePost.status, 409);
  t.match(stalePost.body, /Läs den igen/);
  t.not(hiddenValue(stalePost.body, 'version'), erikForm.version);
});

// Regression (issue 15 §5): the raw token was stored in login_attempts.return_to (`/s/<token>/granska`),
// where the invitations table keeps only its hash.
t.test(
  'a login started from an invitation link stores no token, and still leads to the consent',
  async (t) => {
    const s = await startSignerApp(t);
    const { consentId, tokens } = await requestConsent(s, 'lindqvist');
    const token = tokens.guardian1!;
    const b = s.browser();
    const page = await b.get(`/s/${token}`);
    const loginHref = /href="(\/auth\/login[^"]*)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
    const starts = [
      loginHref,
      (await b.get(`/s/${token}/granska`)).location!,
      // An address written before this change, or by hand: refused as a place to return to.
      `/auth/login?returnTo=${encodeURIComponent(`/s/${token}/granska`)}`,
      `/auth/login?returnTo=${encodeURIComponent(`/mina-samtycken?x=${token}`)}`,
      `/auth/login?returnTo=%2F%73%2F${token}`,
    ];
    for (const start of starts)
      t.equal((await b.get(start)).status, 302, `${start.slice(0, 30)}…: to the provider`);
    const rows = (await sql`SELECT * FROM login_attempts`.execute(s.db)).rows;
    t.equal(rows.length, starts.length, 'one attempt per start');
    t.notOk(JSON.stringify(rows).includes(token), 'no token in any column of login_attempts');
    t.same(
      rows.map((r) => (r as { return_to: string }).return_to).sort(),
      [
        ...Array(3).fill('/mina-samtycken'),
        ...Array(2).fill(`/mina-samtycken/inbjudan/${await invitationIdOf(s, token)}`),
      ].sort(),
    );

    // The whole way through: the link's login → its id → the consent.
    const anna = s.browser();
    const again = await anna.login(loginHref, { person: 'anna-lindqvist' });
    t.equal(again.status, 303);
    const checked = await anna.get(again.location!);
    t.equal(checked.status, 303);
    t.equal(checked.location, review(consentId));
    // The id alone opens nothing: without a session, the login; as someone else, refused and recorded.
    const anonymous = await s.browser().get(again.location!);
    t.equal(anonymous.status, 303);
    t.match(anonymous.location, /^\/auth\/login\?returnTo=%2Fmina-samtycken%2Finbjudan%2F/);
    const mehmet = await loggedIn(s, 'mehmet-sahin', '/mina-samtycken');
    const refused = await mehmet.get(again.location!);
    t.equal(refused.status, 403);
    t.match(refused.body, /Förfrågan gäller någon annan/);
    t.equal(
      (await listAuditEvents(s.db, consentId)).filter((e) => e.action === 'wrong_person').length,
      1,
      'the attempt is an audit event',
    );
    t.equal((await s.browser().get('/mina-samtycken/inbjudan/inte-ett-id')).status, 404, 'not an id');
    const unknown = '/mina-samtycken/inbjudan/00000000-0000-4000-8000-000000000000';
    t.equal((await s.browser().get(unknown)).status, 303, 'without a session, nothing is said: the login');
    t.equal((await mehmet.get(unknown)).status, 404);
    // Someone else learns nothing of what became of the link: refused as someone else, not "used".
    await s.db.updateTable('invitations').set({ used_at: new Date() }).execute();
    const afterUse = await mehmet.get(again.location!);
    t.equal(afterUse.status, 403);
    t.match(afterUse.body, /Förfrågan gäller någon annan/);
    const own = await anna.get(again.location!);
    t.equal(own.status, 410, 'the person the link is for is told it is used');
    t.match(own.body, /Du har redan svarat/);
  },
);

t.test('someone else opens the link: a page that reveals nothing, and an audit event', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'mehmet-sahin', `/s/${tokens.guardian1}/granska`);
  const page = await b.get(`/s/${tokens.guardian1}/granska`);
  checkPage(t, 'wrong-person', page);
  t.equal(page.status, 403);
  t.match(page.body, /Förfrågan gäller någon annan/);
  t.same(personalDataIn(page.body, people), [], 'no names or numbers of the request');
  t.notMatch(page.body, /Björkskolan|Norrby|Exempelby|Karin Holm/);
  for (const path of ['granska', 'dokument', 'avboj']) {
    const other = await b.get(`/mina-samtycken/${consentId}/${path}`);
    t.equal(other.status, 404, `${path}: not found for someone not on the form`);
    t.notMatch(other.headers.get('content-type'), /pdf/);
  }
  const events = (await listAuditEvents(s.db, consentId)).filter((e) => e.action === 'wrong_person');
  t.equal(events.length, 1, 'the attempt is an audit event');
  t.equal(await status(s, consentId), 'pending', 'nothing changed');
});

t.test('a signer identified as someone else at the act: refused, nothing signed', async (t) => {
  const s = await startSignerApp(t);
  const { consentId } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'anna-lindqvist', review(consentId));
  const page = await b.get(review(consentId));
  const form = { _csrf: csrfOf(page.body), version: hiddenValue(page.body, 'version')!, ort: 'Norrby' };
  const other = await signWithIdentification(b, consentId, form, 'erik-lindqvist');
  t.equal(other.status, 403);
  t.match(other.body, /Förfrågan gäller någon annan/);
  const c = await getConsent(s.app, consentId);
  t.same(
    c.signers.map((x) => x.state),
    ['pending', 'pending', 'pending'],
  );
});

t.test('unknown, used and expired links, and links of requests that ended: clear pages', async (t) => {
  const s = await startSignerApp(t);
  const { tokens } = await requestConsent(s, 'lindqvist');
  const b = s.browser();
  const unknown = await b.get(`/s/${'A'.repeat(43)}`);
  checkPage(t, 'unknown', unknown);
  t.equal(unknown.status, 404);
  t.match(unknown.body, /Länken finns inte/);
  t.equal((await b.get('/s/kort')).status, 404, 'a malformed token too');
  t.equal((await b.get(`/s/${'A'.repeat(43)}/granska`)).status, 404, 'and the page behind it');

  await s.db
    .updateTable('invitations')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  const expired = await b.get(`/s/${tokens.guardian2}`);
  checkPage(t, 'expired', expired);
  t.equal(expired.status, 410);
  t.match(expired.body, /Tiden för att svara på förfrågan har gått ut/);
  for (const p of [unknown, expired]) {
    t.same(personalDataIn(p.body, people), []);
    t.match(p.headers.get('content-type'), /text\/html/);
  }
});

t.test('a sole guardian confirms being the sole guardian; every problem is shown at once', async (t) => {
  const s = await startSignerApp(t);
  const { consentId } = await requestConsent(s, 'lindqvist-sole');
  const b = await loggedIn(s, 'anna-lindqvist', review(consentId));
  const page = await b.get(review(consentId));
  t.match(page.body, /<input type="checkbox" id="ensam" name="ensam" value="ja"/);
  t.notMatch(textOf(page.body), /Vårdnadshavare 2/, 'no second guardian on a sole guardian’s form');
  const csrf = csrfOf(page.body);
  const version = hiddenValue(page.body, 'version')!;
  const both = await b.post(`/mina-samtycken/${consentId}/signera`, { _csrf: csrf, version, ort: '' });
  checkPage(t, 'sole-both-errors', both);
  t.equal(both.status, 400);
  t.match(both.body, /<a href="#ort">Ange ort\.<\/a>/);
  t.match(both.body, /<a href="#ensam">Bekräfta att du är ensam vårdnadshavare\.<\/a>/, 'in the same round');
  const unconfirmed = await b.post(`/mina-samtycken/${consentId}/signera`, {
    _csrf: csrf,
    version,
    ort: 'Norrby',
  });
  t.equal(unconfirmed.status, 400);
  t.match(unconfirmed.body, /id="ort" name="ort" value="Norrby"/, 'what was entered stays');
  t.equal(await status(s, consentId), 'pending');

  const signed = await signWithIdentification(
    b,
    consentId,
    { _csrf: csrf, version, ort: 'Norrby', ensam: 'ja' },
    'anna-lindqvist',
  );
  const receipt = await b.get(signed.location!);
  checkPage(t, 'signed-complete', receipt);
  t.match(receipt.body, /Samtycket gäller från/);
  t.equal(await status(s, consentId), 'active');
});

t.test('decline with a reason ends the request for everyone; their links say so', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'saga-lindqvist', review(consentId));
  const page = await b.get(review(consentId));
  t.match(page.body, new RegExp(`href="/mina-samtycken/${consentId}/avboj"`));
  const decline = await b.get(`/mina-samtycken/${consentId}/avboj`);
  checkPage(t, 'decline', decline);
  t.equal(decline.status, 200);
  t.match(decline.body, /<label for="anledning">/);
  const tooLong = await b.post(`/mina-samtycken/${consentId}/avboj`, {
    _csrf: csrfOf(decline.body),
    anledning: 'x'.repeat(1001),
  });
  t.equal(tooLong.status, 400);
  t.equal(await status(s, consentId), 'pending');
  const declined = await b.post(`/mina-samtycken/${consentId}/avboj`, {
    _csrf: csrfOf(decline.body),
    anledning: 'Jag vill prata med mamma först.',
  });
  checkPage(t, 'declined', declined);
  t.equal(declined.status, 200);
  t.match(declined.body, /Du har avböjt/);
  const details = await getConsent(s.app, consentId);
  t.equal(details.status, 'declined');
  t.equal(details.declined?.reason, 'Jag vill prata med mamma först.');
  const others = await s.browser().get(`/s/${tokens.guardian1}`);
  t.equal(others.status, 410, "the others' links end too");
  t.match(others.body, /Förfrågan är avslutad och kan inte längre besvaras/, 'and say it is over');
  t.notMatch(others.body, /avböj/, 'but not what happened, before anyone identified');
  t.notMatch(others.body, /ersatts av en nyare/);
});

t.test('Mina samtycken: a pending request is opened and signed there, without the link', async (t) => {
  const s = await startSignerApp(t);
  const { consentId } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  const list = await b.get('/mina-samtycken');
  t.match(list.body, new RegExp(`href="/mina-samtycken/${consentId}/granska"[^>]*>Läs och svara<`));
  const page = await b.get(review(consentId));
  t.equal(page.status, 200);
  const signed = await signWithIdentification(
    b,
    consentId,
    { _csrf: csrfOf(page.body), version: hiddenValue(page.body, 'version')!, ort: 'Umeå' },
    'erik-lindqvist',
  );
  t.equal(signed.location, `/mina-samtycken/${consentId}/underskrivet`);
  t.equal((await getConsent(s.app, consentId)).signers[1]!.state, 'signed');
});

t.test('Mina samtycken: login first, the list, download, withdraw with its own identification', async (t) => {
  const s = await startSignerApp(t);
  const anonymous = await s.browser().get('/mina-samtycken');
  t.equal(anonymous.status, 303);
  t.equal(anonymous.location, '/auth/login?returnTo=%2Fmina-samtycken');

  const { consentId } = await requestConsent(s, 'lindqvist-sole');
  const other = await requestConsent(s, 'lindqvist-young');
  const signer = await loggedIn(s, 'anna-lindqvist', review(consentId));
  const page = await signer.get(review(consentId));
  await signWithIdentification(
    signer,
    consentId,
    { _csrf: csrfOf(page.body), version: hiddenValue(page.body, 'version')!, ort: 'Norrby', ensam: 'ja' },
    'anna-lindqvist',
  );
  t.equal(await status(s, consentId), 'active');

  const b = await loggedIn(s, 'anna-lindqvist', '/mina-samtycken');
  const list = await b.get('/mina-samtycken');
  checkPage(t, 'mine', list);
  const text = textOf(list.body);
  t.match(text, /gällande/);
  t.match(text, /väntande på underskrifter/, 'the other request, still waiting');
  t.same(numbersIn(list.body), [], 'no personal numbers in the list');
  t.match(list.body, new RegExp(`href="/mina-samtycken/${consentId}/aterkalla"`));
  t.notMatch(
    list.body,
    new RegExp(`href="/mina-samtycken/${other.consentId}/aterkalla"`),
    'not signed: nothing to withdraw',
  );
  const receipt = await b.get(`/mina-samtycken/${consentId}/kvittens`);
  t.equal(receipt.status, 200);
  t.equal(receipt.headers.get('content-type'), 'application/pdf');

  const erik = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  t.equal((await erik.get(`/mina-samtycken/${consentId}/dokument`)).status, 404, "someone else's: not found");
  t.equal((await erik.get(`/mina-samtycken/${consentId}/aterkalla`)).status, 404);

  const confirm = await b.get(`/mina-samtycken/${consentId}/aterkalla`);
  checkPage(t, 'withdraw', confirm);
  t.match(confirm.body, /slutar gälla direkt/);
  const csrf = csrfOf(confirm.body);
  // The login made to open the list does not withdraw: the act has its own identification.
  const sso = await b.login(
    { path: `/mina-samtycken/${consentId}/aterkalla`, form: { _csrf: csrf } },
    { person: 'anna-lindqvist', stale: true },
  );
  t.equal(sso.status, 401);
  t.equal(await status(s, consentId), 'active', 'not withdrawn on an old login');
  const done = await b.login(
    { path: `/mina-samtycken/${consentId}/aterkalla`, form: { _csrf: csrf } },
    { person: 'anna-lindqvist' },
  );
  t.equal(done.location, `/mina-samtycken/${consentId}/aterkallat`);
  const withdrawn = await b.get(done.location!);
  checkPage(t, 'withdrawn', withdrawn);
  t.match(withdrawn.body, /Samtycket är återkallat/);
  t.equal(await status(s, consentId), 'withdrawn', 'at once');
  t.match(textOf((await b.get('/mina-samtycken')).body), /återkallat/);
});

t.test(
  'a form posted without its CSRF token is refused with a page; Origin: null with the token passes',
  async (t) => {
    const s = await startSignerApp(t);
    const { consentId } = await requestConsent(s, 'lindqvist');
    const b = await loggedIn(s, 'anna-lindqvist', review(consentId));
    const page = await b.get(review(consentId));
    const csrf = csrfOf(page.body);
    const version = hiddenValue(page.body, 'version')!;
    for (const path of [`/mina-samtycken/${consentId}/signera`, `/mina-samtycken/${consentId}/avboj`]) {
      const refused = await b.post(path, { ort: 'Norrby', version });
      t.equal(refused.status, 403, path);
      t.match(refused.headers.get('content-type'), /text\/html/);
      t.match(refused.body, /Formuläret har gått ut/);
      t.equal((await b.post(path, { _csrf: 'x'.repeat(43), ort: 'Norrby', version })).status, 403);
      const crossSite = await b.post(
        path,
        { _csrf: csrf, ort: 'Norrby', version },
        { 'sec-fetch-site': 'cross-site' },
      );
      t.equal(crossSite.status, 403, `${path}: a cross-site post, even with the token`);
      const otherOrigin = await b.post(
        path,
        { _csrf: csrf, ort: 'Norrby', version },
        { origin: 'https://evil.example' },
      );
      t.equal(otherOrigin.status, 403, `${path}: another origin, even with the token`);
    }
    // Regression: browsers send `Origin: null` on a same-origin post from a no-referrer page; the token decides.
    const nullOrigin = await b.post(
      `/mina-samtycken/${consentId}/signera`,
      { _csrf: csrf, ort: 'Norrby', version },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    t.equal(nullOrigin.status, 303, 'on to the identification');
    t.match(nullOrigin.location, /\/dev-idp\/auth\?/);
    t.equal(await status(s, consentId), 'pending');
    t.equal(page.headers.get('referrer-policy'), 'same-origin', 'pages no longer ask for no-referrer');
  },
);

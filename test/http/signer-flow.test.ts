// The signer's pages over real HTTP, with the development IdP: invitation, review, sign, decline,
// "Mina samtycken" and withdrawal, and the refusals (wrong person, used/expired/unknown link, CSRF).
import { writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { listAuditEvents } from '../../src/consents/audit.ts';
import { getConsent } from '../../src/consents/index.ts';
import { personalDataIn } from '../consents/fixtures/consents.ts';
import { people, person } from '../identity/fixtures/app.ts';
import {
  csrfOf,
  loggedIn,
  requestConsent,
  type SignerApp,
  startSignerApp,
  textOf,
} from './fixtures/signer.ts';

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

t.test('invitation → review → sign: no personal data before login, the form after it', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = s.browser();

  const invitation = await b.get(`/s/${tokens.guardian1}`);
  checkPage(t, 'invitation', invitation);
  t.equal(invitation.status, 200);
  t.equal(invitation.headers.get('cache-control'), 'no-store');
  t.match(invitation.body, /En förfrågan om samtycke väntar på dig/);
  t.same(personalDataIn(invitation.body, people), [], 'no names or numbers');
  t.notMatch(invitation.body, /Björkskolan|Norrby|Exempelby/, 'no organisation');
  t.match(invitation.body, new RegExp(`href="/auth/login\\?returnTo=%2Fs%2F${tokens.guardian1}%2Fgranska"`));
  t.notMatch(invitation.body, /<script/i);

  // Without a session the review sends the browser to the login and back.
  const anonymous = await b.get(`/s/${tokens.guardian1}/granska`);
  t.equal(anonymous.status, 303);
  t.match(anonymous.location, /^\/auth\/login\?returnTo=/);

  const login = await b.login(anonymous.location!, { person: 'anna-lindqvist' });
  t.equal(login.location, `/s/${tokens.guardian1}/granska`);
  const review = await b.get(login.location!);
  checkPage(t, 'review', review);
  t.equal(review.status, 200);
  const text = textOf(review.body);
  t.match(text, /Vad betyder det att samtycka/);
  t.match(text, /Björkskolan får, trots sekretess/, 'the statement with the organisation');
  t.match(text, /högst ett år/);
  t.match(text, /Återkalla/);
  t.match(text, /Saga Lindqvist/, 'the child is on the form');
  t.match(text, /Karin Holm/, 'who obtained the consent');
  const anna = person('anna-lindqvist');
  t.same(
    numbersIn(review.body).filter((n) => !anna.personalNumber.includes(n.replace('-', ''))),
    [],
    'no personal number but the viewer’s own',
  );
  t.match(text, `${anna.personalNumber.slice(0, 8)}-${anna.personalNumber.slice(8)}`, 'the viewer’s own');
  t.notMatch(review.body, /name="ensam"/, 'no sole guardian question with two guardians');
  t.equal((review.body.match(/<h1[ >]/g) ?? []).length, 1, 'one h1');

  const pdf = await b.get(`/s/${tokens.guardian1}/dokument`);
  t.equal(pdf.status, 200);
  t.equal(pdf.headers.get('content-type'), 'application/pdf');
  t.match(pdf.headers.get('content-disposition'), /^inline; filename="samtycke-[0-9a-f]{8}\.pdf"$/);
  t.equal(pdf.headers.get('cache-control'), 'no-store');

  // Place is required.
  const csrf = csrfOf(review.body);
  const noPlace = await b.post(`/s/${tokens.guardian1}/signera`, { _csrf: csrf, ort: '  ' });
  checkPage(t, 'review-errors', noPlace);
  t.equal(noPlace.status, 400);
  t.match(noPlace.body, /class="error-summary"/);
  t.match(noPlace.body, /<a href="#ort">Ange ort\.<\/a>/);
  t.equal(await status(s, consentId), 'pending');

  const signed = await b.post(`/s/${tokens.guardian1}/signera`, { _csrf: csrf, ort: 'Norrby' });
  checkPage(t, 'signed', signed);
  t.equal(signed.status, 200);
  t.match(signed.body, /Du har skrivit under/);
  t.match(signed.body, /börjar gälla när alla/);
  t.match(signed.body, new RegExp(`href="/mina-samtycken/${consentId}/dokument"`));
  const download = await b.get(`/mina-samtycken/${consentId}/dokument`);
  t.equal(download.status, 200);
  t.match(download.headers.get('content-disposition'), /^attachment; /);

  // The link is used now.
  const used = await b.get(`/s/${tokens.guardian1}`);
  checkPage(t, 'used', used);
  t.equal(used.status, 410);
  t.match(used.headers.get('content-type'), /text\/html/);
  t.match(used.body, /Du har redan svarat/);
});

t.test('someone else opens the link: a page that reveals nothing, and an audit event', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'erik-lindqvist', `/s/${tokens.guardian1}/granska`);
  const page = await b.get(`/s/${tokens.guardian1}/granska`);
  checkPage(t, 'wrong-person', page);
  t.equal(page.status, 403);
  t.match(page.body, /Förfrågan gäller någon annan/);
  t.same(personalDataIn(page.body, people), [], 'no names or numbers of the request');
  t.notMatch(page.body, /Björkskolan|Norrby|Exempelby|Karin/);
  for (const path of ['dokument', 'avboj']) {
    const other = await b.get(`/s/${tokens.guardian1}/${path}`);
    t.equal(other.status, 403, `${path}: refused too`);
    t.notMatch(other.headers.get('content-type'), /pdf/);
  }
  const signAttempt = await b.post(`/s/${tokens.guardian1}/signera`, {
    _csrf: csrfOf((await b.get(`/s/${tokens.guardian2}/granska`)).body),
    ort: 'Norrby',
  });
  t.equal(signAttempt.status, 403);
  const events = (await listAuditEvents(s.db, consentId)).filter((e) => e.action === 'wrong_person');
  t.ok(events.length >= 4, 'each attempt is an audit event');
  t.equal(await status(s, consentId), 'pending', 'nothing changed');
});

t.test('unknown, used and expired links: clear pages that reveal nothing', async (t) => {
  const s = await startSignerApp(t);
  const { tokens } = await requestConsent(s, 'lindqvist');
  const b = s.browser();
  const unknown = await b.get(`/s/${'A'.repeat(43)}`);
  checkPage(t, 'unknown', unknown);
  t.equal(unknown.status, 404);
  t.match(unknown.body, /Länken finns inte/);
  t.equal((await b.get('/s/kort')).status, 404, 'a malformed token too');
  t.equal((await b.get(`/s/${'A'.repeat(43)}/granska`)).status, 404, 'and the pages behind it');

  await s.db
    .updateTable('invitations')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .execute();
  const expired = await b.get(`/s/${tokens.guardian2}`);
  checkPage(t, 'expired', expired);
  t.equal(expired.status, 410);
  t.match(expired.body, /Förfrågan gäller inte längre/);
  for (const page of [unknown, expired]) {
    t.same(personalDataIn(page.body, people), []);
    t.match(page.headers.get('content-type'), /text\/html/);
  }
});

t.test('a sole guardian confirms being the sole guardian; the consent is then in force', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist-sole');
  const b = await loggedIn(s, 'anna-lindqvist', `/s/${tokens.guardian1}/granska`);
  const review = await b.get(`/s/${tokens.guardian1}/granska`);
  t.match(review.body, /<input type="checkbox" id="ensam" name="ensam" value="ja"/);
  t.match(review.body, /<label for="ensam">/);
  t.notMatch(textOf(review.body), /Vårdnadshavare 2/, 'no second guardian on a sole guardian’s form');
  const csrf = csrfOf(review.body);
  const unconfirmed = await b.post(`/s/${tokens.guardian1}/signera`, { _csrf: csrf, ort: 'Norrby' });
  checkPage(t, 'sole-unconfirmed', unconfirmed);
  t.equal(unconfirmed.status, 400);
  t.match(unconfirmed.body, /<a href="#ensam">Bekräfta att du är ensam vårdnadshavare\.<\/a>/);
  t.match(unconfirmed.body, /id="ort" name="ort" value="Norrby"/, 'what was entered stays');
  t.equal(await status(s, consentId), 'pending');

  const signed = await b.post(`/s/${tokens.guardian1}/signera`, { _csrf: csrf, ort: 'Norrby', ensam: 'ja' });
  checkPage(t, 'signed-complete', signed);
  t.equal(signed.status, 200);
  t.match(signed.body, /Samtycket gäller från/);
  t.equal(await status(s, consentId), 'active');
});

t.test('signing needs a fresh identification, and comes back to the sign form', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  // The provider says the identification was ten minutes ago.
  const b = await loggedIn(s, 'erik-lindqvist', `/s/${tokens.guardian2}/granska`, true);
  const review = await b.get(`/s/${tokens.guardian2}/granska`);
  const csrf = csrfOf(review.body);
  const stale = await b.post(`/s/${tokens.guardian2}/signera`, { _csrf: csrf, ort: 'Umeå' });
  checkPage(t, 'fresh', stale);
  t.equal(stale.status, 401);
  t.match(stale.body, /<form method="post" action="\/auth\/fresh">/);
  t.match(stale.body, /Legitimera dig och signera/);
  const returnTo = /name="returnTo" value="([^"]+)"/.exec(stale.body)![1]!.replace(/&amp;/g, '&');
  t.equal(returnTo, `/s/${tokens.guardian2}/signera?ort=Ume%C3%A5`);
  t.equal(await status(s, consentId), 'pending');
  t.equal((await getConsent(s.app, consentId)).signers[1]!.state, 'pending', 'not signed');

  const fresh = await b.login(
    { path: '/auth/fresh', form: { _csrf: csrf, returnTo } },
    { person: 'erik-lindqvist' },
  );
  t.equal(fresh.status, 303);
  t.equal(fresh.location, returnTo);
  const form = await b.get(returnTo);
  checkPage(t, 'sign-after-fresh', form);
  t.equal(form.status, 200);
  t.match(form.body, /Du har legitimerat dig/);
  t.match(form.body, /id="ort" name="ort" value="Umeå"/);
  const signed = await b.post(`/s/${tokens.guardian2}/signera`, { _csrf: csrfOf(form.body), ort: 'Umeå' });
  t.equal(signed.status, 200);
  t.match(signed.body, /Du har skrivit under/);
  t.equal((await getConsent(s.app, consentId)).signers[1]!.state, 'signed');
});

t.test('decline with a reason ends the request for everyone', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'saga-lindqvist', `/s/${tokens.youth}/granska`);
  const review = await b.get(`/s/${tokens.youth}/granska`);
  t.match(review.body, new RegExp(`href="/s/${tokens.youth}/avboj"`));
  const page = await b.get(`/s/${tokens.youth}/avboj`);
  checkPage(t, 'decline', page);
  t.equal(page.status, 200);
  t.match(page.body, /<label for="anledning">/);
  const tooLong = await b.post(`/s/${tokens.youth}/avboj`, {
    _csrf: csrfOf(page.body),
    anledning: 'x'.repeat(1001),
  });
  t.equal(tooLong.status, 400);
  t.equal(await status(s, consentId), 'pending');
  const declined = await b.post(`/s/${tokens.youth}/avboj`, {
    _csrf: csrfOf(page.body),
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
});

t.test('Mina samtycken: login first, the list, download, withdraw with a fresh identification', async (t) => {
  const s = await startSignerApp(t);
  const anonymous = await s.browser().get('/mina-samtycken');
  t.equal(anonymous.status, 303);
  t.equal(anonymous.location, '/auth/login?returnTo=%2Fmina-samtycken');

  const { consentId, tokens } = await requestConsent(s, 'lindqvist-sole');
  const other = await requestConsent(s, 'lindqvist-young');
  const signer = await loggedIn(s, 'anna-lindqvist', `/s/${tokens.guardian1}/granska`);
  const review = await signer.get(`/s/${tokens.guardian1}/granska`);
  await signer.post(`/s/${tokens.guardian1}/signera`, {
    _csrf: csrfOf(review.body),
    ort: 'Norrby',
    ensam: 'ja',
  });
  t.equal(await status(s, consentId), 'active');

  // Another day, a new login, no longer fresh for acts.
  const b = await loggedIn(s, 'anna-lindqvist', '/mina-samtycken', true);
  const list = await b.get('/mina-samtycken');
  checkPage(t, 'mine', list);
  t.equal(list.status, 200);
  const text = textOf(list.body);
  t.match(text, /Mina samtycken/);
  t.match(text, /gällande/);
  t.match(text, /väntande på underskrifter/, 'the other request, still waiting');
  t.match(text, /Elsa Lindqvist/);
  t.same(numbersIn(list.body), [], 'no personal numbers');
  t.match(list.body, new RegExp(`href="/mina-samtycken/${consentId}/aterkalla"`));
  t.notMatch(
    list.body,
    new RegExp(`href="/mina-samtycken/${other.consentId}/aterkalla"`),
    'not signed: nothing to withdraw',
  );
  const receipt = await b.get(`/mina-samtycken/${consentId}/kvittens`);
  t.equal(receipt.status, 200);
  t.equal(receipt.headers.get('content-type'), 'application/pdf');

  // Someone else's consent is not found.
  const erik = await loggedIn(s, 'erik-lindqvist', '/mina-samtycken');
  t.equal((await erik.get(`/mina-samtycken/${consentId}/dokument`)).status, 404);
  t.equal((await erik.get(`/mina-samtycken/${consentId}/aterkalla`)).status, 404);

  const confirm = await b.get(`/mina-samtycken/${consentId}/aterkalla`);
  checkPage(t, 'withdraw', confirm);
  t.equal(confirm.status, 200);
  t.match(confirm.body, /slutar gälla direkt/);
  const csrf = csrfOf(confirm.body);
  const stale = await b.post(`/mina-samtycken/${consentId}/aterkalla`, { _csrf: csrf });
  t.equal(stale.status, 401);
  t.match(stale.body, /action="\/auth\/fresh"/);
  t.equal(await status(s, consentId), 'active', 'not yet');

  const fresh = await b.login(
    { path: '/auth/fresh', form: { _csrf: csrf, returnTo: `/mina-samtycken/${consentId}/aterkalla` } },
    { person: 'anna-lindqvist' },
  );
  t.equal(fresh.location, `/mina-samtycken/${consentId}/aterkalla`);
  const again = await b.get(fresh.location!);
  t.match(again.body, /Du har legitimerat dig/);
  const withdrawn = await b.post(`/mina-samtycken/${consentId}/aterkalla`, { _csrf: csrf });
  checkPage(t, 'withdrawn', withdrawn);
  t.equal(withdrawn.status, 200);
  t.match(withdrawn.body, /Samtycket är återkallat/);
  t.equal(await status(s, consentId), 'withdrawn', 'at once');
  t.match(textOf((await b.get('/mina-samtycken')).body), /återkallat/);
});

t.test('a form posted without its CSRF token is refused with a page', async (t) => {
  const s = await startSignerApp(t);
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  const b = await loggedIn(s, 'anna-lindqvist', `/s/${tokens.guardian1}/granska`);
  for (const path of [`/s/${tokens.guardian1}/signera`, `/s/${tokens.guardian1}/avboj`]) {
    const refused = await b.post(path, { ort: 'Norrby' });
    t.equal(refused.status, 403, path);
    t.match(refused.headers.get('content-type'), /text\/html/);
    t.match(refused.body, /Formuläret har gått ut/);
    const wrong = await b.post(path, { _csrf: 'x'.repeat(43), ort: 'Norrby' });
    t.equal(wrong.status, 403);
  }
  t.equal((await b.post(`/mina-samtycken/${consentId}/aterkalla`, {})).status, 403);
  t.equal(await status(s, consentId), 'pending');
});

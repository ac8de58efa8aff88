// The staff pages over real HTTP with the development IdP: log in, the list, the new request form with its
// messages, the links page (QR + copyable link, once), the consent page, the acts (CSRF), who sees what,
// and the downloads.
import { getLoadedConsent } from '../../src/consents/consent.repository.ts';
import tap, { type Test } from 'tap';
import { appendAuditEvent } from '../../src/consents/audit.repository.ts';
import { Browser, csrfOf } from '../fixtures/app.ts';
import { staffPages } from './fixtures/staff.ts';
import { personalNumberForms } from '../fixtures/people.ts';

const NUMBERS = /\d{6}-?\d{4}/;

/** Every page: one h1, headings in order, nothing fetched from elsewhere. */
function wellFormed(t: Test, html: string, what: string) {
  t.equal((html.match(/<h1[ >]/g) ?? []).length, 1, `${what}: one h1`);
  const levels = [...html.matchAll(/<h([1-6])[ >]/g)].map((m) => Number(m[1]));
  t.ok(
    levels.every((l, i) => i === 0 || l <= levels[i - 1]! + 1),
    `${what}: headings in order (${levels.join(',')})`,
  );
  t.notMatch(html, /\ssrc="https?:/, `${what}: no third-party resources`);
  t.notMatch(html, /<script/, `${what}: no JavaScript`);
}

/** The texts of every error message on a page (summary and next to the fields). */
function errorTexts(html: string): string[] {
  const next = [...html.matchAll(/<span class="error-text"[^>]*>([^<]*)<\/span>/g)].map((m) => m[1]!);
  const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
  const items = [...summary.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]!);
  return [...next, ...items];
}

tap.test('logged out: /personal offers the staff login; the other pages answer with it', async (t) => {
  const s = await staffPages(t);
  const b = new Browser(s.running.base);
  const start = await b.get('/personal');
  t.equal(start.status, 200);
  t.match(start.headers.get('content-type'), /text\/html/);
  t.match(start.body, 'href="/auth/staff/login?returnTo=%2Fpersonal"');
  t.match(start.body, '>Logga in</a>');
  t.equal(start.headers.get('cache-control'), 'no-store');
  wellFormed(t, start.body, 'login page');

  for (const path of ['/samtycken/ny', '/samtycken/00000000-0000-4000-8000-000000000000']) {
    const page = await b.get(path);
    t.equal(page.status, 401, path);
    t.match(page.body, 'Logga in som personal för att se sidan.');
  }
});

tap.test('logged in: the list of the organisation’s consents, newest first, without numbers', async (t) => {
  const s = await staffPages(t);
  const first = await s.lindqvist('elsa');
  const second = await s.lindqvist('saga');
  const b = await s.loggedIn();
  const list = await b.get('/personal');
  t.equal(list.status, 200);
  t.match(list.body, '<h1>Samtycken</h1>');
  wellFormed(t, list.body, 'list');
  t.match(list.body, 'Logga ut', 'logout button');
  t.match(list.body, '<span class="status pending">');
  t.ok(list.body.indexOf(second.id) < list.body.indexOf(first.id), 'newest first');
  t.match(list.body, 'Saga Lindqvist');
  t.notOk(
    personalNumberForms(s.people).some((n) => list.body.includes(n)),
    'no personal number',
  );

  const active = await b.get('/personal?status=active');
  t.notMatch(active.body, first.id, 'filtered by status');
  t.match(active.body, 'Inga samtycken matchar filtret.');
  const bad = await b.get('/personal?from=igår');
  t.match(bad.body, 'class="error-summary"');
  t.match(bad.body, 'Ange datumet som ÅÅÅÅ-MM-DD.');
  const badCursor = await b.get('/personal?cursor=x');
  t.equal(badCursor.status, 200);
  t.match(badCursor.body, 'Ogiltig cursor.');

  // Keyset pagination: 26 consents, 25 on the first page and a "Fler" link to the 26th.
  for (let i = 0; i < 24; i++) await s.lindqvist('elsa');
  const page1 = await b.get('/personal');
  const more = /href="(\/personal\?cursor=[^"]+)">Fler</.exec(page1.body)?.[1];
  t.ok(more, 'a Fler link');
  t.notMatch(page1.body, first.id, 'the oldest is not on the first page');
  const page2 = await b.get(more!.replace(/&amp;/g, '&'));
  t.match(page2.body, first.id, 'the oldest is on the next page');
  t.notMatch(page2.body, '>Fler<');
});

tap.test('new request: messages next to the fields, a summary, and no number in them', async (t) => {
  const s = await staffPages(t);
  const b = await s.loggedIn();
  const form = await b.get('/samtycken/ny');
  t.equal(form.status, 200);
  t.match(form.body, '<label for="child-personalNumber">');
  wellFormed(t, form.body, 'new request form');
  t.match(form.body, 'name="guardians.1.email"');
  t.match(form.body, `<option value="${s.teamId}"`);
  const csrf = csrfOf(form.body);

  const saga = s.person('saga-lindqvist');
  const typed = {
    _csrf: csrf,
    teamId: s.teamId,
    'child.name': 'Saga Lindqvist',
    'child.personalNumber': saga.personalNumber,
    'guardians.0.name': 'Anna Lindqvist',
    // The child's number given for the guardian: not an adult, and the same as the child's.
    'guardians.0.personalNumber': saga.personalNumber,
    'guardians.0.email': 'anna@hem.example',
    'guardians.1.name': '',
    'guardians.1.personalNumber': '19991332-1234',
  };
  // Regression (issue 13): what the form lacks and what the numbers are came in two rounds. Now at once.
  const answer = await b.post('/samtycken/ny', { ...typed, 'guardians.0.phone': 'ring mig' });
  t.equal(answer.status, 400);
  t.match(answer.body, 'class="error-summary"');
  t.match(answer.body, '<div class="field has-error">\n  <label for="guardians-1-name">');
  t.match(answer.body, 'href="#guardians-1-name"', 'the summary links to the field');
  t.match(answer.body, 'aria-invalid="true"');
  t.match(answer.body, '<title>Fel i formuläret');
  t.match(answer.body, 'href="#guardians-0-phone"', 'the malformed phone…');
  t.match(answer.body, 'href="#guardians-0-personalNumber"', '…and the numbers, in the same answer');
  t.match(answer.body, 'href="#guardians-1-personalNumber"');
  wellFormed(t, answer.body, 'form with errors');
  const messages = errorTexts(answer.body);
  t.ok(messages.length >= 8, `messages: ${messages.join(' | ')}`);
  for (const m of messages) t.notMatch(m, NUMBERS, `no number in "${m}"`);
  t.match(answer.body, `value="${saga.personalNumber}"`, 'what was typed is kept in the input');
  t.match(answer.body, 'value="19991332-1234"');
  const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(answer.body)![0];
  t.ok(
    summary.indexOf('#child-') < summary.indexOf('#guardians-0-') &&
      summary.indexOf('#guardians-0-') < summary.indexOf('#guardians-1-'),
    'the summary in the order of the form',
  );

  const noTeam = await b.post('/samtycken/ny', { ...typed, teamId: s.otherTeamId });
  t.equal(noTeam.status, 400);
  t.match(noTeam.body, '<span class="error-text" id="teamId-error">Välj HLT-team.</span>');
  t.match(noTeam.body, 'href="#guardians-1-name"', 'the rest of the form is checked too');

  const noCsrf = await b.post('/samtycken/ny', { ...typed, _csrf: 'fel' });
  t.equal(noCsrf.status, 403);
  t.match(noCsrf.body, 'Formuläret har gått ut');
});

tap.test(
  'new request: sole guardian ticked with guardian 2 filled in is refused at the tick box',
  async (t) => {
    const s = await staffPages(t);
    const b = await s.loggedIn();
    const csrf = csrfOf((await b.get('/samtycken/ny')).body);
    const p = s.person;
    const body = { _csrf: csrf, ...s.requestForm('lindqvist-young'), soleGuardian: 'ja' };
    // Regression (issue 13): guardian 2 was silently dropped and a one-guardian request sent.
    const refused = await b.post('/samtycken/ny', body);
    t.equal(refused.status, 400);
    t.match(
      refused.body,
      '<span class="error-text" id="soleGuardian-error">Du har markerat att vårdnadshavare 1',
    );
    t.match(refused.body, 'aria-describedby="soleGuardian-error"');
    t.match(refused.body, 'href="#soleGuardian"');
    t.match(refused.body, `value="${p('erik-lindqvist').name}"`, 'guardian 2 is kept as typed');
    t.equal((await s.running.db.selectFrom('consents').select('id').execute()).length, 0, 'nothing was sent');
    // Emptying guardian 2 makes it a sole-guardian request.
    const sole = await b.post('/samtycken/ny', {
      ...body,
      'guardians.1.name': '',
      'guardians.1.personalNumber': '',
      'guardians.1.email': '',
    });
    t.equal(sole.status, 303, sole.body.slice(0, 300));
  },
);

tap.test(
  'new request: the staff member’s phone, prefilled, validated, on the form and remembered',
  async (t) => {
    const s = await staffPages(t);
    const b = await s.loggedIn();
    let form = await b.get('/samtycken/ny');
    t.match(form.body, '<label for="obtainedByPhone">Ditt telefonnummer (visas på blanketten)');
    const body = { _csrf: csrfOf(form.body), ...s.requestForm('lindqvist-young'), rememberPhone: 'ja' };
    const bad = await b.post('/samtycken/ny', { ...body, obtainedByPhone: 'ring växeln' });
    t.equal(bad.status, 400);
    t.match(bad.body, 'id="obtainedByPhone-error">Ange ett telefonnummer med siffror');
    const made = await b.post('/samtycken/ny', { ...body, obtainedByPhone: '090-17 60 00' });
    t.equal(made.status, 303, made.body.slice(0, 300));
    const [row] = await s.running.db.selectFrom('consents').select('id').execute();
    const stored = await getLoadedConsent(s.running.db, s.running.app.keys, row!.id);
    t.equal(stored.consent.obtainedBy.phone, '090-17 60 00');
    form = await b.get('/samtycken/ny');
    t.match(form.body, 'id="obtainedByPhone" name="obtainedByPhone" value="090-17 60 00"', 'remembered');
  },
);

tap.test(
  'a valid request: the links page with QR codes and copyable links, once; then the consent',
  async (t) => {
    const s = await staffPages(t);
    const b = await s.loggedIn();
    const csrf = csrfOf((await b.get('/samtycken/ny')).body);
    const answer = await b.post('/samtycken/ny', { _csrf: csrf, ...s.requestForm('lindqvist') });
    t.equal(answer.status, 303, answer.body.slice(0, 500));
    const id = /^\/samtycken\/([0-9a-f-]{36})\/lankar$/.exec(answer.location ?? '')?.[1];
    t.ok(id, 'redirected to the links page');
    t.notOk(personalNumberForms(s.people).some((n) => answer.setCookies.join().includes(n)));

    const links = await b.get(answer.location!);
    t.equal(links.status, 200);
    t.equal((links.body.match(/<svg /g) ?? []).length, 3, 'a QR code per signer');
    const urls = [...links.body.matchAll(/readonly value="([^"]+)"/g)].map((m) => m[1]!);
    t.equal(urls.length, 3, 'a copyable link per signer');
    for (const u of urls) t.match(u, `${s.running.base}/s/`);
    t.match(links.body, 'Vårdnadshavare 2: Erik Lindqvist');
    t.equal(links.headers.get('cache-control'), 'no-store');
    wellFormed(t, links.body, 'links page');

    const again = await b.get(answer.location!);
    t.equal((again.body.match(/<svg /g) ?? []).length, 0, 'shown once');
    t.match(again.body, 'Länkarna visas bara en gång');

    const page = await b.get(`/samtycken/${id}`);
    t.equal(page.status, 200);
    t.match(page.body, '<h1>Samtycke för Saga Lindqvist</h1>');
    t.match(page.body, '<title>Samtycke och underskrifter – Samtycke</title>', 'no name in the title');
    wellFormed(t, page.body, 'consent page');
    t.match(page.body, 'Har inte signerat än');
    t.match(page.body, 'Förfrågan skapades (Karin Holm)');
    t.notOk(
      personalNumberForms(s.people).some((n) => page.body.includes(n)),
      'no personal number',
    );
  },
);

tap.test(
  'the consent page: signers’ state, and remind, cancel, end, withdraw, renew with CSRF',
  async (t) => {
    const s = await staffPages(t);
    const b = await s.loggedIn();

    // Remind: new links, shown on the links page.
    const pending = await s.lindqvist('saga');
    await s.sign(pending.id, 'guardian1', 'anna-lindqvist');
    let page = await b.get(`/samtycken/${pending.id}`);
    t.match(page.body, 'Har signerat');
    t.match(page.body, ', Norrby');
    const csrf = csrfOf(page.body);
    t.equal((await b.post(`/samtycken/${pending.id}/paminn`, {})).status, 403, 'remind needs CSRF');
    const reminded = await b.post(`/samtycken/${pending.id}/paminn`, { _csrf: csrf });
    t.equal(reminded.status, 303);
    const newLinks = await b.get(reminded.location!);
    t.equal((newLinks.body.match(/<svg /g) ?? []).length, 2, 'new links for the two who have not signed');
    // Regression (issue 13): the page said the request had been sent.
    t.match(newLinks.body, 'Påminnelser är skickade');
    t.notMatch(newLinks.body, 'är skickad.');

    // Regression (issue 13): three red one-click buttons. Now the acts the state allows, each a link to a
    // confirmation step; pending: cancel and register a withdrawal (ending is the same as cancelling here).
    page = await b.get(`/samtycken/${pending.id}`);
    t.match(page.body, `href="/samtycken/${pending.id}/avbryt">Avbryt förfrågan</a>`);
    t.match(page.body, `href="/samtycken/${pending.id}/aterkalla">Registrera återkallelse</a>`);
    t.notMatch(page.body, '/avsluta"', 'no end on a pending request');
    t.notMatch(page.body, '/fornya"', 'no renew while pending');
    t.notMatch(page.body, 'class="danger"', 'no act on one click');
    const confirm = await b.get(`/samtycken/${pending.id}/avbryt`);
    t.equal(confirm.status, 200);
    wellFormed(t, confirm.body, 'cancel confirmation');
    t.match(confirm.body, '<h1>Avbryta förfrågan?</h1>');
    t.match(confirm.body, 'Det går inte att ångra.');
    t.match(confirm.body, `action="/samtycken/${pending.id}/avbryt"`);
    t.match(confirm.body, '<button type="submit" class="danger">Ja, avbryt förfrågan</button>');
    t.match(confirm.body, `href="/samtycken/${pending.id}">Nej, tillbaka till samtycket</a>`);

    // Cancel.
    t.equal(
      (await b.post(`/samtycken/${pending.id}/avbryt`, { _csrf: 'x' })).status,
      403,
      'cancel needs CSRF',
    );
    const cancelled = await b.post(`/samtycken/${pending.id}/avbryt`, { _csrf: csrf });
    t.equal(cancelled.status, 303);
    page = await b.get(cancelled.location!);
    t.match(page.body, '<span class="status cancelled">');
    t.match(page.body, 'Förfrågan är avbruten.');
    t.notMatch(page.body, '/avbryt"', 'no cancel once cancelled');
    const late = await b.get(`/samtycken/${pending.id}/avbryt`);
    t.equal(late.status, 409, 'the confirmation step of an act no longer allowed');
    const twice = await b.post(`/samtycken/${pending.id}/avbryt`, { _csrf: csrf });
    t.equal(twice.status, 409);
    t.match(twice.body, 'class="notice bad"');

    // End: a date in the future is refused next to the field; today works.
    const active = await s.active('saga');
    page = await b.get(`/samtycken/${active.id}`);
    t.match(page.body, '<span class="status active">');
    t.match(page.body, '<dt>Gäller</dt>');
    t.match(page.body, `href="/samtycken/${active.id}/avsluta">Avsluta samtycket</a>`);
    t.match(page.body, `href="/samtycken/${active.id}/aterkalla">`);
    t.notMatch(page.body, '/avbryt"', 'no cancel once active');
    t.notMatch(page.body, '/paminn"', 'no reminder once active');
    page = await b.get(`/samtycken/${active.id}/avsluta`);
    t.equal(page.status, 200);
    wellFormed(t, page.body, 'end confirmation');
    t.match(page.body, 'Samtycket slutar då gälla för alla, direkt.');
    t.equal(
      (await b.post(`/samtycken/${active.id}/avsluta`, { date: '2020-01-01' })).status,
      403,
      'end needs CSRF',
    );
    const future = await b.post(`/samtycken/${active.id}/avsluta`, {
      _csrf: csrf,
      date: '2999-01-01',
      note: 'x',
    });
    t.equal(future.status, 400);
    t.match(
      future.body,
      '<span class="error-text" id="end-date-error">Datumet kan inte ligga i framtiden.</span>',
    );
    t.match(future.body, 'value="2999-01-01"');
    const ended = await b.post(`/samtycken/${active.id}/avsluta`, {
      _csrf: csrf,
      date: /id="end-date" name="date" value="([^"]+)"/.exec(page.body)![1]!,
      note: 'Insatserna klara',
    });
    t.equal(ended.status, 303);
    page = await b.get(ended.location!);
    t.match(page.body, '<span class="status ended">');
    t.match(page.body, 'Samtycket avslutades: de samordnade insatserna har upphört');
    t.match(page.body, '(Karin Holm)<br><span class="note">Anteckning: Insatserna klara</span>', 'the note');

    // Renew the ended consent: a new request, its links shown.
    const renewed = await b.post(`/samtycken/${active.id}/fornya`, { _csrf: csrf });
    t.equal(renewed.status, 303);
    t.notMatch(renewed.location!, active.id);
    const renewLinks = await b.get(renewed.location!);
    t.equal((renewLinks.body.match(/<svg /g) ?? []).length, 3);

    // Withdrawal registered on behalf of a guardian who called.
    const toWithdraw = await s.active('elsa');
    page = await b.get(`/samtycken/${toWithdraw.id}/aterkalla`);
    t.equal(page.status, 200);
    wellFormed(t, page.body, 'withdrawal confirmation');
    t.match(page.body, 'Samtycket slutar då gälla för alla, direkt.');
    const today = /id="withdraw-date" name="date" value="([^"]+)"/.exec(page.body)![1]!;
    t.equal(
      (
        await b.post(`/samtycken/${toWithdraw.id}/aterkalla`, {
          role: 'guardian2',
          channel: 'phone',
          date: today,
        })
      ).status,
      403,
      'withdrawal needs CSRF',
    );
    const bad = await b.post(`/samtycken/${toWithdraw.id}/aterkalla`, {
      _csrf: csrf,
      role: 'guardian2',
      channel: 'fax',
      date: today,
    });
    t.equal(bad.status, 400);
    t.match(bad.body, 'Ange hur återkallelsen kom in.');
    const withdrawn = await b.post(`/samtycken/${toWithdraw.id}/aterkalla`, {
      _csrf: csrf,
      role: 'guardian2',
      channel: 'phone',
      date: today,
      note: 'Ringde',
    });
    t.equal(withdrawn.status, 303);
    page = await b.get(withdrawn.location!);
    t.match(page.body, '<span class="status withdrawn">');
    t.match(page.body, 'Återkallat av vårdnadshavare 2 per telefon');
    t.match(
      page.body,
      `Återkallelse registrerades: vårdnadshavare 2 återkallade per telefon ${today} (Karin Holm)<br><span class="note">Anteckning: Ringde</span>`,
    );
  },
);

tap.test('who sees what: another organisation gets 404; a team organisation the status only', async (t) => {
  const s = await staffPages(t);
  const consent = await s.lindqvist('saga');
  const amira = await s.loggedIn('amira-haddad');
  const karin = await s.loggedIn();
  const csrf = csrfOf((await amira.get('/personal')).body);

  for (const path of ['', '/dokument', '/kvitto', '/lankar']) {
    const page = await amira.get(`/samtycken/${consent.id}${path}`);
    t.equal(page.status, 404, `GET ${path || '/'}`);
    t.match(page.body, 'Sidan finns inte');
  }
  t.equal((await amira.post(`/samtycken/${consent.id}/avbryt`, { _csrf: csrf })).status, 404);
  t.notMatch((await amira.get('/personal')).body, consent.id, 'not in her list');
  t.equal((await karin.get('/samtycken/not-a-uuid')).status, 404);

  // Her organisation joins the consent's team: the status, not the content while pending.
  await s.running.db
    .insertInto('team_members')
    .values({ team_id: s.teamId, organisation_id: s.otherOrganisationId })
    .execute();
  const list = await amira.get('/personal');
  t.match(list.body, consent.id);
  t.notMatch(list.body, 'Saga', 'no name in the list');
  let page = await amira.get(`/samtycken/${consent.id}`);
  t.equal(page.status, 200);
  t.match(page.body, '<span class="status pending">');
  t.notMatch(page.body, 'Saga');
  t.notMatch(page.body, 'Åtgärder');
  t.notMatch(page.body, 'Händelser');
  t.equal((await amira.get(`/samtycken/${consent.id}/dokument`)).status, 403);
  t.equal((await amira.post(`/samtycken/${consent.id}/avbryt`, { _csrf: csrf })).status, 403);

  // Active: the content and the document, still no acts or timeline.
  await s.signAll(consent.id);
  page = await amira.get(`/samtycken/${consent.id}`);
  t.match(page.body, 'Saga Lindqvist');
  t.match(page.body, '/dokument"');
  t.notMatch(page.body, 'Åtgärder');
  const doc = await amira.get(`/samtycken/${consent.id}/dokument`);
  t.equal(doc.status, 200);
});

tap.test('downloads: the form and the receipt as attachments, no-store, and audited', async (t) => {
  const s = await staffPages(t);
  const consent = await s.lindqvist('elsa');
  const b = await s.loggedIn();
  const receiptBefore = await b.get(`/samtycken/${consent.id}/kvitto`);
  t.equal(receiptBefore.status, 404, 'no receipt before completion');

  await s.signAll(consent.id, 'elsa');
  const page = await b.get(`/samtycken/${consent.id}`);
  t.match(page.body, `href="/samtycken/${consent.id}/dokument"`);
  t.match(page.body, `href="/samtycken/${consent.id}/kvitto"`);
  for (const path of ['dokument', 'kvitto']) {
    const res = await fetch(`${s.running.base}/samtycken/${consent.id}/${path}`, {
      headers: { cookie: b.jar.header() },
    });
    t.equal(res.status, 200, path);
    t.equal(res.headers.get('content-type'), 'application/pdf');
    t.match(
      res.headers.get('content-disposition'),
      /^attachment; filename="samtycke-[0-9a-f]{8}(-kvittens)?\.pdf"$/,
    );
    t.equal(res.headers.get('cache-control'), 'no-store');
    const bytes = Buffer.from(await res.arrayBuffer());
    t.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  }
  const events = await s.running.db
    .selectFrom('audit_events')
    .select('action')
    .where('consent_id', '=', consent.id)
    .where('action', '=', 'document_downloaded')
    .execute();
  t.equal(events.length, 2, 'each download is an audit event');
});

tap.test(
  'the timeline says which message went to which role by which channel, and explains checks',
  async (t) => {
    const s = await staffPages(t);
    const consent = await s.lindqvist('elsa');
    const at = s.running.app.clock.now();
    const system = { type: 'system' as const };
    for (const [role, channel] of [
      ['guardian1', 'sms'],
      ['guardian2', 'email'],
    ] as const)
      await appendAuditEvent(s.running.db, {
        consentId: consent.id,
        action: 'notification_sent',
        actor: system,
        at,
        details: { kind: 'invitation', channel, recipient: 'signer', role },
      });
    await appendAuditEvent(s.running.db, {
      consentId: consent.id,
      action: 'status_checked',
      actor: { type: 'staff', staffId: s.staff.staffId, organisationId: s.organisationId },
      at,
      details: { status: 'pending' },
    });
    const b = await s.loggedIn();
    const page = await b.get(`/samtycken/${consent.id}`);
    // Regression (issue 13): "Meddelande skickades (Tjänsten)", once per message, said nothing.
    t.notMatch(page.body, 'Meddelande skickades');
    t.notMatch(page.body, '(Tjänsten)');
    t.match(page.body, 'Inbjudan att signera skickades till vårdnadshavare 1 med sms</li>');
    t.match(page.body, 'Inbjudan att signera skickades till vårdnadshavare 2 med e-post</li>');
    t.notMatch(page.body, '<dt>Kontrollerad</dt>');
    t.match(page.body, '<dt>Status räknad</dt>');
    t.match(page.body, 'räknas fram på nytt varje gång sidan visas');
    t.match(page.body, 'Ett verksamhetssystem har frågat tjänsten om samtyckets status en gång');
  },
);

tap.test(
  'a team partner: limited rows explained, the name while active, and a search by child',
  async (t) => {
    const s = await staffPages(t);
    const consent = await s.lindqvist('saga');
    await s.running.db
      .insertInto('team_members')
      .values({ team_id: s.teamId, organisation_id: s.otherOrganisationId })
      .execute();
    const amira = await s.loggedIn('amira-haddad');
    let list = await amira.get('/personal');
    // Regression (issue 13): a bare "Visa status" with no word on why the name is missing.
    t.notMatch(list.body, 'Visa status');
    t.match(list.body, 'Namnet visas bara medan samtycket gäller');
    t.notMatch(list.body, 'Saga');
    let page = await amira.get(`/samtycken/${consent.id}`);
    t.match(page.body, 'Samtycket har begärts av en annan verksamhet i ditt HLT-team.');

    // The search form posts the number; it never goes into a URL.
    t.match(list.body, '<form method="post" action="/personal/sok"');
    const csrf = csrfOf(list.body);
    const saga = s.person('saga-lindqvist');
    const bad = await amira.post('/personal/sok', { _csrf: csrf, personalNumber: '20990101-1234' });
    t.equal(bad.status, 400);
    t.match(bad.body, 'id="sok-personnummer-error">Personnumret är inte giltigt.');
    t.equal((await amira.post('/personal/sok', { personalNumber: saga.personalNumber })).status, 403, 'CSRF');
    let found = await amira.post('/personal/sok', { _csrf: csrf, personalNumber: saga.personalNumber });
    t.equal(found.status, 200);
    wellFormed(t, found.body, 'search result');
    t.match(found.body, `href="/samtycken/${consent.id}"`);
    t.match(found.body, 'Namnet visas bara medan samtycket gäller');
    t.notMatch(found.body, 'Saga Lindqvist', 'no name while pending');
    const lookups = await s.running.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id'])
      .where('consent_id', '=', consent.id)
      .where('action', '=', 'looked_up_by_child')
      .execute();
    t.equal(lookups.length, 1, 'the search is audited');
    t.equal(lookups[0]!.actor_type, 'staff');

    await s.signAll(consent.id);
    list = await amira.get('/personal');
    t.match(list.body, 'Saga Lindqvist', 'the name while active');
    found = await amira.post('/personal/sok', { _csrf: csrf, personalNumber: saga.personalNumber });
    t.match(found.body, 'Saga Lindqvist');
    page = await amira.get(`/samtycken/${consent.id}`);
    t.match(page.body, `href="/samtycken/${consent.id}/dokument"`);
    const none = await amira.post('/personal/sok', {
      _csrf: csrf,
      personalNumber: s.person('anna-lindqvist').personalNumber,
    });
    t.match(none.body, 'Inga samtycken hittades för det personnumret.');
  },
);

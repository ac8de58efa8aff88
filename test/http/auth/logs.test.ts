// No personal identity number (10- or 12-digit, with or without separator), name or e-mail address in
// any redirect Location, any Set-Cookie or any log line of a tour through every login path: signer login,
// refusals, fresh identification, staff login, logout. The logger masks numbers as a last resort, so the
// test also checks that no mask (and no censored key) was ever needed: nothing even tried to log them.
import tap from 'tap';
import { startActIdentification } from '../../../src/http/auth/index.ts';
import { csrfField } from '../../../src/http/csrf-field.ts';
import { LOA } from '../../../src/identity/claims.ts';
import { Browser, hiddenValue, startApp } from '../../fixtures/app.ts';
import { assertNothingPersonal, person } from '../../fixtures/people.ts';

tap.test('a tour through every login path leaves no personal data in URLs, cookies or logs', async (t) => {
  const running = await startApp(t, {
    env: { OIDC_ACR_VALUES: LOA.loa3 },
    beforeListen: ({ app }) => {
      app.get('/test/form', async (request, reply) => reply.type('text/html').send(csrfField(request)));
      app.post('/test/act', async (request, reply) =>
        startActIdentification(request, reply, { act: { kind: 'test', data: {} }, returnTo: '/test/form' }),
      );
      app.acts.set('test', async (_request, reply) => reply.redirect('/test/form', 303));
    },
  });
  const { app, db, logs } = running;
  const browsers: Browser[] = [];
  const browser = () => {
    const b = new Browser(running.base);
    browsers.push(b);
    return b;
  };
  const anna = person('anna-lindqvist');
  const saga = person('saga-lindqvist');
  const karin = person('karin-holm');
  const valid = person('elsa-lindqvist').personalNumber;
  const invalid = `${valid.slice(0, 11)}${(Number(valid[11]) + 1) % 10}`;

  // A signer: claims only from userinfo, then a stale and a fresh identification for an act.
  const b = browser();
  t.equal(
    (await b.login('/auth/login?returnTo=/test/form', { person: anna.key, delivery: 'userinfo' })).status,
    303,
  );
  const token = hiddenValue((await b.get('/test/form')).body, '_csrf')!;
  const fresh = { path: '/test/act', form: { _csrf: token } };
  t.equal((await b.login(fresh, { person: anna.key, delivery: 'userinfo', stale: true })).status, 401);
  t.equal((await b.login(fresh, { person: anna.key, delivery: 'userinfo' })).status, 303);

  // Refusals: a typed invalid number, a typed valid one with the wrong acr, no number, a replay, a wrong state.
  t.equal(
    (await browser().login('/auth/login', { number: invalid, unchecked: true, name: saga.name })).status,
    400,
  );
  t.equal(
    (
      await browser().login('/auth/login', {
        number: saga.personalNumber.slice(2),
        name: saga.name,
        acr: LOA.loa2,
      })
    ).status,
    403,
  );
  t.equal((await browser().login('/auth/login', { omitNumber: true, name: saga.name })).status, 400);
  const replayer = browser();
  const done = await replayer.login('/auth/login', { person: saga.key });
  t.equal((await replayer.get(done.callbackUrl.href)).status, 400);
  const wrong = new URL(done.callbackUrl);
  wrong.searchParams.set('state', 'wrong');
  t.equal((await replayer.get(wrong.href)).status, 400);

  // Staff: first login binds by e-mail; an unknown one is refused; logout at the provider.
  await db.insertInto('staff_users').values({ email: karin.email!, name: karin.name }).execute();
  const s = browser();
  t.equal((await s.login('/auth/staff/login', { person: karin.key })).status, 303);
  t.equal((await browser().login('/auth/staff/login', { person: 'johan-oberg' })).status, 403);
  const staffToken = hiddenValue((await s.get('/test/form')).body, '_csrf')!;
  t.equal((await s.post('/auth/logout', { _csrf: staffToken })).status, 303);
  t.equal((await b.post('/auth/logout', {})).status, 403, 'a logout without its token');

  const urls = browsers.flatMap((x) => x.locations);
  const cookies = browsers.flatMap((x) => x.cookiesReceived);
  t.ok(urls.length > 30, `${urls.length} URLs`);
  t.ok(cookies.length > 20, `${cookies.length} Set-Cookie lines`);
  t.ok(logs.length > 50, `${logs.length} log lines`);

  const numbers = [anna.personalNumber, saga.personalNumber, karin.personalNumber, valid, invalid];
  const names = [anna.name, anna.familyName, saga.name, karin.name, karin.familyName];
  const emails = [karin.email!, person('johan-oberg').email!];
  assertNothingPersonal(
    t,
    { urls, cookies, logs },
    { numbers, words: [...names, ...emails], masks: ['[personnummer]', '[e-post]', '[censurerat]'] },
  );

  // What the log does say: who kind of login, how it went, and why not.
  const events = logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.audience || l.reason);
  const summary = events.map((e) =>
    [e.msg, e.audience ?? null, e.errorCode ?? null, e.reason ?? null].join(' '),
  );
  t.match(summary, [
    'logged in signer',
    'login refused signer fresh_auth_required before_act',
    'identified again signer',
    'identified for an act signer',
    'login refused signer identity_invalid invalid_number',
    'login refused signer acr_not_accepted',
    'login refused signer identity_invalid missing_number',
    'logged in signer',
    'login refused  login_state_invalid consumed',
    'login refused  login_state_invalid unknown',
    'logged in staff',
    'login refused staff staff_unknown unknown',
    'logged out staff',
  ]);
  void app;
});

import t from 'tap';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { addDays, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import { clearCapturedMail, listCapturedMail } from '../../src/dev/mail-capture.ts';
import {
  drainJobs,
  idle,
  familyRequest,
  nguyenRequest,
  type Setup,
  setup,
  signerActor,
} from '../fixtures/consents.ts';
import { build } from '../helper.ts';

const JOBS = ['consent-lapse', 'consent-ending-soon', 'notify'];

async function active(s: Setup) {
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
    confirmSoleGuardian: true,
  });
  const done = await signConsent(s.ctx, signerActor('youth', s.person('minh-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
  });
  return { id: created.id, validUntil: done.validUntil! };
}

t.test('a lapsed request: audited at the instant it lapsed, requester and signers told, once', async (t) => {
  clearCapturedMail();
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await drainJobs(s.app);
  clearCapturedMail();
  s.clock.set(new Date(created.requestExpiresAt.getTime() - 1));
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 0, endingSoon: 0 });
  s.clock.set(new Date(created.requestExpiresAt.getTime() + 6.5 * 3_600_000));
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 1, endingSoon: 0 });
  await drainJobs(s.app, JOBS);
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 0, endingSoon: 0 }, 'handled');
  const events = await listAuditEvents(s.db, created.id);
  const lapsed = events.filter((e) => e.action === 'request_expired');
  t.equal(lapsed.length, 1);
  t.same(lapsed[0]!.at, created.requestExpiresAt, 'dated when it happened');
  t.match(lapsed[0], { actor: { type: 'system' }, details: { reason: 'request_lifetime_passed' } });
  const mails = listCapturedMail();
  t.same(mails.map((m) => [m.to, m.subject]).sort(), [
    ['karin.holm@exempelby.example', 'En förfrågan om samtycke har gått ut'],
    ['mai@hem.example', 'Förfrågan om samtycke har gått ut'],
  ]);
});

t.test('ending soon (30 days before) to the requester, then expired to everyone', async (t) => {
  clearCapturedMail();
  const s = await setup(t);
  const consent = await active(s);
  await drainJobs(s.app);
  clearCapturedMail();
  const lastDay = localDateOf(new Date(consent.validUntil.getTime() - 1));
  const noticeFrom = startOfLocalDay(addDays(localDateOf(consent.validUntil), -30));

  s.clock.set(new Date(noticeFrom.getTime() - 1));
  t.same(
    await s.app.jobs.runNow('consent-time-events', {}),
    { lapsed: 0, endingSoon: 0 },
    'not the day before',
  );
  // The item job decides with the domain rule, whatever queued it.
  await s.app.jobs.send('consent-ending-soon', { consentId: consent.id });
  await drainJobs(s.app, JOBS);
  t.equal(listCapturedMail().length, 0, 'endingSoon says not yet');

  s.clock.set(new Date(noticeFrom.getTime() + 8 * 3_600_000));
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 0, endingSoon: 1 });
  await drainJobs(s.app, JOBS);
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 0, endingSoon: 0 }, 'once');
  let mails = listCapturedMail();
  t.equal(mails.length, 1);
  t.equal(mails[0]!.to, 'karin.holm@exempelby.example');
  t.match(mails[0]!.text, /om 30 dagar/);
  t.ok(mails[0]!.text.includes(String(Number(lastDay.slice(8, 10)))), 'the last day is named');
  t.match(mails[0]!.text, new RegExp(`/samtycken/${consent.id}`));

  s.clock.set(new Date(consent.validUntil.getTime() + 7 * 3_600_000));
  t.same(await s.app.jobs.runNow('consent-time-events', {}), { lapsed: 1, endingSoon: 0 });
  await drainJobs(s.app, JOBS);
  mails = listCapturedMail();
  t.same(
    mails
      .slice(0, 2)
      .map((m) => m.to)
      .sort(),
    ['karin.holm@exempelby.example', 'mai@hem.example'],
  );
  const events = await listAuditEvents(s.db, consent.id);
  t.same(
    events.filter((e) => e.action === 'expired').map((e) => e.at),
    [consent.validUntil],
  );
});

t.test('two instances with workers sweep at once: each lapse and each notice happens once', async (t) => {
  clearCapturedMail();
  const env = { RUN_JOBS: 'true' };
  const s = await setup(t, { env });
  const two = await build(t, { jobs: true, env, clock: s.clock, databaseUrl: s.databaseUrl });
  const consent = await active(s);
  const pending = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  await idle(s.db);
  clearCapturedMail();

  // A day in the ending-soon window of the active consent, long after the pending request lapsed.
  const noticeFrom = startOfLocalDay(addDays(localDateOf(consent.validUntil), -30));
  s.clock.set(new Date(noticeFrom.getTime() + 8 * 3_600_000));
  const sweeps = (await Promise.all([
    s.app.jobs.runNow('consent-time-events', {}),
    two.app.jobs.runNow('consent-time-events', {}),
  ])) as { lapsed: number; endingSoon: number }[];
  const lapsed = sweeps.reduce((n, r) => n + r.lapsed, 0);
  const endingSoon = sweeps.reduce((n, r) => n + r.endingSoon, 0);
  t.ok(lapsed >= 1 && endingSoon >= 1, 'the sweeps queued both items');
  await idle(s.db);

  const lapses = (await listAuditEvents(s.db, pending.id)).filter((e) => e.action === 'request_expired');
  t.equal(lapses.length, 1, 'the request lapsed once');
  const perMail = new Map<string, number>();
  for (const m of listCapturedMail())
    perMail.set(`${m.to} ${m.subject}`, (perMail.get(`${m.to} ${m.subject}`) ?? 0) + 1);
  t.ok(perMail.size >= 2, 'the lapse and the ending-soon notice were sent');
  t.same(
    [...perMail.values()].filter((n) => n > 1),
    [],
    'no one got the same message twice',
  );
  t.equal(
    listCapturedMail().filter((m) => m.text.includes('om 30 dagar')).length,
    1,
    'one ending-soon notice, to the requester',
  );
});

t.test('identity clean-up removes expired login attempts and sessions in batches', async (t) => {
  const s = await setup(t);
  const now = s.clock.now();
  const past = new Date(now.getTime() - 1000);
  const future = new Date(now.getTime() + 3_600_000);
  const attempt = (i: number, expires: Date) => ({
    state_hash: `state-${i}`,
    nonce: 'n',
    code_verifier: 'v',
    audience: 'signer' as const,
    return_to: '/',
    browser_binding: 'b',
    expires_at: expires,
  });
  await s.db
    .insertInto('login_attempts')
    .values([attempt(1, past), attempt(2, past), attempt(3, future)])
    .execute();
  const session = (i: number, expires: Date, ended: Date | null = null) => ({
    id_hash: `session-${i}`,
    audience: 'signer' as const,
    issuer: 'http://localhost:3000/dev-idp',
    subject: `sub-${i}`,
    csrf_token: 'c',
    expires_at: expires,
    ended_at: ended,
  });
  await s.db
    .insertInto('sessions')
    .values([session(1, past), session(2, future, past), session(3, future)])
    .execute();
  t.same(await s.app.jobs.runNow('identity-cleanup', { batchSize: 1 }), { loginAttempts: 2, sessions: 2 });
  t.same(
    (await s.db.selectFrom('login_attempts').select('state_hash').execute()).map((r) => r.state_hash),
    ['state-3'],
  );
  t.same(
    (await s.db.selectFrom('sessions').select('id_hash').execute()).map((r) => r.id_hash),
    ['session-3'],
  );
});

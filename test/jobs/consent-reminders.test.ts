import { sql } from 'kysely';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { consentContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { remindSigners } from '../../src/consents/remind-signers.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { clearCapturedMail, listCapturedMail } from '../../src/dev/mail-capture.ts';
import { clearCapturedSms, listCapturedSms } from '../../src/dev/sms-capture.ts';
import {
  drainJobs,
  idle,
  familyRequest,
  seedOrganisations,
  setup,
  signerActor,
} from '../fixtures/consents.ts';
import { peopleAt } from '../fixtures/people.ts';
import { build } from '../helper.ts';

const DAY = 86_400_000;
const reminders = () => listCapturedMail().filter((m) => m.subject.startsWith('Påminnelse'));

t.test('reminders after 3 and 7 days to those who have not answered, each once', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  await drainJobs(s.app);
  const sweep = () => s.app.jobs.runNow('consent-reminders', {});

  s.clock.advance(3 * DAY - 60_000);
  t.same(await sweep(), { consents: 0, queued: 0 }, 'not yet on day 3 minus a minute');
  s.clock.advance(60_000);
  t.same(await sweep(), { consents: 1, queued: 4 }, 'three e-mails and one SMS');
  await drainJobs(s.app);
  t.same(
    reminders()
      .map((m) => m.to)
      .sort(),
    ['anna@hem.example', 'erik@hem.example', 'saga@hem.example'],
  );
  t.same(await sweep(), { consents: 0, queued: 0 }, 'a second sweep finds them sent');

  await signConsent(s.ctx, signerActor('guardian1', s.person('anna-lindqvist'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
  });
  s.clock.advance(4 * DAY);
  t.same(await sweep(), { consents: 1, queued: 2 }, 'day 7: only those who have not signed');
  await drainJobs(s.app);
  t.same(
    reminders()
      .slice(0, 2)
      .map((m) => m.to)
      .sort(),
    ['erik@hem.example', 'saga@hem.example'],
  );
  t.equal(reminders().length, 5);
  t.equal(
    listCapturedSms().filter((m) => m.text.startsWith('Påminnelse')).length,
    1,
    'Anna had her SMS on day 3 only',
  );

  // Each reminder made a new link and revoked the one before on that channel.
  const live = await s.db
    .selectFrom('invitations')
    .select(['role', 'channel'])
    .where('consent_id', '=', created.id)
    .where('revoked_at', 'is', null)
    .where('used_at', 'is', null)
    .execute();
  t.same(live.map((r) => `${r.role}:${r.channel}`).sort(), [
    'guardian2:email',
    'guardian2:link',
    'youth:email',
    'youth:link',
  ]);
});

t.test('a request first swept on day 8 gets the day-7 reminder only; none after a manual one', async (t) => {
  clearCapturedMail();
  const s = await setup(t);
  const a = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  const b = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  s.clock.advance(8 * DAY);
  await remindSigners(s.ctx, s.staff, { consentId: b.id });
  t.same(await s.app.jobs.runNow('consent-reminders', {}), { consents: 1, queued: 3 });
  const sent = await drainJobs(s.app);
  t.ok(sent.length >= 3);
  const ledger = await s.db
    .selectFrom('notifications_sent')
    .select(['consent_id', 'occasion'])
    .where('kind', '=', 'reminder')
    .execute();
  t.same([...new Set(ledger.filter((r) => r.consent_id === a.id).map((r) => r.occasion))], ['d7']);
  t.ok(
    ledger.filter((r) => r.consent_id === b.id).every((r) => r.occasion.startsWith('manual:')),
    'b: only the manual reminder',
  );
});

t.test('two instances with workers never send the same reminder twice', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const clock = fixedClock(new Date());
  const env = { RUN_JOBS: 'true' };
  const one = await build(t, { jobs: true, env, clock });
  const two = await build(t, { jobs: true, env, clock, databaseUrl: one.databaseUrl });
  const org = await seedOrganisations(one.db);
  const ctx = consentContext(one.app);
  const s = { teamId: org.teamId, person: peopleAt(clock).person };
  const consents = [];
  for (let i = 0; i < 2; i++) consents.push(await createConsentRequest(ctx, org.staff, familyRequest(s)));
  await idle(one.db);
  t.equal(listCapturedMail().length, 6, 'the invitations, once each');

  clock.advance(3 * DAY);
  // Both instances sweep at once: duplicates reach the queue, never the recipients.
  const sweeps = await Promise.all([
    one.app.jobs.runNow('consent-reminders', { batchSize: 1 }),
    two.app.jobs.runNow('consent-reminders', { batchSize: 1 }),
  ]);
  // Each sweep finds all eight messages (2 consents × 3 e-mails + 1 SMS). The queue lets one job per
  // message wait (singleton key, 'short' policy); only a job a worker took in between may come again,
  // and on a busy machine the workers may take all eight before the second sweep looks.
  const queued = sweeps.reduce((n: number, r) => n + (r as { queued: number }).queued, 0);
  t.ok(queued >= 8 && queued <= 16, `${queued} jobs queued by two sweeps of eight messages`);
  const twice = await sql`
    SELECT singleton_key FROM pgboss.job WHERE name = 'notify' AND state = 'created'
    GROUP BY singleton_key HAVING count(*) > 1`.execute(one.db);
  t.same(twice.rows, [], 'never two jobs waiting for one message');
  await idle(one.db);
  const sent = reminders();
  t.equal(sent.length, 6, 'two consents × three signers by e-mail');
  const perAddress = new Map<string, number>();
  for (const m of sent) perAddress.set(m.to, (perAddress.get(m.to) ?? 0) + 1);
  t.same([...perAddress.values()], [2, 2, 2], 'each address once per consent');
  t.equal(
    listCapturedSms().filter((m) => m.text.startsWith('Påminnelse')).length,
    2,
    'one SMS reminder per consent',
  );
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'notify' AND state = 'completed'`.execute(one.db);
  t.equal(rows[0]!.n, 8 + queued, 'every job was worked; any repeat found the ledger');
  const ledger = await one.db
    .selectFrom('notifications_sent')
    .select('kind')
    .where('kind', '=', 'reminder')
    .execute();
  t.equal(ledger.length, 8);
});

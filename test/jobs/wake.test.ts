// Messages go out when the request commits, not at the next poll (issue 13, section 5), and still exactly
// once with two instances racing for them. The polling interval here is ten minutes: anything that
// arrives within seconds came by the wake-up path.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { sql } from 'kysely';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { consentContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { clearCapturedMail, listCapturedMail } from '../../src/dev/mail-capture.ts';
import { NOTIFY_JOB, notificationKey, notificationPayload } from '../../src/notify/payload.ts';
import { kyselyExecutor, queueNotifications } from '../../src/consents/notifications/queue-notifications.ts';
import { toSigners } from '../../src/consents/notifications/recipients.ts';
import { clearCapturedSms, listCapturedSms } from '../../src/dev/sms-capture.ts';
import { listenForWakeUps, wakeWorkersOnCommit } from '../../src/jobs/wake.ts';
import { idle, familyRequest, seedOrganisations } from '../fixtures/consents.ts';
import { peopleAt } from '../fixtures/people.ts';
import { build } from '../helper.ts';

const LONG_POLL = { RUN_JOBS: 'true', JOB_POLLING_INTERVAL_SECONDS: '600' };
const invitations = () => listCapturedMail().filter((m) => m.subject.includes('samtycke'));

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return what();
}

/** The workers' first fetch (at start) has come back empty: from now on they sleep the polling interval. */
const settle = () => new Promise((r) => setTimeout(r, 700));

function requestFor(clock: { now(): Date }, teamId: string) {
  return familyRequest({ teamId, person: peopleAt(clock).person });
}

t.test('a committed request wakes the workers: its messages go out without waiting for a poll', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const clock = fixedClock(new Date());
  const { app, db } = await build(t, { jobs: true, env: LONG_POLL, clock });
  await app.ready();
  const org = await seedOrganisations(db);
  await settle();

  const started = Date.now();
  await createConsentRequest(consentContext(app), org.staff, requestFor(clock, org.teamId));
  const arrived = await until(() => invitations().length === 3 && listCapturedSms().length === 1, 15_000);
  t.ok(arrived, 'three e-mails and one SMS, long before the ten-minute poll');
  t.comment(`handed over after ${Date.now() - started} ms`);

  // A transaction that rolls back wakes nobody and leaves nothing to send.
  const before = listCapturedMail().length;
  await t.rejects(
    db.transaction().execute(async (tx) => {
      await wakeWorkersOnCommit(tx, NOTIFY_JOB);
      throw new Error('rolled back');
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  t.equal(listCapturedMail().length, before, 'nothing more was sent');
});

t.test('two instances woken together send each message exactly once', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const clock = fixedClock(new Date());
  const one = await build(t, { jobs: true, env: LONG_POLL, clock, captureLogs: true });
  const two = await build(t, {
    jobs: true,
    env: LONG_POLL,
    clock,
    captureLogs: true,
    databaseUrl: one.databaseUrl,
  });
  await Promise.all([one.app.ready(), two.app.ready()]);
  const org = await seedOrganisations(one.db);
  // Requests made without the queue, so that this test queues their messages itself, with duplicates.
  const quiet = { ...consentContext(one.app), jobs: undefined };
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await createConsentRequest(quiet, org.staff, requestFor(clock, org.teamId))).id);
  const signers = await one.db
    .selectFrom('consent_signers')
    .select(['consent_id', 'role', 'email', 'phone'])
    .execute();
  const messages = ids.flatMap((id) =>
    toSigners(
      'invitation',
      id,
      signers.filter((s) => s.consent_id === id),
    ),
  );
  t.equal(messages.length, 20, 'five requests × (three e-mails and one SMS)');
  await settle();

  // Each message three times: once as the use cases queue it, twice more as a retry or a second sweep
  // might, from the other instance's queue, all in one commit that wakes all eight workers of both
  // instances at once. (The queue keeps one waiting job per singleton key, so the repeats get keys of
  // their own; the handler sees the same payload.)
  await one.db.transaction().execute(async (tx) => {
    await queueNotifications(tx, one.app.jobs, messages);
    for (const m of messages) {
      const payload = notificationPayload.parse(m);
      for (const k of [1, 2])
        await two.app.jobs.boss.send(NOTIFY_JOB, payload, {
          db: kyselyExecutor(tx),
          singletonKey: `${notificationKey(payload)}#repeat${k}`,
        });
    }
  });
  const arrived = await until(() => invitations().length >= 15 && listCapturedSms().length >= 5, 15_000);
  t.ok(arrived, 'all messages handed over without a poll');
  await idle(one.db);

  const perAddress = new Map<string, number>();
  for (const m of invitations()) perAddress.set(m.to, (perAddress.get(m.to) ?? 0) + 1);
  t.same(
    Object.fromEntries(perAddress),
    { 'anna@hem.example': 5, 'erik@hem.example': 5, 'saga@hem.example': 5 },
    'each address once per request',
  );
  t.equal(listCapturedSms().length, 5, 'one SMS per request');
  const ledger = await one.db.selectFrom('notifications_sent').select('consent_id').execute();
  t.equal(ledger.length, 20, 'twenty rows in the send ledger');
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'notify' AND state = 'completed'`.execute(one.db);
  t.equal(rows[0]!.n, 60, 'all sixty jobs worked; the forty repeats found the ledger');
  const outcomes = (logs: string[]) =>
    logs
      .map((l) => JSON.parse(l) as { msg?: string; sent?: boolean; reason?: string })
      .filter((l) => l.msg === 'notification');
  const all = [...outcomes(one.logs), ...outcomes(two.logs)];
  t.equal(all.filter((o) => o.sent).length, 20, 'twenty sends');
  t.equal(all.filter((o) => o.reason === 'already_sent').length, 40, 'forty found the message sent');
  t.comment(
    `sends by instance: ${outcomes(one.logs).filter((o) => o.sent).length} and ${outcomes(two.logs).filter((o) => o.sent).length}`,
  );
});

t.test(
  'regression: a listener that cannot connect does not stop the start, keeps trying, and closes',
  async (t) => {
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Parameters<
      typeof listenForWakeUps
    >[2];
    // Nothing listens on port 1: every attempt fails at once.
    const listener = await listenForWakeUps('postgres://postgres@127.0.0.1:1/none', () => {}, log);
    t.match(warnings, ['job wake-up listener could not connect; polling continues, retrying']);
    await new Promise((r) => setTimeout(r, 700));
    t.ok(
      warnings.some((w) => w.includes('could not reconnect')),
      'it tried again (the first retry comes after half a second)',
    );
    await listener.close();
    const after = warnings.length;
    await new Promise((r) => setTimeout(r, 1200));
    t.equal(warnings.length, after, 'closed: no more attempts');
  },
);

t.test('regression: close() while a reconnect is connecting leaves no connection behind', async (t) => {
  // A TCP relay to the test database that can drop its connections and hold new ones back for a while:
  // the listener's connection is dropped, and close() comes while its next attempt is connecting.
  const { databaseUrl } = await build(t);
  const target = new URL(databaseUrl);
  let holdMs = 0;
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    setTimeout(() => {
      const upstream = connect(Number(target.port || 5432), target.hostname, () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      sockets.add(upstream);
      upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
      client.on('close', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    }, holdMs);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  const via = new URL(databaseUrl);
  via.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`;

  const log = { warn: () => {} } as unknown as Parameters<typeof listenForWakeUps>[2];
  const listener = await listenForWakeUps(via.href, () => {}, log);
  t.equal(sockets.size, 2, 'listening through the relay');
  // Drop it; the next attempt starts half a second later and is held 600 ms: close() comes in between.
  holdMs = 600;
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 800));
  t.ok(sockets.size >= 1, 'a new attempt is connecting');
  await listener.close();
  await new Promise((r) => setTimeout(r, 900));
  t.equal(sockets.size, 0, 'the attempt that connected after close() was ended');
});

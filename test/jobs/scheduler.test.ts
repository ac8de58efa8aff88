// The jobs' schedules (src/jobs/scheduler.ts): each run queued once, by whichever instance looks first.
import { sql } from 'kysely';
import t from 'tap';
import { parseDailySchedule } from '../../src/domain/schedule.ts';
import { defineJob, sweepPayload } from '../../src/jobs/define.ts';
import { jobs } from '../../src/jobs/index.ts';
import {
  runId,
  runKey,
  SCHEDULER_CATCH_UP_MS,
  type ScheduledJob,
  scheduledJobs,
  startScheduler,
} from '../../src/jobs/scheduler.ts';
import { build } from '../helper.ts';

// Housekeeping runs at 03:15 Stockholm time: 02:15 UTC in winter.
const RUN = new Date('2026-11-23T02:15:00Z');
const later = (ms: number) => new Date(RUN.getTime() + ms);

t.test('every job definition has a schedule that reads, with a valid payload', async (t) => {
  const scheduled = scheduledJobs(jobs);
  t.same(scheduled.map((j) => j.name).sort(), [
    'audit-checkpoint',
    'consent-reminders',
    'consent-time-events',
    'housekeeping',
    'identity-cleanup',
    'retention',
  ]);
  t.match(
    scheduled.find((j) => j.name === 'housekeeping'),
    { schedule: { hours: [3], minutes: [15] } },
  );
  const weekly = defineJob({
    name: 'weekly',
    payload: sweepPayload,
    schedule: { cron: '0 9 * * 1', data: {} },
    handler: async () => undefined,
  });
  t.throws(() => scheduledJobs([weekly] as never), /only "<minute> <hour> \* \* \*"/, 'a weekday: refused');
  const badData = defineJob({
    name: 'bad',
    payload: sweepPayload,
    schedule: { cron: '0 9 * * *', data: { batchSize: 0 } },
    handler: async () => undefined,
  });
  t.throws(() => scheduledJobs([badData] as never), 'a payload the job would refuse: refused at start');
});

t.test("a run's id is the same on every instance, and a UUID", async (t) => {
  t.equal(runId('housekeeping', RUN), runId('housekeeping', new Date(RUN.getTime())));
  t.not(runId('housekeeping', RUN), runId('housekeeping', later(60_000)));
  t.not(runId('housekeeping', RUN), runId('retention', RUN));
  t.match(
    runId('housekeeping', RUN),
    /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  t.equal(runKey('housekeeping', RUN), 'schedule:housekeeping@2026-11-23T02:15:00.000Z');
});

t.test('each run is queued once, whichever instance looks, and however often', async (t) => {
  const { app, db } = await build(t, { jobs: true });
  await app.ready();
  const housekeeping: ScheduledJob[] = [
    { name: 'housekeeping', schedule: parseDailySchedule('15 3 * * *'), data: { batchSize: 500 } },
  ];
  const queued = async () =>
    (
      await sql<{ id: string; data: unknown; singleton_key: string }>`
        select id, data, singleton_key from pgboss.job where name = 'housekeeping'`.execute(db)
    ).rows;
  const instance = (startedAt: Date) =>
    startScheduler({
      boss: app.jobs.boss,
      jobs: housekeeping,
      log: app.log,
      now: () => startedAt,
      timer: false,
    });

  // Two instances started 20 s after the run: each looks back a minute, and finds it.
  const a = instance(later(20_000));
  const b = instance(later(20_000));
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await a.tick();
  await b.tick();
  await a.tick(later(30_000)); // a later look by the same instance: nothing new
  t.same(await queued(), [
    { id: runId('housekeeping', RUN), data: { batchSize: 500 }, singleton_key: runKey('housekeeping', RUN) },
  ]);

  // The next day's run, seen by the instance that looked last 24 hours ago.
  await a.tick(later(86_400_000 + 5_000));
  t.equal((await queued()).length, 2, "the next day's run");

  // An instance started longer than the catch-up stretch after the run does not queue it.
  await db
    .deleteFrom(sql`pgboss.job` as never)
    .execute()
    .catch(() => {});
  await sql`delete from pgboss.job where name = 'housekeeping'`.execute(db);
  const late = instance(later(SCHEDULER_CATCH_UP_MS + 1_000));
  t.teardown(() => late.stop());
  await late.tick();
  t.same(await queued(), [], 'a run missed by more than the catch-up stretch is not queued');
});

t.test('a look that fails is tried again at the next, for the same stretch', async (t) => {
  const { app } = await build(t, { jobs: true });
  await app.ready();
  let fail = true;
  const sent: string[] = [];
  const boss = {
    send: async (_name: string, _data: object, options: { singletonKey?: string } = {}) => {
      if (fail) throw new Error('database down');
      sent.push(options.singletonKey ?? '');
      return 'id';
    },
  };
  const scheduler = startScheduler({
    boss: boss as never,
    jobs: [{ name: 'housekeeping', schedule: parseDailySchedule('15 3 * * *'), data: {} }],
    log: app.log,
    now: () => later(10_000),
    timer: false,
  });
  t.teardown(() => scheduler.stop());
  await t.rejects(scheduler.tick(), /database down/);
  fail = false;
  await scheduler.tick(later(40_000));
  t.same(sent, [runKey('housekeeping', RUN)], 'the run from the failed look');
});

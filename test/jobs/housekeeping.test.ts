import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { build } from '../helper.ts';

const NOW = '2026-11-23T03:15:00+01:00';

async function seed(db: Awaited<ReturnType<typeof build>>['db']) {
  const now = new Date(NOW).getTime();
  await db
    .insertInto('idempotency_keys')
    .values([
      { scope: 's', key: 'old-1', request_hash: 'h', expires_at: new Date(now - 1000) },
      { scope: 's', key: 'old-2', request_hash: 'h', expires_at: new Date(now - 86_400_000) },
      { scope: 's', key: 'fresh', request_hash: 'h', expires_at: new Date(now + 1000) },
    ])
    .execute();
}

t.test('housekeeping deletes expired idempotency keys in batches and records the run', async (t) => {
  const { app, db } = await build(t, { jobs: true, clock: fixedClock(NOW) });
  await seed(db);
  const result = await app.jobs.runNow('housekeeping', { batchSize: 1 });
  t.same(result, { deleted: 2 });
  const left = await db.selectFrom('idempotency_keys').select('key').execute();
  t.same(left, [{ key: 'fresh' }]);
  const runs = await db.selectFrom('housekeeping_runs').selectAll().execute();
  t.equal(runs.length, 1);
  t.equal(runs[0]?.deleted_rows, 2);
});

t.test('a malformed payload is refused before it is queued', async (t) => {
  const { app } = await build(t, { jobs: true });
  await t.rejects(app.jobs.send('housekeeping', { batchSize: -5 }));
  await t.rejects(app.jobs.send('housekeeping', { unexpected: true }));
  await t.rejects(app.jobs.send('no-such-job', {}));
});

t.test(
  'with RUN_JOBS on, a queued job is worked by pg-boss, and the schedules pg-boss kept are gone',
  async (t) => {
    // A database an earlier version ran on: pg-boss's cron kept the schedule (scheduler.ts keeps none).
    const earlier = await build(t, { jobs: true });
    await earlier.app.jobs.boss.schedule('housekeeping', '15 3 * * *', {}, { tz: 'Europe/Stockholm' });
    await earlier.app.close();
    const { app, db } = await build(t, {
      jobs: true,
      env: { RUN_JOBS: 'true' },
      clock: fixedClock(NOW),
      databaseUrl: earlier.databaseUrl,
    });
    await seed(db);
    const id = await app.jobs.send('housekeeping', {});
    t.ok(id, 'queued');
    const deadline = Date.now() + 20_000;
    let runs: { deleted_rows: number }[] = [];
    while (Date.now() < deadline) {
      runs = await db.selectFrom('housekeeping_runs').select('deleted_rows').execute();
      if (runs.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.same(runs, [{ deleted_rows: 2 }], 'the worker ran the job');
    t.same(await app.jobs.boss.getSchedules(), [], "pg-boss's cron has nothing left to queue");
  },
);

t.test("queues take one waiting job per singleton key ('short'), also queues made before that", async (t) => {
  const first = await build(t, { jobs: true });
  // A queue as an earlier version made it: pg-boss's default policy, which ignores singleton keys.
  await first.app.jobs.boss.updateQueue('notify', { name: 'notify', policy: 'standard' });
  await first.app.close();
  const { app } = await build(t, { jobs: true, databaseUrl: first.databaseUrl });
  t.equal((await app.jobs.boss.getQueue('notify'))?.policy, 'short', 'moved to the policy');
  const queued = [
    await app.jobs.send('housekeeping', { batchSize: 5 }, { singletonKey: 'k' }),
    await app.jobs.send('housekeeping', { batchSize: 5 }, { singletonKey: 'k' }),
    await app.jobs.send('housekeeping', { batchSize: 5 }, { singletonKey: 'other' }),
  ];
  t.ok(queued[0], 'the first is queued');
  t.equal(queued[1], null, 'a second with the same key is not, while the first waits');
  t.ok(queued[2], 'another key is');
});

// pg-boss as a Fastify plugin. Queues are created and jobs can be sent by every instance; workers and
// schedules (scheduler.ts, not pg-boss's cron) only run where RUN_JOBS is on, so an instance can serve HTTP
// without background work.
import fp from 'fastify-plugin';
import PgBoss from 'pg-boss';
import type { JobContext, JobDefinition } from './define.ts';
import { jobs as allJobs } from './index.ts';
import { type Scheduler, scheduledJobs, startScheduler } from './scheduler.ts';
import { listenForWakeUps, type WakeListener } from './wake.ts';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      boss: PgBoss;
      send: JobContext['send'];
      /** Run a job's handler now, in-process, with a validated payload (CLI and tests). */
      runNow: (name: string, data?: object) => Promise<unknown>;
    };
  }
}

export interface JobsPluginOptions {
  connectionString: string;
  runWorkers: boolean;
  definitions?: JobDefinition[];
  /** How often an idle worker looks for work, seconds (default 2). Committed work wakes it sooner. */
  pollingIntervalSeconds?: number;
}

export default fp<JobsPluginOptions>(
  async (app, opts) => {
    const definitions = opts.definitions ?? allJobs;
    const byName = new Map(definitions.map((d) => [d.name, d]));
    const scheduled = scheduledJobs(definitions); // a schedule that does not read stops the start
    const boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: 'pgboss',
      max: 4,
      application_name: 'samtycke-jobs',
      schedule: false, // scheduler.ts
      supervise: opts.runWorkers,
    });
    let stopped = false;
    // After stop, pg-boss may still report its pool's connections being closed by a stopping server.
    boss.on('error', (err) => {
      if (!stopped) app.log.error({ err }, 'job queue error');
    });
    await boss.start();
    // 'short': at most one job per singleton key waiting in a queue, so two instances sweeping at once
    // queue each item once (pg-boss's default policy ignores singleton keys). A job already being worked
    // does not block a new one; the send ledger (notifications_sent) and the handled-at marks make that
    // one a no-op. Queues made before this policy are moved to it. One read finds what is there already
    // (every queue, at any start but the first); the rest are made one by one: two new queues made at once
    // can deadlock (each adds its partition's foreign key to the queue table that the other wrote to).
    const queues = new Map((await boss.getQueues()).map((q) => [q.name, q.policy]));
    for (const def of definitions) {
      if (!queues.has(def.name)) await boss.createQueue(def.name, { name: def.name, policy: 'short' });
      const policy = queues.get(def.name) ?? (await boss.getQueue(def.name))?.policy;
      if (policy !== 'short') await boss.updateQueue(def.name, { name: def.name, policy: 'short' });
    }

    const send: JobContext['send'] = async (name, data, options = {}) => {
      const def = byName.get(name);
      if (!def) throw new Error(`unknown job ${name}`);
      const payload = def.payload.parse(data) as object;
      return boss.send(name, payload, {
        ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
        ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      });
    };
    const context = (): JobContext => ({
      db: app.db,
      keys: app.keys,
      config: app.config,
      clock: app.clock,
      log: app.log,
      jobs: { boss },
      send,
      // The signing plugin is registered after this one; jobs run once the app is ready.
      signing: app.hasDecorator('signing') ? app.signing : undefined,
    });
    const runNow = async (name: string, data: object = {}) => {
      const def = byName.get(name);
      if (!def) throw new Error(`unknown job ${name}`);
      return def.handler(def.payload.parse(data), context());
    };

    let listener: WakeListener | undefined;
    let scheduler: Scheduler | undefined;
    /** RUN_JOBS: the scheduler, the workers, and the listener that wakes them. */
    const startWorkers = async () => {
      const workerIds = new Map<string, string[]>();
      const wake = (queue: string | undefined): void => {
        for (const [name, ids] of workerIds)
          if (queue === undefined || queue === name) for (const id of ids) boss.notifyWorker(id);
      };
      // Work committed anywhere (this instance or another) wakes this instance's workers of that queue. It
      // connects while the workers start: a wake-up before they are there finds none to wake, and each
      // worker looks for work as it starts.
      const listening = listenForWakeUps(opts.connectionString, wake, app.log);
      try {
        // Schedules that pg-boss's cron kept (before scheduler.ts): gone, or an older instance still running
        // would queue those runs a second time.
        await Promise.all((await boss.getSchedules()).map((s) => boss.unschedule(s.name)));
        scheduler = startScheduler({ boss, jobs: scheduled, log: app.log });
        scheduler.tick().catch((err: unknown) => app.log.error({ err }, 'scheduled runs not queued'));
        for (const def of definitions) {
          const ids: string[] = [];
          workerIds.set(def.name, ids);
          // Several workers per queue where the definition asks for them: each takes one job at a time (a
          // job fails or completes on its own, and a slow send holds up only its own worker).
          for (let i = 0; i < (def.workers ?? 1); i++) {
            let id = '';
            id = await boss.work(
              def.name,
              { batchSize: 1, pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2 },
              async ([job]) => {
                if (!job) return;
                // Having found a job, look for the next at once instead of after the polling interval:
                // a burst is worked through without a pause between jobs; an empty fetch ends the run.
                boss.notifyWorker(id);
                const payload = def.payload.parse(job.data);
                return def.handler(payload, {
                  ...context(),
                  log: app.log.child({ job: def.name, jobId: job.id }),
                });
              },
            );
            ids.push(id);
          }
        }
      } finally {
        listener = await listening;
      }
    };
    // Round trips to the database, most of what is left of the queue's start once the queues are there:
    // they run while the rest of the app registers, and the app is ready (onReady) only once they are
    // done, so a failure still stops the start (issue 14).
    const working = opts.runWorkers ? startWorkers() : Promise.resolve();
    working.catch(() => {}); // reported by onReady
    app.addHook('onReady', async () => {
      await working;
    });
    app.decorate('jobs', { boss, send, runNow });
    app.addHook('onClose', async () => {
      await working.catch(() => {});
      await scheduler?.stop();
      await listener?.close();
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      stopped = true;
    });
  },
  { name: 'jobs', dependencies: ['db'] },
);

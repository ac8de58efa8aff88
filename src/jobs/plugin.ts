// pg-boss as a Fastify plugin. Queues are created and jobs can be sent by every instance; workers and
// schedules only run where RUN_JOBS is on, so an instance can serve HTTP without background work.
import fp from 'fastify-plugin';
import PgBoss from 'pg-boss';
import type { JobContext, JobDefinition } from './define.ts';
import { jobs as allJobs } from './index.ts';

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
}

export default fp<JobsPluginOptions>(
  async (app, opts) => {
    const definitions = opts.definitions ?? allJobs;
    const byName = new Map(definitions.map((d) => [d.name, d]));
    const boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: 'pgboss',
      max: 4,
      application_name: 'samtycke-jobs',
      schedule: opts.runWorkers,
      supervise: opts.runWorkers,
    });
    let stopped = false;
    // After stop, pg-boss may still report its pool's connections being closed by a stopping server.
    boss.on('error', (err) => {
      if (!stopped) app.log.error({ err }, 'job queue error');
    });
    await boss.start();
    for (const def of definitions) {
      // 'short': at most one job per singleton key waiting in a queue, so two instances sweeping at once
      // queue each item once (pg-boss's default policy ignores singleton keys). A job already being worked
      // does not block a new one; the send ledger (notifications_sent) and the handled-at marks make that
      // one a no-op. Queues made before this policy are moved to it.
      await boss.createQueue(def.name, { name: def.name, policy: 'short' });
      if ((await boss.getQueue(def.name))?.policy !== 'short')
        await boss.updateQueue(def.name, { name: def.name, policy: 'short' });
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
      config: app.config,
      clock: app.clock,
      log: app.log,
      send,
    });
    const runNow = async (name: string, data: object = {}) => {
      const def = byName.get(name);
      if (!def) throw new Error(`unknown job ${name}`);
      return def.handler(def.payload.parse(data), context());
    };

    if (opts.runWorkers) {
      for (const def of definitions) {
        await boss.work(def.name, { batchSize: 1 }, async ([job]) => {
          if (!job) return;
          const payload = def.payload.parse(job.data);
          return def.handler(payload, { ...context(), log: app.log.child({ job: def.name, jobId: job.id }) });
        });
        if (def.schedule) {
          await boss.schedule(def.name, def.schedule.cron, def.payload.parse(def.schedule.data) as object, {
            tz: 'Europe/Stockholm',
          });
        }
      }
    }
    app.decorate('jobs', { boss, send, runNow });
    app.addHook('onClose', async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      stopped = true;
    });
  },
  { name: 'jobs', dependencies: ['db'] },
);

// The jobs' schedules (JobDefinition.schedule): each instance with RUN_JOBS on looks every half minute for
// the runs that came since it last looked (src/domain/schedule.ts, Europe/Stockholm times of day) and queues
// each one. Every instance does, so a run is queued while any of them is up, and each run is one job: its id
// is made from the job's name and the run's instant (`runId`), and pg-boss inserts a job whose id is taken
// as nothing (ON CONFLICT DO NOTHING), whatever state the first is in, until it is archived hours later.
//
// Why not pg-boss's own cron: it reads each schedule with cron-parser and luxon, 35–110 ms of the event loop
// every minute (and at start) for our six daily times on a small machine; these are microseconds.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type PgBoss from 'pg-boss';
import { type DailySchedule, parseDailySchedule, runsBetween } from '../domain/schedule.ts';
import type { JobDefinition } from './define.ts';

/** How often an instance looks for runs. */
export const SCHEDULER_TICK_MS = 30_000;
/**
 * How far back the first look reaches: a run that came during a restart (a deploy at 09:00) is still queued,
 * as pg-boss's cron did for a minute.
 */
export const SCHEDULER_CATCH_UP_MS = 60_000;

export interface ScheduledJob {
  name: string;
  schedule: DailySchedule;
  data: object;
}

/** The definitions' schedules, read and their payloads checked: a bad one stops the start. */
export function scheduledJobs(definitions: JobDefinition[]): ScheduledJob[] {
  return definitions.flatMap((def) =>
    def.schedule
      ? [
          {
            name: def.name,
            schedule: parseDailySchedule(def.schedule.cron),
            data: def.payload.parse(def.schedule.data) as object,
          },
        ]
      : [],
  );
}

/** The singleton key of one run: the job and the run's instant (also what its id is made from). */
export const runKey = (name: string, at: Date) => `schedule:${name}@${at.toISOString()}`;

/** The job id of one run: the same on every instance (a UUID of version 8, from SHA-256 of `runKey`). */
export function runId(name: string, at: Date): string {
  const bytes = createHash('sha256').update(runKey(name, at)).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Scheduler {
  /** Looks for the runs since the last look (or the catch-up stretch) up to `now`, and queues them. */
  tick(now?: Date): Promise<void>;
  stop(): Promise<void>;
}

export function startScheduler(options: {
  boss: Pick<PgBoss, 'send'>;
  jobs: ScheduledJob[];
  log: FastifyBaseLogger;
  /** The wall clock (real time, as pg-boss's cron used: a test's fixed clock would never move on). */
  now?: () => Date;
  /** Look every SCHEDULER_TICK_MS (off in tests that call `tick` themselves). */
  timer?: boolean;
}): Scheduler {
  const now = options.now ?? (() => new Date());
  let last = new Date(now().getTime() - SCHEDULER_CATCH_UP_MS);
  let looking: Promise<void> = Promise.resolve();
  const look = async (to: Date) => {
    const from = last;
    if (to <= from) return;
    for (const job of options.jobs)
      for (const at of runsBetween(job.schedule, from, to)) {
        const id = await options.boss.send(job.name, job.data, {
          id: runId(job.name, at),
          singletonKey: runKey(job.name, at),
        });
        options.log.info({ job: job.name, run: at.toISOString(), queued: id !== null }, 'scheduled run');
      }
    last = to;
  };
  // One look at a time: a slow database must not have two looks queue the same stretch.
  const tick = (at: Date = now()) => {
    looking = looking.catch(() => {}).then(() => look(at));
    return looking;
  };
  const timer =
    options.timer === false
      ? undefined
      : setInterval(() => {
          tick().catch((err: unknown) =>
            options.log.error({ err }, 'scheduled runs not queued (tried again)'),
          );
        }, SCHEDULER_TICK_MS);
  timer?.unref();
  return {
    tick,
    stop: async () => {
      if (timer) clearInterval(timer);
      await looking.catch(() => {});
    },
  };
}

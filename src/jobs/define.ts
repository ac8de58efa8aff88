// A job is a definition (name, zod payload, optional schedule) and a handler. Payloads are validated
// when queued and again when worked, so a malformed job fails loudly instead of doing half its work.
import type { KeyRing } from '../db/encryption.ts';
import type { FastifyBaseLogger } from 'fastify';
import type PgBoss from 'pg-boss';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { Signing } from '../pdf/signing-setup.ts';

export interface JobContext {
  db: Db;
  keys: KeyRing;
  config: Config;
  clock: Clock;
  log: FastifyBaseLogger;
  /** The queue, for use cases that queue their notifications inside their transaction. */
  jobs: { boss: Pick<PgBoss, 'send'> };
  /** The service's signing setup (the audit checkpoint's time stamp), where the app has loaded it. */
  signing?: Signing | undefined;
  /** Queue another job (for sweeps that fan out one job per item). */
  send: (
    name: string,
    data: object,
    options?: { singletonKey?: string; startAfter?: Date },
  ) => Promise<string | null>;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  /**
   * Times of every day in Europe/Stockholm, as a cron line's first two fields ("30 6 * * *"; the other three
   * are "*": src/domain/schedule.ts); each run is queued once across instances (scheduler.ts).
   */
  schedule?: { cron: string; data: z.input<S> };
  /** Workers per instance, each working one job at a time (default 1). */
  workers?: number;
  handler: (payload: z.output<S>, ctx: JobContext) => Promise<unknown>;
}

export const defineJob = <S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> => def;

/** A sweep's payload: how many rows one batch reads. */
export const sweepPayload = z
  .object({ batchSize: z.number().int().min(1).max(10_000).default(200) })
  .strict();

/** An item job's payload: the one consent it acts on. */
export const consentItemPayload = z.object({ consentId: z.uuid() }).strict();

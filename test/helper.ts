// Test helpers: a fresh migrated database per test (cloned from the template `npm test` prepared), the
// app built against it, captured logs, and clean-up in teardown.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';
import { buildApp } from '../src/app.ts';
import type { Clock } from '../src/clock.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { createDb, type Db } from '../src/db/index.ts';
import { createLogger } from '../src/http/logging.ts';
import type { App } from '../src/http/types.ts';
import { projectRoot } from '../src/paths.ts';

function testServer(): { serverUrl: string; template: string } {
  const serverUrl = process.env.SAMTYCKE_TEST_SERVER_URL;
  const template = process.env.SAMTYCKE_TEST_TEMPLATE;
  if (!serverUrl || !template) {
    throw new Error('Run tests with `npm test` (it prepares the database); e.g. `npm test -- test/http`.');
  }
  return { serverUrl, template };
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new database for this test, dropped in teardown. `migrated: false` gives an empty database (no
 * migrations, no job schema) for tests of the migrator itself.
 */
export async function freshDatabase(t: Test, options: { migrated?: boolean } = {}): Promise<string> {
  const { serverUrl, template } = testServer();
  const name = `samtycke_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const from = options.migrated === false ? 'template0' : template;
  await admin(serverUrl, async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${from}`);
        return;
      } catch (e) {
        // 55006: the template is briefly in use by a concurrent CREATE DATABASE; try again.
        if ((e as { code?: string }).code !== '55006' || attempt > 20) throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  t.teardown(() => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  return `${serverUrl}/${name}`;
}

/**
 * Config as the tests want it: development, quiet, no job workers, plus the given variables. PDFs are
 * rendered and verified on the event loop (PDF_RENDER_THREADS=0): a PDF worker loads the PDF libraries
 * through the test loaders again, seconds per test process. The worker path has its own tests
 * (test/pdf/pdf-workers.test.ts, "forms rendered in a worker thread" in test/consents/requests.test.ts),
 * and services started as processes (browser suite, server tests, benchmarks) run with the default.
 */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    SAMTYCKE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    RUN_JOBS: 'false',
    PUBLIC_BASE_URL: 'http://localhost:3000',
    PDF_RENDER_THREADS: '0',
    ...env,
  });
}

export interface BuildResult {
  app: App;
  db: Db;
  config: Config;
  databaseUrl: string;
  /** Every log line the app wrote (JSON strings), when `captureLogs` was set. */
  logs: string[];
}

export interface BuildOptions {
  env?: Record<string, string>;
  clock?: Clock;
  captureLogs?: boolean;
  jobs?: boolean;
  databaseUrl?: string;
}

/** The app on a fresh database, closed in teardown. */
export async function build(t: Test, options: BuildOptions = {}): Promise<BuildResult> {
  const databaseUrl = options.databaseUrl ?? (await freshDatabase(t));
  const logs: string[] = [];
  const config = testConfig(databaseUrl, {
    ...(options.captureLogs ? { LOG_LEVEL: 'debug' } : {}),
    ...options.env,
  });
  const app = await buildApp({
    config,
    databaseUrl,
    ...(options.clock ? { clock: options.clock } : {}),
    logger: createLogger(config.logLevel, { write: (line: string) => logs.push(line) }),
    jobs: options.jobs ?? false,
  });
  t.teardown(() => app.close());
  // Not ready()ed: a test may still add routes; inject() readies the app on first use.
  return { app, db: app.db, config, databaseUrl, logs };
}

/** A Kysely instance on `url`, destroyed in teardown. */
export function openDb(t: Test, url: string): Db {
  const db = createDb(url, { max: 4 });
  t.teardown(() => db.destroy());
  return db;
}

/**
 * The environment of a child process a test starts (the service, a CLI): only `vars` and what the
 * machine needs, with tap's coverage switched off for it. Its coverage would be of tsx-transpiled files
 * that the test processes load through tap's own TypeScript loader; merging the two dropped every such
 * file from the suite's report (a run with the service started as a child reported 8 files and failed
 * the thresholds). The child's own behaviour is what those tests assert.
 */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    _TAPJS_PROCESSINFO_COVERAGE_: '0',
    ...vars,
  };
}

/** Runs a CLI of src/cli/ as its `npm run` script does (tsx), in childEnv(`vars`), from the project. */
export function runCli(
  script: string,
  args: string[],
  vars: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'src', 'cli', script), ...args],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      env: childEnv(vars),
    },
  );
}

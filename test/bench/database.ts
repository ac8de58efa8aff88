// The database a benchmark runs on: a fresh, migrated database on the PostgreSQL server at DATABASE_URL
// when it is set, else on an embedded PostgreSQL in .data/pg-bench; `drop()` removes it again and stops
// the embedded server. `npm test` (test/run.ts) finds its server the same way, in .data/pg-test.
import path from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';
import { createDb } from '../../src/db/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { projectRoot } from '../../src/paths.ts';

export interface DatabaseServer {
  /** `postgres://…` without a database name. */
  serverUrl: string;
  stop: () => Promise<void>;
}

/** The server of DATABASE_URL when set (left running), else an embedded one with its data in .data/<dataDir>. */
export async function databaseServer(dataDir: string): Promise<DatabaseServer> {
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = '';
    return { serverUrl: u.toString().replace(/\/$/, ''), stop: async () => {} };
  }
  const { startEmbeddedDatabase } = await import('../../src/db/embedded.ts');
  const db = await startEmbeddedDatabase({ dataDir: path.join(projectRoot, '.data', dataDir) });
  return { serverUrl: db.serverUrl, stop: db.stop };
}

/** Runs one statement (CREATE / DROP DATABASE) in the server's `postgres` database. */
export async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  databaseUrl: string;
  /** Drops the database and stops an embedded server. */
  drop: () => Promise<void>;
}

/** A fresh, migrated database `name` (one an earlier run left behind is dropped first). */
export async function benchDatabase(name: string): Promise<BenchDatabase> {
  const { serverUrl, stop } = await databaseServer('pg-bench');
  const drop = async () => {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await stop();
  };
  const databaseUrl = `${serverUrl}/${name}`;
  try {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
    const migrator = createDb(databaseUrl, { max: 1 });
    await migrateToLatest(migrator).finally(() => migrator.destroy());
  } catch (error) {
    await drop();
    throw error;
  }
  return { databaseUrl, drop };
}

/**
 * Runs `fn` with what the tests' fixtures need: test/helper.ts clones each database it makes from a
 * template, here the fresh migrated database `template`; `fn`'s teardowns run after it, then the template
 * is dropped.
 */
export async function withTestFixtures<T>(template: string, fn: (t: Test) => Promise<T>): Promise<T> {
  const database = await benchDatabase(template);
  process.env.SAMTYCKE_TEST_SERVER_URL = database.databaseUrl.slice(0, database.databaseUrl.lastIndexOf('/'));
  process.env.SAMTYCKE_TEST_TEMPLATE = template;
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) } as unknown as Test;
  try {
    return await fn(t);
  } finally {
    for (const teardown of teardowns.reverse()) await teardown();
    await database.drop();
  }
}

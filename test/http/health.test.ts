import { sql } from 'kysely';
import t from 'tap';
import { build, freshDatabase } from '../helper.ts';

t.test('live and ready on a migrated database', async (t) => {
  const { app } = await build(t);
  t.equal((await app.inject('/health/live')).statusCode, 200);
  const ready = await app.inject('/health/ready');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready', checks: { database: 'up', migrations: 'current' } });
});

t.test('not ready while migrations are pending', async (t) => {
  const url = await freshDatabase(t, { migrated: false });
  const { app } = await build(t, { databaseUrl: url });
  const res = await app.inject('/health/ready');
  t.equal(res.statusCode, 503);
  t.same(res.json().checks, { database: 'up', migrations: 'pending' });
});

t.test('not ready when the database is down, and no crash', async (t) => {
  const { app } = await build(t, { databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
  const res = await app.inject('/health/ready');
  t.equal(res.statusCode, 503);
  t.same(res.json().checks, { database: 'down', migrations: 'unknown' });
  t.equal((await app.inject('/health/live')).statusCode, 200, 'still alive');
});

t.test('ready once the pending migrations have run', async (t) => {
  const url = await freshDatabase(t, { migrated: false });
  const { app, db } = await build(t, { databaseUrl: url });
  t.equal((await app.inject('/health/ready')).statusCode, 503);
  const { migrateToLatest } = await import('../../src/db/migrate.ts');
  await migrateToLatest(db);
  t.equal((await app.inject('/health/ready')).statusCode, 200);
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM kysely_migration`.execute(db);
  t.ok((rows[0]?.n ?? 0) >= 1);
});

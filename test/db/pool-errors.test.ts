// Regression: the pool's error handler swallowed errors (`pool.on('error', () => {})`), so a database that
// dropped the app's idle connections went unseen. It logs them now, and the process goes on.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import { createDb } from '../../src/db/index.ts';
import { freshDatabase } from '../helper.ts';

t.test('an idle connection the database terminates is logged, and the next query works', async (t) => {
  const url = await freshDatabase(t);
  const logged: { entry: Record<string, unknown>; message: string }[] = [];
  const applicationName = `samtycke_pool_${randomBytes(4).toString('hex')}`;
  const db = createDb(url, {
    max: 1,
    applicationName,
    log: { error: (entry, message) => logged.push({ entry: entry as Record<string, unknown>, message }) },
  });
  t.teardown(() => db.destroy());
  await sql`SELECT 1`.execute(db); // leaves one idle connection in the pool

  const admin = createDb(url, { max: 1 });
  t.teardown(() => admin.destroy());
  await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${applicationName}`.execute(
    admin,
  );
  for (let i = 0; i < 100 && logged.length === 0; i++) await new Promise((r) => setTimeout(r, 20));

  t.equal(logged.length, 1, 'one error logged');
  t.equal(logged[0]?.entry.errorCode, 'db_connection_lost');
  t.equal(logged[0]?.entry.code, '57P01', "PostgreSQL's code (admin shutdown)");
  t.notOk('query' in (logged[0]?.entry ?? {}), 'no query text');
  const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
  t.same(rows, [{ one: 1 }], 'the pool opens a new connection');
});

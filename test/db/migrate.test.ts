import { readdirSync } from 'node:fs';
import { sql } from 'kysely';
import t from 'tap';
import { migrateDownOne, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { migrationsDir } from '../../src/paths.ts';
import { freshDatabase, openDb, runCli } from '../helper.ts';

const migrationFiles = readdirSync(migrationsDir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));

const tables = async (db: ReturnType<typeof openDb>) =>
  (
    await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`.execute(db)
  ).rows.map((r) => r.table_name);

t.test('up, down one step, up again', async (t) => {
  const db = openDb(t, await freshDatabase(t, { migrated: false }));
  t.same(await pendingMigrations(db), migrationFiles.map((f) => f.replace(/\.(ts|js)$/, '')).sort());
  const up = await migrateToLatest(db);
  t.equal(up.length, migrationFiles.length);
  t.same(await pendingMigrations(db), []);
  t.ok((await tables(db)).includes('idempotency_keys'));
  const down = await migrateDownOne(db);
  t.equal(down.length, 1);
  t.equal((await pendingMigrations(db)).length, 1);
  await migrateToLatest(db);
  t.same(await pendingMigrations(db), []);
});

t.test('two instances migrating at once: each migration runs exactly once', async (t) => {
  const url = await freshDatabase(t, { migrated: false });
  const [a, b, c] = [openDb(t, url), openDb(t, url), openDb(t, url)];
  const results = await Promise.all([migrateToLatest(a), migrateToLatest(b), migrateToLatest(c)]);
  t.equal(results.flat().length, migrationFiles.length, 'the work was done once in total');
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM kysely_migration`.execute(a);
  t.equal(rows[0]?.n, migrationFiles.length);
});

t.test('migrations are frozen: they import nothing from the application', async (t) => {
  const { readFileSync } = await import('node:fs');
  for (const f of migrationFiles) {
    const text = readFileSync(`${migrationsDir}/${f}`, 'utf8');
    t.notMatch(text, /from ['"]\.\.?\/(src|\.\.)/, `${f} does not import app code`);
    t.notMatch(text, /from ['"]\.\.\/src/, f);
  }
});

t.test('a failing migration fails the run (no silent success)', async (t) => {
  const { MigrationError } = await import('../../src/db/migrate.ts');
  const db = openDb(t, await freshDatabase(t, { migrated: false }));
  // A table the first migration creates already exists: the migration must fail and say which.
  await sql`CREATE TABLE idempotency_keys (x int)`.execute(db);
  await t.rejects(migrateToLatest(db), MigrationError);
  t.ok((await pendingMigrations(db)).length > 0, 'nothing recorded as done');
});

t.test('`npm run migrate`: up, `-- --down` one step, and a non-zero exit on failure', async (t) => {
  const url = await freshDatabase(t, { migrated: false });
  const run = (...args: string[]) => runCli('migrate.ts', args, { DATABASE_URL: url });
  const up = run();
  t.equal(up.status, 0, up.stderr);
  t.match(up.stdout, /^up /m);
  const down = run('--down');
  t.equal(down.status, 0, down.stderr);
  t.match(down.stdout, /^down /m);
  const again = run();
  t.equal(again.status, 0);
  t.equal(run().stdout.trim(), 'nothing to migrate');
  const broken = runCli('migrate.ts', [], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
  t.equal(broken.status, 1, 'a database that cannot be reached fails the command');
  t.match(broken.stderr, /migrate failed/);
});

// `npm run migrate` runs every pending migration; `npm run migrate -- --down` reverts the last one.
// Exits non-zero on any failure. Uses DATABASE_URL, or the embedded database in development.
import { ConfigError, loadConfig } from '../config.ts';
import { createDb } from '../db/index.ts';
import { migrateDownOne, migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';

try {
  const config = loadConfig();
  const database = await openDatabase(config, (m) => process.stdout.write(`${m}\n`));
  const db = createDb(database.url, { max: 1 });
  try {
    const done = process.argv.includes('--down') ? await migrateDownOne(db) : await migrateToLatest(db);
    process.stdout.write(done.length ? `${done.join('\n')}\n` : 'nothing to migrate\n');
  } finally {
    await db.destroy();
    await database.stop();
  }
} catch (e) {
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\n`);
  else
    process.stderr.write(
      `migrate failed: ${(e as Error).message}${(e as Error).cause ? ` (${String((e as Error).cause)})` : ''}\n`,
    );
  process.exit(1);
}

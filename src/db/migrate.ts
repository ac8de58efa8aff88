// Running migrations/ with Kysely's migrator. Kysely takes a PostgreSQL advisory lock for the run, so
// two instances starting at once run each migration exactly once.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MIGRATION_TABLE,
  FileMigrationProvider,
  type MigrationResultSet,
  Migrator,
  sql,
} from 'kysely';
import { migrationsDir } from '../paths.ts';
import type { Db } from './index.ts';

export function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsDir }),
  });
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

function check(result: MigrationResultSet): string[] {
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error || failed) {
    throw new MigrationError(`migration ${failed?.migrationName ?? '(setup)'} failed`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).map((r) => `${r.direction === 'Up' ? 'up' : 'down'} ${r.migrationName}`);
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateToLatest());
}

export async function migrateDownOne(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateDown());
}

/** Names of migrations in migrations/ that have not run against this database. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}

/** The names FileMigrationProvider gives the migrations in `dir` (their file names without extension). */
async function migrationNames(dir: string): Promise<string[]> {
  const files = await fs.readdir(dir);
  return files
    .filter((f) => /\.(js|mjs)$/.test(f) || (/\.(ts|mts)$/.test(f) && !/\.d\.m?ts$/.test(f)))
    .map((f) => f.slice(0, f.lastIndexOf('.')));
}

/**
 * Whether exactly the migrations in migrations/ have run: one query, where the migrator (migrateToLatest
 * with nothing to do, or pendingMigrations) introspects the schema and imports every migration first, most
 * of a start's database time (issue 14). Any doubt (no migration table yet, a migration missing or one
 * that is not in migrations/) answers false: the migrator then decides, and says what is wrong.
 */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  const [files, executed] = await Promise.all([
    migrationNames(migrationsDir),
    sql<{ name: string }>`SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db).then(
      (result) => result.rows.map((r) => r.name),
      () => undefined,
    ),
  ]);
  if (!executed || executed.length !== files.length) return false;
  const ran = new Set(executed);
  return files.every((name) => ran.has(name));
}

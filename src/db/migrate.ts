// Running migrations/ with Kysely's migrator. Kysely takes a PostgreSQL advisory lock for the run, so
// two instances starting at once run each migration exactly once.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileMigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
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

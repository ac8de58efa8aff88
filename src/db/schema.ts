// Kysely table types. One interface per table; the Database interface maps table names to them.
// Keep in step with migrations/ (the migrations are frozen; these types describe the latest state).
import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface IdempotencyKeyTable {
  key: string;
  scope: string;
  request_hash: string;
  response_status: number | null;
  response_body: unknown | null;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface HousekeepingRunTable {
  id: Generated<number>;
  ran_at: CreatedAt;
  deleted_rows: number;
}

export interface Database {
  idempotency_keys: IdempotencyKeyTable;
  housekeeping_runs: HousekeepingRunTable;
}

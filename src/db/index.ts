// Database access: one Kysely instance over a pg pool; the table types (schema.ts), the migrator and
// batching live beside it. Repositories live with the feature whose tables they serve:
// src/consents/*.repository.ts (consents, audit events, documents, invitations, …) and the modules of
// src/identity/ (organisations.ts, staff.ts, api-clients.ts, sessions.ts, …). Each takes `db` or a
// transaction as its first argument (`DbOrTx` below) and maps rows to domain types.
import {
  type CompiledQuery,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { maskPersonalData } from '../domain/personal-data.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A repository function works inside or outside a transaction. */
export type DbOrTx = Db | Tx;

// BIGINT (int8) and NUMERIC as JS numbers/strings: counts fit in a double; keep NUMERIC exact as string.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

// SQL texts to run as named prepared statements: parsed and planned once per connection instead of on every
// call. Only for the few fixed-text statements of the hot path (`compiledOnce` in batch.ts registers them);
// measured on the status check's audit INSERT, a third less PostgreSQL CPU per statement.
const preparedNames = new Map<string, string>();

/** Runs `sqlText` as a named prepared statement from now on, on every connection. */
export function prepareStatement(sqlText: string): void {
  if (!preparedNames.has(sqlText)) preparedNames.set(sqlText, `samtycke_${preparedNames.size + 1}`);
}

/** Runs `text` on `client`, by name where it is registered. */
function runOn(client: pg.PoolClient, text: string, values: readonly unknown[]) {
  const name = preparedNames.get(text);
  return name ? client.query({ name, text, values: [...values] }) : client.query(text, [...values]);
}

/** The pool as Kysely sees it, with registered statements sent by name. */
function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      const query = (text: unknown, values?: readonly unknown[]) =>
        typeof text === 'string' ? runOn(client, text, values ?? []) : client.query(text as never);
      return { query, release: () => client.release() } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

const pools = new WeakMap<Db, pg.Pool>();

/** The pg pool behind `db` (made by createDb), for figures about it: connections in use, clients waiting. */
export const poolOf = (db: Db): pg.Pool | undefined => pools.get(db);

/**
 * Sends `query` on a pooled connection and resolves as soon as it is written to that connection, before
 * PostgreSQL answers; `result` settles with the answer. pg writes a query to the socket within the
 * `client.query` call when the connection is idle, as one from the pool is (it corks and uncorks the
 * stream around the protocol messages), so once this resolves the statement is in PostgreSQL's hands:
 * it is executed and committed even if this process dies the next instant. For write-behind (write-behind.ts).
 */
export async function sendQuery(db: Db, query: CompiledQuery): Promise<{ result: Promise<pg.QueryResult> }> {
  const pool = pools.get(db);
  if (!pool) throw new Error('sendQuery: not a database made by createDb');
  const client = await pool.connect();
  // A connection the server ends while it is checked out (a restart, an administrator's terminate): the
  // pending query fails with the reason, and the 'error' the client emits when the socket then closes is
  // this listener's, not an uncaught exception (pg-pool listens only while a client is idle).
  const lost = () => {};
  client.on('error', lost);
  const release = (destroy: boolean) => {
    client.removeListener('error', lost);
    client.release(destroy);
  };
  let result: Promise<pg.QueryResult>;
  try {
    result = runOn(client, query.sql, query.parameters);
  } catch (error) {
    release(false);
    throw error;
  }
  // A connection that failed other than by PostgreSQL's answer, or that PostgreSQL ended (SQLSTATE class
  // 57, operator intervention; 08, connection exception), is not reused.
  result.then(
    () => release(false),
    (error: unknown) =>
      release(!(error instanceof pg.DatabaseError) || /^(57|08)/.test(String(error.code ?? ''))),
  );
  return { result };
}

/** A logger as Fastify's (pino) has it: `error(object, message)`. */
export interface ErrorLog {
  error(entry: object, message: string): void;
}

/** Without a logger (scripts, tests): one JSON line on stderr. */
const stderrLog: ErrorLog = {
  error: (entry, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'error', ...entry, msg: message })}\n`),
};

/**
 * The error of a pooled connection lost while idle (a database restart, a network cut): logged, and the
 * process goes on (pg-pool drops that connection; the next query opens a new one). Only the error's code
 * and its message with personal data masked: never the query or its parameters.
 */
function logPoolError(log: ErrorLog, error: Error & { code?: unknown }) {
  log.error(
    {
      errorCode: 'db_connection_lost',
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      error: maskPersonalData(String(error.message)),
    },
    'an idle database connection failed',
  );
}

export function createDb(
  connectionString: string,
  options: { max?: number; applicationName?: string; log?: ErrorLog } = {},
) {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'samtycke',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process, nor go unseen.
  const log = options.log ?? stderrLog;
  pool.on('error', (error) => logPoolError(log, error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  pools.set(db, pool);
  return db;
}

/** Create database `name` on the server if it does not exist (development and tests). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error('invalid database name');
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${name}`).catch((e: { code?: string }) => {
        // Another process created it between our check and create.
        if (e.code !== '42P04' && e.code !== '23505') throw e;
      });
    }
  } finally {
    await client.end();
  }
}

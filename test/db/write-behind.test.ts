// Write-behind (src/db/write-behind.ts) on a real PostgreSQL: a row is on its way to the database before
// `write` resolves, and committed behind it — even when the writing process is killed the next instant;
// passing failures are retried, refused rows are split out and reported, the backlog is bounded, and
// nothing is lost on a graceful close. The status route's audit row, which uses it, is tested at the end.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import t, { type Test } from 'tap';
import type { Db } from '../../src/db/index.ts';
import {
  type DroppedRows,
  onWriteBehindDropped,
  settleWriteBehind,
  WriteBehind,
  type WriteBehindOptions,
} from '../../src/db/write-behind.ts';
import { projectRoot } from '../../src/paths.ts';
import { apiSetup } from '../fixtures/api.ts';
import { freshDatabase, openDb } from '../helper.ts';

interface Row {
  id: number;
  note: string;
}

const insertRows = (db: Db) => (rows: readonly Row[]) =>
  sql`INSERT INTO wb_rows (id, note)
      SELECT id, note FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(id int, note text)`.compile(
    db,
  );

/** A writer of `wb_rows` rows on `db`, with the options a test sets. */
const rowWriter = (db: Db, options: Partial<WriteBehindOptions<Row>> = {}) =>
  new WriteBehind<Row>(db, { name: 'wb_rows', statement: insertRows(db), ...options });

async function scratch(t: Test): Promise<{ url: string; db: Db }> {
  const url = await freshDatabase(t);
  const db = openDb(t, url);
  await sql`CREATE TABLE wb_rows (id int NOT NULL, note text NOT NULL CHECK (note <> 'refused'))`.execute(db);
  return { url, db };
}

/** A second session that holds a lock on `table` that blocks every INSERT until `release()`. */
async function blockInserts(t: Test, url: string, table: string) {
  const c = new pg.Client({ connectionString: url });
  // Outside the lock's transaction: pg_stat_activity is a snapshot for the length of one.
  const observer = new pg.Client({ connectionString: url });
  await c.connect();
  await observer.connect();
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await c.query('COMMIT');
    await c.end();
    await observer.end();
  };
  t.teardown(release);
  return {
    release,
    /** Backends whose INSERT into `table` waits for the lock. */
    async waiting(): Promise<number[]> {
      const { rows } = await observer.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query ~* $1 AND pid <> pg_backend_pid()`,
        [`^\\s*insert into "?${table}"? `],
      );
      return rows.map((r) => r.pid);
    },
    async terminate(pid: number) {
      await observer.query('SELECT pg_terminate_backend($1)', [pid]);
    },
  };
}

async function until(t: Test, what: string, check: () => Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.pass(what);
}

const countRows = async (url: string, text: string, values: unknown[] = []) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(text, values)).rows[0]?.n);
  } finally {
    await c.end();
  }
};

t.test(
  'write resolves once the row is at PostgreSQL, before its commit; settled() waits for it',
  async (t) => {
    const { url, db } = await scratch(t);
    const writer = rowWriter(db);
    const lock = await blockInserts(t, url, 'wb_rows');
    await writer.write({ id: 1, note: 'a' });
    t.equal(writer.uncommitted, 1, 'not committed yet');
    await until(t, 'its INSERT waits at the database', async () => (await lock.waiting()).length === 1);
    t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows'), 0, 'not visible to others yet');
    let settled = false;
    const settling = writer.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    t.notOk(settled, 'settled() waits for the commit');
    await lock.release();
    await settling;
    t.equal(writer.uncommitted, 0);
    t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows'), 1);
  },
);

t.test('a row whose write resolved is committed even if the process is killed at once', async (t) => {
  const { url } = await scratch(t);
  const lock = await blockInserts(t, url, 'wb_rows');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'test/db/fixtures/write-behind-child.ts')],
    {
      cwd: projectRoot,
      env: { ...process.env, WB_DATABASE_URL: url, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_c, s) => resolve(s)),
  );
  t.equal(signal, 'SIGKILL', 'the writer was killed');
  t.match(out, /sent/, 'after its write resolved');
  t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows'), 0, 'nothing committed while locked');
  await lock.release();
  await until(
    t,
    'PostgreSQL commits the row of the dead process',
    async () => (await countRows(url, 'SELECT count(*) AS n FROM wb_rows')) === 1,
  );
});

t.test('a connection lost before the commit: the statement is sent again, the row stored once', async (t) => {
  const { url, db } = await scratch(t);
  const writer = rowWriter(db, { retryDelayMs: 20 });
  const lock = await blockInserts(t, url, 'wb_rows');
  await writer.write({ id: 1, note: 'a' });
  let pids: number[] = [];
  await until(t, 'the INSERT waits', async () => (pids = await lock.waiting()).length === 1);
  await lock.terminate(pids[0]!);
  await until(t, 'it is sent again on another connection', async () => {
    const now = await lock.waiting();
    return now.length === 1 && now[0] !== pids[0];
  });
  await lock.release();
  await writer.settled();
  t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows WHERE id = 1'), 1, 'stored once');
});

t.test('rows PostgreSQL refuses are split out and reported; the rest of the batch is stored', async (t) => {
  const { db } = await scratch(t);
  const dropped: DroppedRows[] = [];
  onWriteBehindDropped(db, (d) => dropped.push(d));
  const writer = rowWriter(db);
  await Promise.all([
    writer.write({ id: 1, note: 'a' }),
    writer.write({ id: 2, note: 'refused' }),
    writer.write({ id: 3, note: 'c' }),
  ]);
  await settleWriteBehind(db);
  t.same(
    await db
      .selectFrom('wb_rows' as never)
      .select(sql<number>`id`.as('id'))
      .orderBy(sql`id`)
      .execute(),
    [{ id: 1 }, { id: 3 }],
  );
  t.same(dropped, [{ writer: 'wb_rows', rows: 1, code: '23514' }], 'the count and SQLSTATE, not the row');
  t.equal(writer.uncommitted, 0);
});

t.test(
  'bounded: past maxUncommitted, write refuses with service_unavailable until the backlog clears',
  async (t) => {
    const { url, db } = await scratch(t);
    const writer = rowWriter(db, { maxUncommitted: 2 });
    const lock = await blockInserts(t, url, 'wb_rows');
    await Promise.all([writer.write({ id: 1, note: 'a' }), writer.write({ id: 2, note: 'b' })]);
    await t.rejects(writer.write({ id: 3, note: 'c' }), { code: 'service_unavailable', status: 503 });
    await lock.release();
    await writer.settled();
    await writer.write({ id: 4, note: 'd' });
    await writer.settled();
    t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows'), 3, 'the refused row was never taken');
  },
);

t.test(
  'at most maxInFlight statements hold a connection; the rows beyond wait unsent, with their callers',
  async (t) => {
    const { url, db } = await scratch(t);
    const writer = rowWriter(db, { maxBatch: 1, maxInFlight: 1 });
    const lock = await blockInserts(t, url, 'wb_rows');
    await writer.write({ id: 1, note: 'a' });
    let secondSent = false;
    const second = writer.write({ id: 2, note: 'b' }).then(() => (secondSent = true));
    await until(t, 'the first waits at the database', async () => (await lock.waiting()).length === 1);
    await new Promise((r) => setTimeout(r, 100));
    t.notOk(secondSent, 'the second is not sent while the first holds the only slot');
    t.equal((await lock.waiting()).length, 1, 'one statement at the database');
    t.equal(writer.uncommitted, 2);
    await lock.release();
    await second;
    await writer.settled();
    t.equal(await countRows(url, 'SELECT count(*) AS n FROM wb_rows'), 2);
  },
);

t.test('a row that cannot be sent (no database) fails its caller; nothing stays pending', async (t) => {
  const db = openDb(t, 'postgres://postgres@127.0.0.1:1/nowhere');
  const writer = rowWriter(db);
  await t.rejects(writer.write({ id: 1, note: 'a' }), /ECONNREFUSED|connect/);
  t.equal(writer.uncommitted, 0);
  await writer.settled();
});

t.test(
  'status check: answered while its audit row waits; the timeline and a graceful close wait for it',
  async (t) => {
    const api = await apiSetup(t);
    const id = await api.createConsent();
    const checked = `SELECT count(*) AS n FROM audit_events WHERE consent_id = $1 AND action = 'status_checked'`;
    const statusChecks = () => countRows(api.databaseUrl, checked, [id]);

    const lock = await blockInserts(t, api.databaseUrl, 'audit_events');
    const res = await api.call('ownStatusClient', 'GET', `/api/v1/consents/${id}/status`);
    t.equal(res.statusCode, 200, 'answered');
    await until(t, 'its audit row waits at the database', async () => (await lock.waiting()).length === 1);
    t.equal(await statusChecks(), 0, 'not committed yet');
    let listed = false;
    const events = api.call('ownClient', 'GET', `/api/v1/consents/${id}/events`).then((r) => {
      listed = true;
      return r.json().events as { action: string }[];
    });
    await new Promise((r) => setTimeout(r, 150));
    t.notOk(listed, 'the timeline waits for the row');
    await lock.release();
    t.equal((await events).filter((e) => e.action === 'status_checked').length, 1, 'and then lists it');

    const again = await blockInserts(t, api.databaseUrl, 'audit_events');
    t.equal((await api.call('ownStatusClient', 'GET', `/api/v1/consents/${id}/status`)).statusCode, 200);
    await until(t, 'the second row waits', async () => (await again.waiting()).length === 1);
    let closed = false;
    const closing = api.app.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 150));
    t.notOk(closed, 'closing the app waits for the row');
    await again.release();
    await closing;
    t.equal(await statusChecks(), 2, 'committed before the app closed');
  },
);

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { freePort, startEmbeddedDatabase } from '../../src/db/embedded.ts';
import { projectRoot } from '../../src/paths.ts';

// Under the project: as root the server runs as user "postgres", which must be able to reach the folder.
const base = path.join(projectRoot, '.data');
mkdirSync(base, { recursive: true }); // a fresh clone tested against DATABASE_URL has no .data yet
const query = async (url: string, text: string) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
};

t.test('creates a cluster, keeps its data across restarts, avoids a taken port', async (t) => {
  const dir = mkdtempSync(path.join(base, 'embedded-test-'));
  chmodSync(dir, 0o755); // mkdtemp makes it private; the server's user must reach it
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'pg');

  // Occupy a port and ask for it: another must be chosen.
  const taken = await freePort();
  const blocker = net.createServer().listen(taken, '127.0.0.1');
  t.teardown(() => blocker.close());
  await new Promise((r) => blocker.once('listening', r));

  const first = await startEmbeddedDatabase({ dataDir, preferredPort: taken });
  t.not(first.port, taken, 'a free port was chosen');
  await query(
    `${first.serverUrl}/postgres`,
    'CREATE TABLE yesterday (v text); INSERT INTO yesterday VALUES ($$kept$$)',
  );
  await first.stop();

  // A crash leaves a stale pid file behind; the next start must cope.
  writeFileSync(path.join(dataDir, 'postmaster.pid'), '999999\n');
  const second = await startEmbeddedDatabase({ dataDir });
  t.teardown(() => second.stop());
  const rows = await query(`${second.serverUrl}/postgres`, 'SELECT v FROM yesterday');
  t.same(rows, [{ v: 'kept' }], "yesterday's data is still there");
});

t.test('a folder it cannot use gives a message that says why and what to do', async (t) => {
  const dir = mkdtempSync(path.join(base, 'embedded-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A file where the data folder's parent should be: creating the cluster must fail.
  writeFileSync(path.join(dir, 'blocked'), 'not a folder');
  const err = await startEmbeddedDatabase({ dataDir: path.join(dir, 'blocked', 'pg') }).catch(
    (e: Error) => e,
  );
  t.type(err, Error);
  t.match((err as Error).message, /embedded PostgreSQL could not be created/);
  t.match((err as Error).message, /DATABASE_URL/);
});

t.test('a cluster another live process runs is shared, not refused ("already in use")', async (t) => {
  const dir = mkdtempSync(path.join(base, 'embedded-test-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'pg');
  const owner = await startEmbeddedDatabase({ dataDir });
  t.teardown(() => owner.stop());
  const attached = await startEmbeddedDatabase({ dataDir });
  t.equal(attached.port, owner.port, 'the running server');
  t.ok(attached.attachedTo, 'attached, not started');
  t.equal(owner.attachedTo, undefined);
  await query(`${attached.serverUrl}/postgres`, 'CREATE TABLE shared (v int)');
  await attached.stop();
  t.same(
    await query(`${owner.serverUrl}/postgres`, 'SELECT count(*)::int AS n FROM shared'),
    [{ n: 0 }],
    'stopping the attached one leaves the server running',
  );
});

// An audit event's check that its consent exists takes no lock and runs after the chain trigger
// (migrations/2026-12-09T0900-audit-consent-check-unlocked.ts; before it, 2026-12-08T1100-audit-lock-order.ts
// ordered the locks). What it must still hold, with the statements the service runs, from several
// connections: an event beside an act on the same consent never deadlocks with it, and no event is stored
// for a consent that retention deleted, whichever of the two comes first.
import pg from 'pg';
import t, { type Test } from 'tap';
import { type Setup, setup, verify } from './audit-chain-helpers.ts';

const EVENT = `INSERT INTO audit_events (consent_id, at, action, actor_type)
  VALUES ($1, now(), 'status_checked', 'system')`;
const DELETION_EVENT = `INSERT INTO audit_events (consent_id, at, action, actor_type)
  VALUES ($1, now(), 'personal_data_deleted', 'system')`;

const outcome = (query: Promise<unknown>) =>
  query.then(
    () => 'stored',
    (e: { code?: string }) => `failed ${e.code}`,
  );

async function clients(t: Test, s: Setup, n: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      t.teardown(() => c.end());
      // Wait at most 100 ms for a deadlock to be found, instead of PostgreSQL's default second.
      await c.query(`SET deadlock_timeout = '100ms'`);
      return c;
    }),
  );
}

/** Resolves once the backend `pid` waits for a lock (its pid read before: its client is busy then). */
async function waitsForLock(watch: pg.Client, pid: number): Promise<void> {
  for (let i = 0; ; i++) {
    const { rows } = await watch.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
      [pid],
    );
    if (rows[0]?.waiting) return;
    if (i > 300) throw new Error(`${pid} never waited`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pidOf = async (c: pg.Client) =>
  (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

const events = async (c: pg.Client, consentId: string) =>
  (
    await c.query<{ action: string }>(
      'SELECT action FROM audit_events WHERE consent_id = $1 ORDER BY chain_seq',
      [consentId],
    )
  ).rows.map((r) => r.action);

t.test('a status check during a signature on the same consent: both stored, no deadlock', async (t) => {
  const s = await setup(t, 1);
  const consentId = s.consents[0]!;
  const [act, look, watch] = await clients(t, s, 3);
  await act!.query('BEGIN');
  await act!.query('SELECT id FROM consents WHERE id = $1 FOR UPDATE', [consentId]);
  // The status check's event is stored while the act still holds the consent's row: it waits for nothing.
  t.equal(await outcome(look!.query(EVENT, [consentId])), 'stored', "the status check's event, at once");
  t.equal(await outcome(act!.query(EVENT, [consentId])), 'stored', "the act's event");
  await act!.query('COMMIT');
  t.same(await events(watch!, consentId), ['status_checked', 'status_checked']);
  t.same((await verify(s)).findings, [], 'the chain verifies');
});

t.test('an event written while retention deletes its consent is refused, not stored', async (t) => {
  const s = await setup(t, 1);
  const consentId = s.consents[0]!;
  const [retention, look, watch] = await clients(t, s, 3);
  const lookPid = await pidOf(look!);
  // Retention, as src/consents/retention.ts: the row, the deletion event, then the consent is deleted.
  await retention!.query('BEGIN');
  await retention!.query('SELECT id FROM consents WHERE id = $1 FOR UPDATE', [consentId]);
  await retention!.query(DELETION_EVENT, [consentId]);
  const looking = outcome(look!.query(EVENT, [consentId]));
  await waitsForLock(watch!, lookPid); // for the chain's head
  await retention!.query('DELETE FROM consents WHERE id = $1', [consentId]);
  await retention!.query('COMMIT');
  t.equal(await looking, 'failed 23503', 'refused as a foreign key would (the consent is gone)');
  t.same(await events(watch!, consentId), ['personal_data_deleted'], 'nothing after the deletion');
  t.same((await verify(s)).findings, [], 'the chain verifies');
});

t.test('an event written just before retention: stored, and the deletion comes after it', async (t) => {
  const s = await setup(t, 1);
  const consentId = s.consents[0]!;
  const [look, retention, watch] = await clients(t, s, 3);
  const retentionPid = await pidOf(retention!);
  await look!.query('BEGIN');
  t.equal(await outcome(look!.query(EVENT, [consentId])), 'stored');
  await retention!.query('BEGIN');
  await retention!.query('SELECT id FROM consents WHERE id = $1 FOR UPDATE', [consentId]);
  const deleting = outcome(retention!.query(DELETION_EVENT, [consentId]));
  await waitsForLock(watch!, retentionPid); // for the chain's head, which the event holds
  await look!.query('COMMIT');
  t.equal(await deleting, 'stored');
  await retention!.query('DELETE FROM consents WHERE id = $1', [consentId]);
  await retention!.query('COMMIT');
  t.same(await events(watch!, consentId), ['status_checked', 'personal_data_deleted']);
  t.same((await verify(s)).findings, [], 'the chain verifies');
});

t.test('an event for a consent that does not exist is refused', async (t) => {
  const s = await setup(t, 1);
  const [c] = await clients(t, s, 1);
  t.equal(await outcome(c!.query(EVENT, ['00000000-0000-4000-8000-000000000000'])), 'failed 23503');
});

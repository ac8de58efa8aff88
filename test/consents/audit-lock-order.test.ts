// An audit event written beside an act on the same consent never deadlocks with it
// (migrations/2026-12-08T1100-audit-lock-order.ts): the act holds the consent's row (FOR UPDATE) and then
// writes its own event; a status check's event, written meanwhile from another connection, waits for the
// consent's row before it takes the chain's head. Both are stored, in a chain that verifies.
import pg from 'pg';
import t from 'tap';
import { setup, verify } from './audit-chain-helpers.ts';

const EVENT = `INSERT INTO audit_events (consent_id, at, action, actor_type)
  VALUES ($1, now(), 'status_checked', 'system')`;

t.test('a status check during a signature on the same consent: both stored, no deadlock', async (t) => {
  const s = await setup(t, 1);
  const consentId = s.consents[0]!;
  const connect = async () => {
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    t.teardown(() => c.end());
    return c;
  };
  const act = await connect();
  const look = await connect();
  const watch = await connect();
  // Wait at most a second for a deadlock to be found, instead of PostgreSQL's default second.
  await act.query(`SET deadlock_timeout = '100ms'`);
  await look.query(`SET deadlock_timeout = '100ms'`);

  await act.query('BEGIN');
  await act.query('SELECT id FROM consents WHERE id = $1 FOR UPDATE', [consentId]);
  const lookPid = (await look.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const looking = look.query(EVENT, [consentId]).then(
    () => 'stored',
    (e: { code?: string }) => `failed ${e.code}`,
  );
  // The status check's event waits (for the consent's row, which the act holds).
  for (let i = 0; ; i++) {
    const { rows } = await watch.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
      [lookPid],
    );
    if (rows[0]?.waiting) break;
    if (i > 200) throw new Error('the status check never waited');
    await new Promise((r) => setTimeout(r, 10));
  }
  // The act writes its own event, after the deadlock check would have run, and commits.
  await new Promise((r) => setTimeout(r, 300));
  const acted = await act.query(EVENT, [consentId]).then(
    () => 'stored',
    (e: { code?: string }) => `failed ${e.code}`,
  );
  await act.query(acted === 'stored' ? 'COMMIT' : 'ROLLBACK');
  t.equal(acted, 'stored', "the act's event");
  t.equal(await looking, 'stored', "the status check's event");

  const { rows } = await watch.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM audit_events WHERE consent_id = $1',
    [consentId],
  );
  t.equal(rows[0]!.n, 2);
  t.same((await verify(s)).findings, [], 'the chain verifies');
});

// GET /metrics, the gauges read at each scrape: the database pool's connections and waiting requests, and
// the audit rows of status checks written behind their answers and not yet committed. (The counters of
// searches by child and the token: test/http/api/child-lookups.test.ts.)
import pg from 'pg';
import t from 'tap';
import { settleWriteBehind } from '../../src/db/write-behind.ts';
import { apiSetup } from '../fixtures/api.ts';

const TOKEN = 'metrics-token-of-at-least-32-characters';

/** The samples of one metric in a scrape: label text (or '') → value. */
function samples(body: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of body.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) found.set(m[1] ?? '', Number(m[2]));
  }
  return found;
}

t.test('the pool and the rows written behind, as they are at the scrape', async (t) => {
  const s = await apiSetup(t, { env: { METRICS_TOKEN: TOKEN } });
  const consentId = await s.createConsent();
  const scrape = async () => {
    const res = await s.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(res.statusCode, 200);
    return res.body;
  };

  // Another session holds audit_events so that no insert into it can commit.
  const other = new pg.Client({ connectionString: s.databaseUrl });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('BEGIN');
  await other.query('LOCK TABLE audit_events IN SHARE MODE');
  const checks = await Promise.all(
    [1, 2, 3].map(() => s.call('ownStatusClient', 'GET', `/api/v1/consents/${consentId}/status`)),
  );
  t.same(
    checks.map((c) => c.statusCode),
    [200, 200, 200],
    'answered: their rows are sent, the commit comes behind',
  );

  const held = await scrape();
  t.match(held, '# TYPE samtycke_write_behind_uncommitted_rows gauge');
  t.equal(samples(held, 'samtycke_write_behind_uncommitted_rows').get('{writer="audit_events"}'), 3);
  const connections = samples(held, 'samtycke_db_pool_connections');
  t.ok(connections.get('{state="open"}')! >= 1, 'a connection open (the one waiting for the lock)');
  t.ok(connections.get('{state="idle"}')! < connections.get('{state="open"}')!, 'and not idle');
  t.equal(samples(held, 'samtycke_db_pool_waiting').get(''), 0, 'no request waits for a connection');

  await other.query('ROLLBACK');
  await settleWriteBehind(s.db);
  const after = await scrape();
  t.equal(samples(after, 'samtycke_write_behind_uncommitted_rows').get('{writer="audit_events"}'), 0);
  t.notMatch(after, /\d{6}[-+]?\d{4}/, 'no personal number');
});

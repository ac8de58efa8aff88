// Regression (issue 15 §5): the status route read the consent's facts before authenticating whenever an
// Authorization or Cookie header was present, whatever it held. Observed in PostgreSQL itself: while another
// connection holds the `consents` table locked, a read of a consent's facts waits on that lock, visible in
// pg_stat_activity whatever the answer says. A request that is not authenticated must leave no such wait.
import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { type ApiSetup, apiSetup, clientBearer } from '../../fixtures/api.ts';

const MISSING = '00000000-0000-4000-8000-000000000000';

t.test('the status route authenticates before it reads anything about the consent', async (t) => {
  const s = await apiSetup(t);
  const id = await s.createConsent();
  const valid = s.as.ownStatusClient.headers.authorization!;
  const forged = `${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  const invalid: Record<string, Record<string, string>> = {
    'a made-up bearer token': { authorization: 'Bearer not-a-token' },
    'a token with a forged signature': { authorization: forged },
    'basic credentials': { authorization: 'Basic c29tZW9uZTpzZWNyZXQ=' },
    'a made-up session cookie': { cookie: 'samtycke=made-up-session-id' },
    'a bearer header and a cookie, both made up': { authorization: 'Bearer x.y.z', cookie: 'samtycke=x' },
    'a valid token without consent:status': await readOnlyToken(s),
  };

  const locker = new pg.Client({ connectionString: s.databaseUrl });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE consents IN ACCESS EXCLUSIVE MODE');
  const waitingOnLock = async () =>
    (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(s.db)
    ).rows[0]!.n;
  /** Whether some query waits on the lock within `ms` (polled). */
  const someReadWaits = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end;) {
      if ((await waitingOnLock()) > 0) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };

  for (const [what, headers] of Object.entries(invalid)) {
    const answers = [];
    for (const consentId of [id, MISSING]) {
      const res = await s.app.inject({ url: `/api/v1/consents/${consentId}/status`, headers });
      answers.push({ status: res.statusCode, code: res.json().code });
    }
    t.ok([401, 403].includes(answers[0]!.status), `${what}: refused (${answers[0]!.status})`);
    t.same(
      answers[1],
      answers[0],
      `${what}: the same answer for a consent that exists and one that does not`,
    );
    t.notOk(await someReadWaits(300), `${what}: no read of the consent`);
  }

  // The observation works: an authenticated caller's check reads the facts, and waits for the lock.
  const checked = s.app.inject({ url: `/api/v1/consents/${id}/status`, headers: { authorization: valid } });
  t.ok(await someReadWaits(5000), 'a valid caller reads the consent (and waits for the lock)');
  await locker.query('ROLLBACK');
  t.equal((await checked).statusCode, 200);
});

/** The token of a client that holds consent:read only. */
async function readOnlyToken(s: ApiSetup) {
  return { authorization: await clientBearer(s.app, s.organisationId, ['consent:read'], 'Läsare') };
}

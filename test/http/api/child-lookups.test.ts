// Regression (issue 15 §2): as a team partner's API client with consent:status, 1,000 personal numbers of
// one birth date took 5.7 s and found every planted child; the 997 misses left no audit row. Every search
// is now in the look-up log (hit or miss, never the number), a caller has a quota of searches in a window,
// and reaching it is a warning log line and a counter.
import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { luhnControlDigit } from '../../../src/domain/personal-number.ts';
import { build } from '../../helper.ts';
import { apiSetup } from '../../fixtures/api.ts';

const SEARCH = '/api/v1/consent-status/search';

/** Personal numbers of one birth date (12 digits), birth numbers from 001. */
function sameBirthDate(date: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const nine = `${date.slice(2)}${String(i + 1).padStart(3, '0')}`;
    return `${date.slice(0, 2)}${nine}${luhnControlDigit(nine)}`;
  });
}

t.test('an enumeration of one birth date is refused at the quota, and every search is logged', async (t) => {
  // The per-minute rate limit on the same route (RATE_LIMIT_CHILD_SEARCH_PER_CALLER) off: the quota alone.
  const s = await apiSetup(t, { captureLogs: true, env: { RATE_LIMIT_CHILD_SEARCH_PER_CALLER: '0' } });
  const consentId = await s.createConsent();
  const saga = s.person('saga-lindqvist').personalNumber;
  const { quota, windowSeconds } = s.app.config.childLookups;
  t.equal(quota, 100, 'the default quota');
  t.equal(windowSeconds, 3600, 'per hour');
  // Saga among 150 numbers of her birth date, the 40th asked.
  const numbers = sameBirthDate(saga.slice(0, 8), 150).filter((n) => n !== saga);
  numbers.splice(39, 0, saga);

  const started = Date.now();
  let answered = 0;
  let hits = 0;
  let refusal: Awaited<ReturnType<typeof s.call>> | undefined;
  for (const childPersonalNumber of numbers) {
    const res = await s.call('teamClient', 'POST', SEARCH, { childPersonalNumber });
    if (res.statusCode !== 200) {
      refusal = res;
      break;
    }
    answered += 1;
    if (res.json().consents.length > 0) hits += 1;
  }
  t.comment(`${answered} searches answered, then refused (${Date.now() - started} ms)`);
  t.equal(answered, quota, 'searches answered until refused');
  t.equal(hits, 1, 'the planted child was found');
  t.equal(refusal?.statusCode, 429);
  t.match(refusal?.headers['content-type'], /^application\/problem\+json/);
  t.equal(refusal?.json().code, 'too_many_requests');
  t.equal(refusal?.headers['retry-after'], String(windowSeconds), 'Retry-After: when the oldest leaves');
  t.notMatch(refusal?.body, /\d{6}/, 'no number in the answer');

  // The look-up log: one row per search, hit or miss; who, every organisation, when; never the number.
  const client = await s.db
    .selectFrom('api_clients')
    .select('id')
    .where('organisation_id', '=', s.teamOrganisationId)
    .executeTakeFirstOrThrow();
  const rows = await s.db.selectFrom('child_lookups').selectAll().orderBy('id').execute();
  t.equal(rows.length, quota, 'every search answered is logged; the refused one searched nothing');
  t.ok(
    rows.every(
      (r) =>
        r.actor_type === 'api_client' &&
        r.actor_id === client.id &&
        r.via === 'api' &&
        r.organisation_ids.length === 1 &&
        r.organisation_ids[0] === s.teamOrganisationId &&
        r.request_id,
    ),
    'who, for which organisation, which request',
  );
  t.same(
    rows.map((r) => r.found),
    rows.map((_, i) => (i === 39 ? 1 : 0)),
    'the 40th found one consent; 99 misses',
  );
  const stored = JSON.stringify(await sql`SELECT * FROM child_lookups`.execute(s.db));
  for (const n of numbers.slice(0, quota + 1))
    if (stored.includes(n.slice(2))) t.fail(`a number is stored: ${n.slice(0, 4)}…`);
  await t.rejects(sql`DELETE FROM child_lookups`.execute(s.db), /append-only/, 'append-only');

  // The hit is also on the consent's own timeline, as the partner organisation that asked.
  const events = await s.db
    .selectFrom('audit_events')
    .select(['actor_type', 'actor_id', 'organisation_id'])
    .where('consent_id', '=', consentId)
    .where('action', '=', 'looked_up_by_child')
    .execute();
  t.same(events, [{ actor_type: 'api_client', actor_id: client.id, organisation_id: s.teamOrganisationId }]);

  // The burst is visible: one warning (ids, organisation, count, window; no number) and the counters.
  const warnings = s.logs.filter((l) => l.includes('"child_lookup_quota_reached"'));
  t.equal(warnings.length, 1, 'one warning when the quota is reached');
  t.match(JSON.parse(warnings[0]!), {
    level: 'warn',
    callerType: 'api_client',
    callerId: client.id,
    organisationIds: [s.teamOrganisationId],
    count: quota,
    windowSeconds,
  });
  const logs = s.logs.join('\n');
  for (const n of numbers.slice(0, quota + 1))
    if (logs.includes(n.slice(2)) || logs.includes(`${n.slice(2, 8)}-${n.slice(8)}`))
      t.fail('a number in the log');
  const m = s.app.metrics;
  t.equal(m.childLookups.value({ via: 'api', outcome: 'hit' }), 1);
  t.equal(m.childLookups.value({ via: 'api', outcome: 'miss' }), quota - 1);
  t.equal(m.childLookups.value({ via: 'api', outcome: 'refused' }), 1);
  t.equal(m.childLookupQuotaReached.value({ via: 'api', caller: 'api_client' }), 1);

  // Per client: another client still searches.
  t.equal((await s.call('ownStatusClient', 'POST', SEARCH, { childPersonalNumber: saga })).statusCode, 200);
});

t.test('parallel searches on two instances: the quota holds exactly', async (t) => {
  const env = { CHILD_LOOKUP_QUOTA: '5', CHILD_LOOKUP_QUOTA_WINDOW_MINUTES: '5' };
  const s = await apiSetup(t, { env });
  const second = await build(t, { databaseUrl: s.databaseUrl, clock: s.clock, env });
  const saga = s.person('saga-lindqvist').personalNumber;
  const numbers = sameBirthDate(saga.slice(0, 8), 12);
  const answers = await Promise.all(
    numbers.map((childPersonalNumber, i) =>
      (i % 2 === 0 ? s.app : second.app).inject({
        method: 'POST',
        url: SEARCH,
        headers: s.as.teamClient.headers,
        payload: { childPersonalNumber },
      }),
    ),
  );
  const codes = answers.map((a) => a.statusCode).sort();
  t.same(codes, [...Array(5).fill(200), ...Array(7).fill(429)]);
  t.ok(
    answers.filter((a) => a.statusCode === 429).every((a) => a.headers['retry-after'] === '300'),
    'Retry-After: the window',
  );
  const { n } = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM child_lookups`.execute(s.db))
    .rows[0]!;
  t.equal(n, 5);

  // The window slides: searches again once the oldest have left it (all five were made at this instant).
  const again = { childPersonalNumber: saga };
  s.clock.advance(299_000);
  const still = await s.call('teamClient', 'POST', SEARCH, again);
  t.equal(still.statusCode, 429, 'still refused a second before');
  t.equal(still.headers['retry-after'], '1');
  s.clock.advance(1000);
  t.equal((await s.call('teamClient', 'POST', SEARCH, again)).statusCode, 200);
});

t.test("one caller's parallel searches hold one connection at most while they wait", async (t) => {
  const s = await apiSetup(t);
  const saga = s.person('saga-lindqvist').personalNumber;
  const client = await s.db
    .selectFrom('api_clients')
    .select('id')
    .where('organisation_id', '=', s.teamOrganisationId)
    .executeTakeFirstOrThrow();
  // Another instance holds the caller's lock (the class is 'chlk' in find-by-child's repository).
  const other = new pg.Client({ connectionString: s.databaseUrl });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('BEGIN');
  await other.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
    0x63686c6b,
    `api_client:${client.id}`,
  ]);
  const searches = sameBirthDate(saga.slice(0, 8), 10).map((childPersonalNumber) =>
    s.call('teamClient', 'POST', SEARCH, { childPersonalNumber }),
  );
  const waiting = async () =>
    (
      await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event = 'advisory'`.execute(s.db)
    ).rows[0]!.n;
  let most = 0;
  for (const end = Date.now() + 1000; Date.now() < end;) {
    most = Math.max(most, await waiting());
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(most, 1, 'one connection waits for the lock; the others wait without one');
  await other.query('ROLLBACK');
  t.same(
    (await Promise.all(searches)).map((a) => a.statusCode),
    Array(10).fill(200),
  );
});

t.test('GET /metrics: behind METRICS_TOKEN, absent without it', async (t) => {
  const without = await build(t);
  t.equal((await without.app.inject({ url: '/metrics' })).statusCode, 404);
  const token = 'metrics-token-of-at-least-32-characters';
  const { app } = await build(t, { databaseUrl: without.databaseUrl, env: { METRICS_TOKEN: token } });
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
  const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer not-the-token' } });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.headers['www-authenticate'], /^Bearer/);
  app.metrics.childLookups.inc({ via: 'api', outcome: 'miss' }, 3);
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(res.body, '# TYPE samtycke_child_lookups_total counter');
  t.match(res.body, 'samtycke_child_lookups_total{via="api",outcome="miss"} 3');
  t.match(res.body, '# TYPE samtycke_child_lookup_quota_reached_total counter');
});

// Status-check benchmark (issue 6 "Performance"; `npm run bench status`): `GET /api/v1/consents/{id}/status`
// with a client token against a Fastify hello-world route, in the same run and process, with autocannon
// (50 connections, 10 s each, in interleaved rounds reported as medians), at 10k and at 1M consents. Also
// the status route without its audit insert, to show what the write per look-up costs. Each request asks for a random one of 1000 consents spread
// over the whole table. Prints figures; asserts nothing.
// Targets: ≥ 40 % of hello-world throughput, p99 ≤ 25 ms, p99 at 1M within 1.2× of p99 at 10k.
// Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an embedded one.
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { getConsentStatus } from '../../src/consents/index.ts';
import { DEV_CLIENT_SECRET_HMAC_KEY, loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/index.ts';
import type { App } from '../../src/http/types.ts';
import { createApiClient, getApiClient } from '../../src/identity/api-clients.ts';
import { callerOf } from '../../src/identity/caller.ts';
import { authorize } from '../../src/identity/policy.ts';
import { benchDatabase } from './database.ts';
import { benchConsentIds, seedConsents, seedOrganisation } from './seed.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;
const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_STATUS_LARGE ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Run {
  requestsPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  non2xx: number;
}

async function cannon(url: string, paths: string[], headers: Record<string, string> = {}): Promise<Run> {
  let n = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    headers,
    requests: [
      {
        setupRequest: (req) => {
          req.path = paths[n++ % paths.length]!;
          return req;
        },
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Each figure of the runs, the median of that figure (so not one run's figures). */
const medianRun = (runs: Run[]): Run => ({
  requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
  p99Ms: median(runs.map((r) => r.p99Ms)),
  p50Ms: median(runs.map((r) => r.p50Ms)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
  non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
});

const listen = async (app: { listen(o: object): Promise<string>; server: { address(): unknown } }) => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
};

/** The status route as it is, minus the audit insert (the bench's own route, same auth and policy). */
function addStatusWithoutAudit(app: App) {
  app.get(
    '/bench/consents/:id/status',
    { config: { auth: { scope: 'consent:status' } } },
    async (request) => {
      const s = await getConsentStatus(app, (request.params as { id: string }).id);
      authorize(callerOf(request), 'status', s);
      return {
        id: s.id,
        status: s.status,
        reason: s.reason,
        validFrom: s.validFrom?.toISOString() ?? null,
        validUntil: s.validUntil?.toISOString() ?? null,
        checkedAt: s.checkedAt.toISOString(),
      };
    },
  );
}

export async function benchStatus(): Promise<Record<string, unknown>> {
  const { databaseUrl, drop } = await benchDatabase(`samtycke_bench_${process.pid}`);
  const seedDb = createDb(databaseUrl, { max: 2 });
  const hello = Fastify({ logger: false });
  hello.get('/hello', async () => ({ hello: 'world' }));
  let app: App | undefined;
  try {
    const scope = await seedOrganisation(seedDb);
    const { client } = await createApiClient(seedDb, DEV_CLIENT_SECRET_HMAC_KEY, {
      organisationId: scope.organisationId,
      name: 'Bench',
      scopes: ['consent:status'],
      contactName: 'Bench Kontakt',
    });
    const config = loadConfig({
      SAMTYCKE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'silent',
      RUN_JOBS: 'false',
    });
    app = await buildApp({ config, databaseUrl, jobs: false });
    addStatusWithoutAudit(app);
    const apiClient = await getApiClient(seedDb, client.id);
    if (!apiClient) throw new Error('bench client missing');
    // 10 minutes: longer than any run here.
    const { token } = app.accessTokens.issue(apiClient, ['consent:status']);
    const auth = { authorization: `Bearer ${token}` };
    const appUrl = await listen(app);
    const helloUrl = await listen(hello);

    const figures: Record<string, unknown> = {
      cpus: cpus().length,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      note: 'autocannon runs in the same process as both servers (same handicap for each)',
    };
    const sizes: [string, number][] = [
      ['10k', SMALL],
      ['1M', LARGE],
    ];
    let seeded = 0;
    for (const [label, size] of sizes) {
      const started = performance.now();
      await seedConsents(seedDb, { ...scope, clientId: client.id }, seeded + 1, size - seeded);
      const seedSeconds = Math.round((performance.now() - started) / 100) / 10;
      seeded = size;
      // The tables as a service has them, not as a bulk load leaves them: vacuumed and analysed (autovacuum
      // does that in service) and the load's pages written out. Measured straight after the load, the first
      // round measured PostgreSQL settling (the load's checkpoint, hint bits set on first read): at 1M it
      // came out a quarter below the two after it.
      const settling = performance.now();
      await sql`VACUUM (ANALYZE)`.execute(seedDb);
      await sql`CHECKPOINT`.execute(seedDb);
      const settleSeconds = Math.round((performance.now() - settling) / 100) / 10;
      const ids = await benchConsentIds(seedDb, 1000, size);
      const sanity = await fetch(`${appUrl}/api/v1/consents/${ids[0]}/status`, { headers: auth });
      if (sanity.status !== 200) throw new Error(`status route answered ${sanity.status}`);
      // Warm-up: JIT, connection pool, caches.
      await cannon(
        appUrl,
        ids.slice(0, 50).map((id) => `/api/v1/consents/${id}/status`),
        auth,
      );
      // Interleaved rounds, each hello → status → status without audit, and the median of each: on a
      // shared VM one 10-s run can be 15 % off, and hello world drifts as much as the route under test.
      const rounds: { hello: Run; status: Run; noAudit: Run }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const helloRun = await cannon(helloUrl, ['/hello']);
        const status = await cannon(
          appUrl,
          ids.map((id) => `/api/v1/consents/${id}/status`),
          auth,
        );
        const noAudit = await cannon(
          appUrl,
          ids.map((id) => `/bench/consents/${id}/status`),
          auth,
        );
        rounds.push({ hello: helloRun, status, noAudit });
      }
      const ratio = (a: Run, b: Run) => Math.round((a.requestsPerSecond / b.requestsPerSecond) * 1000) / 1000;
      const hello = medianRun(rounds.map((r) => r.hello));
      const status = medianRun(rounds.map((r) => r.status));
      const noAudit = medianRun(rounds.map((r) => r.noAudit));
      figures[label] = {
        consents: size,
        seedSeconds,
        settleSeconds,
        rounds: ROUNDS,
        hello,
        status,
        statusWithoutAudit: noAudit,
        ratioToHello: median(rounds.map((r) => ratio(r.status, r.hello))),
        ratioWithoutAuditToHello: median(rounds.map((r) => ratio(r.noAudit, r.hello))),
        ratioToHelloPerRound: rounds.map((r) => ratio(r.status, r.hello)),
      };
      process.stdout.write(`${JSON.stringify({ [label]: figures[label] })}\n`);
    }
    const small = figures['10k'] as { status: Run };
    const large = figures['1M'] as { status: Run };
    figures.p99RatioLargeToSmall = Math.round((large.status.p99Ms / small.status.p99Ms) * 100) / 100;
    return figures;
  } finally {
    await hello.close();
    await app?.close();
    await seedDb.destroy();
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchStatus(), null, 2)}\n`);
}

// Token endpoint benchmark (issue 15 §1; `npm run bench token`): `POST /oauth/token` under 16 parallel
// connections sending wrong secrets, for a known client id and for an unknown one, and the same load with
// the right secret, with autocannon (10 s each). The rate limits are set out of the way (the point is what
// one request costs), then one run with the default limits shows how soon the 429s start.
// Prints figures; asserts nothing.
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { buildApp } from '../../src/app.ts';
import { DEV_CLIENT_SECRET_HMAC_KEY, loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/index.ts';
import type { App } from '../../src/http/types.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { benchDatabase } from './database.ts';
import { seedOrganisation } from './seed.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 16;
/** Out of the way of the measurement: what a request costs, not how soon it is refused. */
const HIGH = '1000000';

interface Run {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statusCodes: Record<string, number>;
  errors: number;
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function cannon(url: string, authorization: string): Promise<Run> {
  const result = await autocannon({
    url: `${url}/oauth/token`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, n] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = (n as { count: number }).count;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    statusCodes,
    errors: result.errors,
  };
}

async function started(databaseUrl: string, env: Record<string, string>): Promise<{ app: App; url: string }> {
  const config = loadConfig({
    SAMTYCKE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    RUN_JOBS: 'false',
    ...env,
  });
  const app = await buildApp({ config, databaseUrl, jobs: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

export async function benchToken(): Promise<Record<string, unknown>> {
  const { databaseUrl, drop } = await benchDatabase(`samtycke_bench_token_${process.pid}`);
  const seedDb = createDb(databaseUrl, { max: 2 });
  let app: App | undefined;
  try {
    const scope = await seedOrganisation(seedDb);
    const { client, secret } = await createApiClient(seedDb, DEV_CLIENT_SECRET_HMAC_KEY, {
      organisationId: scope.organisationId,
      name: 'Bench',
      scopes: ['consent:status'],
    });
    const wrong = `${secret.slice(0, -4)}AAAA`;
    const figures: Record<string, unknown> = {
      cpus: cpus().length,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      note: 'autocannon runs in the same process as the server',
    };
    const high = {
      RATE_LIMIT_TOKEN_PER_CLIENT: HIGH,
      RATE_LIMIT_TOKEN_PER_ADDRESS: HIGH,
    };
    ({ app } = await started(databaseUrl, high));
    let url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await cannon(url, basic(client.clientId, secret)); // warm-up
    figures.wrongSecretKnownClient = await cannon(url, basic(client.clientId, wrong));
    figures.wrongSecretUnknownClient = await cannon(url, basic('hlt-000000000000000000000000', wrong));
    figures.rightSecret = await cannon(url, basic(client.clientId, secret));
    await app.close();
    app = undefined;
    ({ app, url } = await started(databaseUrl, {}));
    figures.wrongSecretKnownClientDefaultLimits = await cannon(url, basic(client.clientId, wrong));
    return figures;
  } finally {
    await app?.close();
    await seedDb.destroy();
    await drop();
  }
}

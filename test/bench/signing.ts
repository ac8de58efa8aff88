// Signing benchmark (issue 14 "The signature's row lock"; `npm run bench signing`): 20 signers of 20
// different consents sign at once against a time-stamping service that answers in 1 s, while status checks
// (`GET /api/v1/consents/{id}/status`) run. Each consent was signed by guardian 2 beforehand, so each
// signature in the burst is the last one: it verifies the earlier signature, completes the consent and
// makes its receipt (the longest path). Prints figures; asserts nothing.
// - lock: how long each signature held a transaction (BEGIN … COMMIT, which is where the consent's row
//   lock lives), timed around `db.transaction().execute` of the context the use case gets;
// - pool: whether clients ever waited for a connection of the app's pg pool (`waitingCount`, sampled);
// - status: p50/p99 of status checks without signing, and during the burst;
// - total: the burst's wall time and each signature's.
// The service and its signers run in this process; the time-stamping service and the status-checking
// clients each run in a process of their own (tsa-process.ts, status-load.ts), as they would be other
// machines: their CPU (an `openssl` spawned per token, the clients' HTTP) is not the service's.
// Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an embedded one.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { systemClock } from '../../src/clock.ts';
import { consentContext, type SigningContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { loadConfig } from '../../src/config.ts';
import { projectRoot } from '../../src/paths.ts';
import { type Db } from '../../src/db/index.ts';
import type { App } from '../../src/http/types.ts';
import { getApiClient } from '../../src/identity/api-clients.ts';
import { seedOrganisations, signerActor } from '../fixtures/consents.ts';
import { peopleAt } from '../fixtures/people.ts';
import { benchDatabase } from './database.ts';
import { ms, percentile } from './figures.ts';
import type { StatusLoadFigures, StatusLoadStart } from './status-load.ts';
import type { TsaProcessReady } from './tsa-process.ts';

const SIGNERS = Number(process.env.BENCH_SIGNERS ?? 20);
const TSA_DELAY_MS = Number(process.env.BENCH_TSA_DELAY_MS ?? 1000);
/** Concurrent status checkers (each a loop of requests, one after the other). */
const CHECKERS = 10;
const BASELINE_MS = 3000;

// Every pg pool made from now on (the app's), to read its `waitingCount`: the pool is private to
// db/index.ts, so it is found where it hands out connections.
const pools = new Set<pg.Pool>();
const connect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
  pools.add(this);
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof connect;

/** Samples the pools every 2 ms until stopped: the most clients ever waiting, and for how long any did. */
function watchPools() {
  let maxWaiting = 0;
  let maxTotal = 0;
  let poolMax = 0;
  let waitingMs = 0;
  const began = performance.now();
  let last = began;
  const waitingAt: number[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    let waiting = 0;
    for (const p of pools) {
      waiting += p.waitingCount;
      maxTotal = Math.max(maxTotal, p.totalCount);
      poolMax = Math.max(poolMax, (p as unknown as { options: { max: number } }).options.max);
    }
    if (waiting > 0) {
      waitingMs += now - last;
      waitingAt.push(now - began);
    }
    maxWaiting = Math.max(maxWaiting, waiting);
    last = now;
  }, 2);
  return () => {
    clearInterval(timer);
    return {
      poolMax,
      maxConnections: maxTotal,
      maxWaitingClients: maxWaiting,
      msWithWaitingClients: Math.round(waitingMs),
      // When, from the burst's start: at its start (many clients at once) or while signatures are stored.
      waitingFromMs: waitingAt.length ? Math.round(waitingAt[0]!) : null,
      waitingUntilMs: waitingAt.length ? Math.round(waitingAt.at(-1)!) : null,
    };
  };
}

/** The database with each `transaction().execute` timed from its first statement to its COMMIT. */
function timedDb(db: Db, record: (ms: number) => void): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'transaction')
        return () => {
          const builder = target.transaction();
          return {
            execute: async <T>(fn: (tx: never) => Promise<T>): Promise<T> => {
              let started = 0;
              try {
                return await builder.execute((tx) => {
                  started = performance.now();
                  return fn(tx as never);
                });
              } finally {
                if (started) record(performance.now() - started);
              }
            },
          };
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const spread = (xs: number[]) => ({
  p50: ms(percentile(xs, 50)),
  p95: ms(percentile(xs, 95)),
  max: ms(Math.max(...xs)),
});

/** A child process running `file` (under tsx, as this process runs), with its first message. */
async function child<Ready>(file: string): Promise<{ process: ChildProcess; ready: Ready }> {
  const proc = fork(new URL(file, import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(proc, 'message')) as [Ready];
  return { process: proc, ready };
}

/** Status checks from the load process until `stop` resolves: their latencies and failures. */
async function checkStatus(
  load: ChildProcess,
  start: Omit<StatusLoadStart, 'checkers'>,
  stop: Promise<void>,
): Promise<StatusLoadFigures> {
  load.send({ start: { ...start, checkers: CHECKERS } });
  await stop;
  load.send({ stop: true });
  const [answer] = (await once(load, 'message')) as [{ figures: StatusLoadFigures }];
  return answer.figures;
}

const sleep = (msecs: number) => new Promise<void>((resolve) => setTimeout(resolve, msecs));

export async function benchSigning(): Promise<Record<string, unknown>> {
  const { databaseUrl, drop } = await benchDatabase(`samtycke_bench_sign_${process.pid}`);
  const tsaChild = await child<TsaProcessReady>('./tsa-process.ts');
  const tsa = tsaChild.ready;
  const loadChild = (await child<{ ready: true }>('./status-load.ts')).process;
  let app: App | undefined;
  try {
    const config = loadConfig({
      SAMTYCKE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'silent',
      RUN_JOBS: 'false',
      TSA_URL: tsa.url,
      // The test TSA's own root and its CRL, besides the development root's (PAdES B-LT).
      TSA_TRUST_ANCHORS: path.join(tsa.dir, 'chain.pem'),
      SIGNING_CRLS: [path.join(projectRoot, 'certs-dev', 'dev-root-ca.crl'), tsa.crlFile].join(','),
      // Port 0: no development redirect to the canonical host (the checks call 127.0.0.1:<port>).
      PUBLIC_BASE_URL: 'http://127.0.0.1:0',
    });
    app = await buildApp({ config, databaseUrl, jobs: false });
    const org = await seedOrganisations(app.db);
    const base = consentContext(app);
    const { person } = peopleAt(systemClock);
    const [anna, erik, elsa] = [person('anna-lindqvist'), person('erik-lindqvist'), person('elsa-lindqvist')];

    // 20 consents (guardians sign, the child does not), each signed by guardian 2 already.
    const ids: string[] = [];
    for (let i = 0; i < SIGNERS; i++) {
      const created = await createConsentRequest(base, org.staff, {
        teamId: org.teamId,
        child: { name: elsa.name, personalNumber: elsa.personalNumber, school: 'Björkskolan' },
        guardians: [
          { name: anna.name, personalNumber: anna.personalNumber, email: 'anna@hem.example' },
          { name: erik.name, personalNumber: erik.personalNumber, email: 'erik@hem.example' },
        ],
        soleGuardian: false,
      });
      await signConsent(base, signerActor('guardian2', erik, systemClock), {
        consentId: created.id,
        place: 'Norrby',
      });
      ids.push(created.id);
    }

    const apiClient = await getApiClient(app.db, org.client.clientId);
    if (!apiClient) throw new Error('bench client missing');
    const { token } = app.accessTokens.issue(apiClient, ['consent:status']);
    const auth = { authorization: `Bearer ${token}` };
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    // Warm-up, then status checks alone.
    const load = { url, ids, auth };
    await checkStatus(loadChild, load, sleep(1000));
    const statusAlone = await checkStatus(loadChild, load, sleep(BASELINE_MS));

    // The burst: every guardian 1 at once, the time-stamping service slow.
    tsaChild.process.send({ delayMs: TSA_DELAY_MS });
    const locks: number[][] = ids.map(() => []);
    const durations: number[] = [];
    const stopPools = watchPools();
    // The lock is held across round trips; each waits for the event loop, which the other signatures'
    // CPU work (verifying, appearance, CMS, receipt) keeps busy: the event loop's delay explains the figure.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const started = performance.now();
    const burst = Promise.allSettled(
      ids.map(async (consentId, i) => {
        const ctx: SigningContext = { ...base, db: timedDb(app!.db, (t) => locks[i]!.push(t)) };
        const t0 = performance.now();
        const result = await signConsent(ctx, signerActor('guardian1', anna, systemClock), {
          consentId,
          place: 'Norrby',
        });
        durations.push(performance.now() - t0);
        return result;
      }),
    );
    const statusDuring = checkStatus(
      loadChild,
      load,
      burst.then(() => {}),
    );
    const results = await burst;
    const totalMs = performance.now() - started;
    const pool = stopPools();
    loopDelay.disable();
    const during = await statusDuring;

    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    const completed = results.filter((r) => r.status === 'fulfilled' && r.value.completed).length;
    const perSignature = locks.map((l) => l.reduce((a, b) => a + b, 0));
    return {
      cpus: cpus().length,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      signers: SIGNERS,
      tsaDelayMs: TSA_DELAY_MS,
      completed,
      failed,
      lockHeldPerSignatureMs: spread(perSignature),
      transactionsPerSignature: spread(locks.map((l) => l.length)),
      pool,
      statusAlone,
      statusDuringSigning: during,
      totalSigningMs: Math.round(totalMs),
      perSignatureMs: spread(durations),
      eventLoopDelayDuringSigningMs: {
        p50: ms(loopDelay.percentile(50) / 1e6),
        p99: ms(loopDelay.percentile(99) / 1e6),
        max: ms(loopDelay.max / 1e6),
      },
    };
  } finally {
    await app?.close();
    loadChild.disconnect();
    tsaChild.process.disconnect();
    await once(tsaChild.process, 'exit');
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchSigning(), null, 2)}\n`);
}

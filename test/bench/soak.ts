// Soak (issue 15 §6 "Memory and load"; `npm run bench soak`): the service as it runs in production (its own
// process, compiled and with the NODE_OPTIONS (heap limit) the Docker image runs it with (SOAK_SERVER=tsx:
// from the sources; NODE_OPTIONS set: yours), production mode, job workers on, info logs, mail over SMTP)
// under a mixed load for SOAK_SECONDS (default 30 minutes):
//   - status checks: `GET /api/v1/consents/{id}/status` on SOAK_STATUS_CONNECTIONS (40), a closed loop
//     (each connection asks again as soon as it has its answer: the p99 then says as much about the
//     machine's throughput as about latency), or SOAK_STATUS_RATE a second (autocannon's rate: each
//     connection's quota for a second sent back to back, see `paced`); one of 1000 of 10k consents;
//   - token requests: `POST /oauth/token` (client_secret_basic), SOAK_TOKEN_RATE a second, evenly spaced
//     (`paced`), spread over SOAK_TOKEN_CLIENTS clients, in every other phase of SOAK_PHASE_SECONDS, so
//     that the status p99 is seen with and without token requests alongside;
//   - creates: `POST /api/v1/consent-requests` (renders the form, queues three invitation e-mails that the
//     workers send), SOAK_CREATE_RATE a second, evenly spaced (`paced`).
// Every SOAK_SAMPLE_SECONDS it prints the service's RSS, heap, event-loop delay and open handles, and each
// kind's count, p99 and errors in that window; then it idles SOAK_IDLE_SECONDS and samples again. Errors
// are transport errors, timeouts, answers other than the expected status, and log lines at error or above
// (warnings are counted apart).
// SOAK_HEAP_SNAPSHOTS=1 writes a heap snapshot after the first phase and at the end of the load into
// .data/soak/ and prints what grew between them, by constructor (a snapshot stops the service for seconds
// and leaves its memory to the process: that run's RSS and errors are not the service's own).
// SOAK_ALLOCATIONS=<seconds> profiles what allocates (garbage included) from the second phase on.
// SOAK_NODE_ARGS adds arguments to the service's node (a CPU profile: `--cpu-prof --cpu-prof-dir=<dir>`).
// SOAK_TOKEN_RATE=0 or SOAK_CREATE_RATE=0 leaves that kind out. Prints figures; asserts nothing.
// Goals: RSS ≤ 300 MB under load and flat across the soak; 0 errors; status p99 ≤ 25 ms with tokens.
// Warm-up: the first SOAK_WARMUP_SECONDS (10) of load are in every figure, and the `steady` figures are
// those after it. A new process compiles its hot code and starts its PDF worker there (the first window's
// status p99 is twice the next ones', its creates wait seconds), which in a 30-minute soak is half a
// percent of the requests and in a 60-s run a sixth of them, enough to move the whole run's p99.
// Machine reference: on a shared 2-core VM the same code has given 2,750 and 4,800 status checks a second
// within one hour. Before the soak and after its idle, it measures the host with a hello-world server
// in a process of its own (node:http, no database) under the same closed loop for SOAK_REFERENCE_SECONDS (5;
// 0: none), so that two soaks' figures can be told apart by code and by machine.
// Rate limits: the token requests come from one address and a few clients, so the service runs with token
// limits that never refuse (see `serviceEnv`); SOAK_SERVICE_ENV (`NAME=value,…`) adds or overrides settings.
// Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an embedded one.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import ts from 'typescript';
import { freePort } from '../../src/db/embedded.ts';
import { createDb } from '../../src/db/index.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { projectRoot } from '../../src/paths.ts';
import { startMailCapture } from '../../src/dev/mail-capture.ts';
import { peopleAt } from '../fixtures/people.ts';
import { benchDatabase } from './database.ts';
import { heapGrowth } from './heap-diff.ts';
import { compileDist, productionPkiSettings, writeProductionPki } from './production.ts';
import type { ProbeQuestion, ProbeSample } from './soak-probe.ts';
import { benchConsentIds, seedConsents, seedOrganisation } from './seed.ts';

const env = process.env;
const SECONDS = Number(env.SOAK_SECONDS ?? 30 * 60);
const SAMPLE_SECONDS = Number(env.SOAK_SAMPLE_SECONDS ?? 10);
const PHASE_SECONDS = Number(env.SOAK_PHASE_SECONDS ?? 30);
const IDLE_SECONDS = Number(env.SOAK_IDLE_SECONDS ?? 30);
const STATUS_CONNECTIONS = Number(env.SOAK_STATUS_CONNECTIONS ?? 40);
/** Status checks a second over those connections; 0: as fast as they answer (a closed loop). */
const STATUS_RATE = Number(env.SOAK_STATUS_RATE ?? 0);
const TOKEN_RATE = Number(env.SOAK_TOKEN_RATE ?? 50);
const TOKEN_CLIENTS = Number(env.SOAK_TOKEN_CLIENTS ?? 10);
const CREATE_RATE = Number(env.SOAK_CREATE_RATE ?? 5);
const CONSENTS = Number(env.SOAK_CONSENTS ?? 10_000);
const WARMUP_SECONDS = Number(env.SOAK_WARMUP_SECONDS ?? 10);
const REFERENCE_SECONDS = Number(env.SOAK_REFERENCE_SECONDS ?? 5);
const SNAPSHOTS = env.SOAK_HEAP_SNAPSHOTS === '1';
const ALLOCATION_SECONDS = Number(env.SOAK_ALLOCATIONS ?? 0);
const LOG_LEVEL = env.SOAK_LOG_LEVEL ?? 'info';
const SERVER = env.SOAK_SERVER === 'tsx' ? 'tsx' : 'dist';
/** More arguments for the service's node, e.g. `--cpu-prof --cpu-prof-dir=…` (not allowed in NODE_OPTIONS). */
const NODE_ARGS = (env.SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The service's key for API client secrets (CLIENT_SECRET_HMAC_KEY): the seed stores secrets under it. */
const HMAC_KEY = 'soak-client-secret-hmac-key-0123456789-abcdefghij';
const here = path.dirname(fileURLToPath(import.meta.url));
const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round(bytes / MB);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'status' | 'token' | 'create';

/** Latencies at 0.1 ms up to 10 s (one bucket above), so 30 minutes of requests cost 400 kB. */
class Histogram {
  private readonly buckets = new Uint32Array(100_002);
  count = 0;
  record(ms: number) {
    this.buckets[Math.min(100_001, Math.round(ms * 10))]! += 1;
    this.count += 1;
  }
  add(other: Histogram) {
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i]! += other.buckets[i]!;
    this.count += other.count;
  }
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return i / 10;
    }
    return null;
  }
}

/** One kind's figures in one window (a sample, or a whole phase kind). */
class Tally {
  readonly latency = new Histogram();
  errors = 0;
  unexpected = new Map<number, number>();
  summary() {
    return {
      requests: this.latency.count,
      p50Ms: this.latency.percentile(50),
      p99Ms: this.latency.percentile(99),
      errors: this.errors + [...this.unexpected.values()].reduce((a, b) => a + b, 0),
      ...(this.unexpected.size ? { unexpectedStatus: Object.fromEntries(this.unexpected) } : {}),
    };
  }
}

/** An autocannon run: its event emitter, which is also the promise of its result (lib/init.js). */
type Cannon = autocannon.Instance & PromiseLike<autocannon.Result>;
const cannon = (options: autocannon.Options) => autocannon(options) as unknown as Cannon;

/** What `track` listens to: an autocannon run, or a paced one. */
type Load = Pick<Cannon, 'on' | 'stop'> & PromiseLike<unknown>;

interface PacedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * `rate` requests a second for `seconds`, evenly spaced, each sent on time whether or not the earlier ones
 * have been answered: an open loop, as requests from independent users and systems arrive. autocannon's
 * `overallRate` is not that: each connection sends its whole second's quota back to back at the start of
 * each second (node_modules/autocannon/lib/httpClient.js, `reqsMadeThisSecond`), so "5 creates a second"
 * came as 5 at once, every second, and "50 tokens a second" as 50 at once. Emits autocannon's 'response'
 * and 'reqError' events.
 */
function paced(base: string, rate: number, seconds: number, request: () => PacedRequest): Load {
  const events = new EventEmitter();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const interval = 1000 / rate;
  const end = performance.now() + seconds * 1000;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    const { method, path: requestPath, headers, body } = request();
    const started = performance.now();
    const sent = new Promise<void>((resolve) => {
      const req = http.request(`${base}${requestPath}`, { method, headers, agent }, (res) => {
        res.resume(); // the body is not read, only its end awaited
        res.on('end', () => {
          events.emit('response', undefined, res.statusCode, 0, performance.now() - started);
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        events.emit('reqError');
        resolve();
      });
      req.end(body);
    });
    inFlight.add(sent);
    void sent.then(() => inFlight.delete(sent));
  };
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    // Once the last is sent (or on stop): settles when every request sent has been answered or failed.
    finish = () => {
      finish = () => {};
      if (timer) clearTimeout(timer);
      void Promise.all(inFlight).then(() => {
        agent.destroy();
        resolve();
      });
    };
    let next = performance.now();
    const tick = () => {
      if (next >= end) return finish();
      send();
      next += interval;
      timer = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
  return {
    on: events.on.bind(events) as Load['on'],
    stop: () => finish(),
    then: (onFulfilled, onRejected) => done.then(onFulfilled, onRejected),
  };
}

/** The service in a child process, with the probe that answers memory questions. */
class Service {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: unknown) => void>();
  warnLines = 0;
  errorLines = 0;
  private tail = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number }) => {
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
    // One JSON line per request at info: count warn (40) and error/fatal (50, 60) lines, nothing more.
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const text = this.tail + chunk;
      this.warnLines += text.split('"level":40').length - 1;
      this.errorLines += text.split('"level":50').length - 1 + text.split('"level":60').length - 1;
      this.tail = text.slice(-12).replace(/.*"level":[4-6]0/s, '');
    });
    child.stderr
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => process.stderr.write(`[service] ${chunk}`));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
  ask<T>(q: Omit<ProbeQuestion, 'id'>): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (m: unknown) => void);
      this.child.send({ id, ...q });
    });
  }
  sample = async () => (await this.ask<{ sample: ProbeSample }>({ kind: 'sample' })).sample;
  snapshot = async (file: string) => (await this.ask<{ file: string }>({ kind: 'snapshot', file })).file;
  allocations = async (seconds: number) =>
    (await this.ask<{ top: { where: string; kB: number }[] }>({ kind: 'allocations', seconds })).top;
}

/**
 * The service's NODE_OPTIONS: yours when NODE_OPTIONS is set (empty for none), else the Docker image's
 * (its Dockerfile's `ENV NODE_OPTIONS=` line: the heap limit) when the service runs compiled as there.
 */
function serviceNodeOptions(): string | undefined {
  if ('NODE_OPTIONS' in env) return env.NODE_OPTIONS;
  if (SERVER === 'tsx') return undefined;
  const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  return /^ENV NODE_OPTIONS=(.+)$/m
    .exec(dockerfile)?.[1]
    ?.trim()
    .replace(/^"(.*)"$/, '$1');
}

/**
 * Production settings, with a throwaway signing CA and providers that are never called (the relying party
 * is made at the first login).
 */
function serviceEnv(o: { databaseUrl: string; port: number; smtpPort: number; certs: string }) {
  const extra = Object.fromEntries(
    (env.SOAK_SERVICE_ENV ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const passThrough = Object.fromEntries(
    Object.entries(env).filter(
      ([k]) => ['PATH', 'HOME', 'TMPDIR', 'UV_THREADPOOL_SIZE'].includes(k) || k.startsWith('MALLOC_'),
    ),
  ) as Record<string, string>;
  const nodeOptions = serviceNodeOptions();
  return {
    ...passThrough,
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    SAMTYCKE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    PUBLIC_BASE_URL: 'https://samtycke.soak.invalid',
    DATABASE_URL: o.databaseUrl,
    SESSION_SECRET: 'soak-session-secret-0123456789-abcdefghijklmnop',
    LOG_LEVEL,
    RUN_JOBS: 'true',
    OIDC_ISSUER: 'https://idp.soak.invalid',
    OIDC_CLIENT_SECRET: 'soak',
    ...productionPkiSettings(o.certs),
    SMTP_URL: `smtp://127.0.0.1:${o.smtpPort}`,
    // Asked only when a signature is made, which the soak does not do.
    TSA_URL: 'https://tsa.soak.invalid',
    CLIENT_SECRET_HMAC_KEY: HMAC_KEY,
    // Every token request comes from 127.0.0.1 and SOAK_TOKEN_CLIENTS clients: limits that never refuse,
    // with the limiter (and its in-process store) still counting.
    RATE_LIMIT_TOKEN_PER_CLIENT: '1000000',
    RATE_LIMIT_TOKEN_PER_ADDRESS: '1000000',
    ...extra,
  };
}

/**
 * How to start the service: as the Docker image runs it (`node dist/src/server.js`, compiled here into
 * .data/soak/dist with tsconfig.build.json), or with SOAK_SERVER=tsx from the sources under tsx, as the
 * tests run it (its loader holds tens of MB more). The probe is transpiled to plain JavaScript either way.
 */
function serviceCommand(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const probe = path.join(outDir, 'soak-probe.mjs');
  const source = readFileSync(path.join(here, 'soak-probe.ts'), 'utf8');
  const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
  writeFileSync(probe, ts.transpileModule(source, { compilerOptions: options }).outputText);
  if (SERVER === 'tsx')
    return ['--import', 'tsx', '--import', probe, path.join(projectRoot, 'src/server.ts')];
  const server = compileDist(path.join(outDir, 'dist'), { typeErrors: 'tolerate' });
  return ['--import', pathToFileURL(probe).href, server];
}

async function startService(command: string[], vars: Record<string, string>, base: string): Promise<Service> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...command], {
    cwd: projectRoot,
    env: vars,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const service = new Service(child);
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health/ready`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return service;
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    await sleep(250);
  }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function accessToken(base: string, credentials: string, scope: string): Promise<string> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: credentials, 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A hello-world answer from a process of its own: the host's speed for this kind of work, no database. */
const HELLO_SERVER = `
  const server = require('node:http').createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{"hello":"world"}');
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));`;

/** Requests a second and p99 of that hello world under the status checks' closed loop. */
async function machineReference(): Promise<{ helloPerSecond: number; helloP99Ms: number } | undefined> {
  if (REFERENCE_SECONDS <= 0) return undefined;
  const child = spawn(process.execPath, ['-e', HELLO_SERVER], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(Number(m)));
      child.once('exit', (code) => reject(new Error(`hello server exited (${code})`)));
    });
    const result = await cannon({
      url: `http://127.0.0.1:${port}`,
      connections: STATUS_CONNECTIONS,
      duration: REFERENCE_SECONDS,
    });
    return {
      helloPerSecond: Math.round(result.requests.average),
      helloP99Ms: result.latency.p99,
    };
  } finally {
    child.kill();
  }
}

export async function benchSoak(): Promise<Record<string, unknown>> {
  // Before anything of the soak's own runs (the seed leaves PostgreSQL busy for a while).
  const referenceBefore = await machineReference();
  const { databaseUrl, drop } = await benchDatabase(`samtycke_soak_${process.pid}`);
  const seedDb = createDb(databaseUrl, { max: 2 });
  const mail = await startMailCapture();
  const certs = mkdtempSync(path.join(tmpdir(), 'samtycke-soak-'));
  const outDir = path.join(projectRoot, '.data', 'soak');
  let service: Service | undefined;
  const cannons: Load[] = [];
  try {
    writeProductionPki(certs, 'Soak');

    // Seed: an organisation in a team, its consents, a status client, a writing client, token clients.
    const scope = await seedOrganisation(seedDb);
    const client = (name: string, scopes: ('consent:status' | 'consent:write')[]) =>
      createApiClient(seedDb, HMAC_KEY, {
        organisationId: scope.organisationId,
        name,
        scopes,
        contactName: 'Soak Kontakt',
      });
    const statusClient = await client('Soak status', ['consent:status']);
    const writeClient = await client('Soak write', ['consent:write']);
    const tokenClients = [];
    for (let i = 0; i < TOKEN_CLIENTS; i++)
      tokenClients.push(await client(`Soak token ${i}`, ['consent:status']));
    await seedConsents(seedDb, { ...scope, clientId: statusClient.client.id }, 1, CONSENTS);
    const ids = await benchConsentIds(seedDb, 1000, CONSENTS);
    const statusPaths = ids.map((id) => `/api/v1/consents/${id}/status`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const command = serviceCommand(outDir);
    const startedAt = performance.now();
    service = await startService(
      command,
      serviceEnv({ databaseUrl, port, smtpPort: mail.port, certs }),
      base,
    );
    const startSeconds = Math.round((performance.now() - startedAt) / 100) / 10;
    const atStart = await service.sample();

    // Bearer tokens for the status checks and the creates, renewed well before their 10 minutes run out.
    const statusBasic = basic(statusClient.client.clientId, statusClient.secret);
    const writeBasic = basic(writeClient.client.clientId, writeClient.secret);
    const auth = {
      status: `Bearer ${await accessToken(base, statusBasic, 'consent:status')}`,
      write: `Bearer ${await accessToken(base, writeBasic, 'consent:write')}`,
    };
    const renew = setInterval(() => {
      void Promise.all([
        accessToken(base, statusBasic, 'consent:status'),
        accessToken(base, writeBasic, 'consent:write'),
      ]).then(
        ([s, w]) => {
          auth.status = `Bearer ${s}`;
          auth.write = `Bearer ${w}`;
        },
        (e: unknown) => process.stderr.write(`soak: renewing tokens failed: ${String(e)}\n`),
      );
    }, 4 * 60_000);

    const { person } = peopleAt();
    const kid = person('saga-lindqvist');
    const anna = person('anna-lindqvist');
    const erik = person('erik-lindqvist');
    const createBody = JSON.stringify({
      teamId: scope.teamId,
      child: { name: kid.name, personalNumber: kid.personalNumber, school: 'Benchskolan' },
      guardians: [
        { name: anna.name, personalNumber: anna.personalNumber, email: 'anna@soak.example' },
        { name: erik.name, personalNumber: erik.personalNumber, email: 'erik@soak.example' },
      ],
      soleGuardian: false,
      youth: { email: 'saga@soak.example' },
    });
    const tokenHeaders = tokenClients.map((c) => basic(c.client.clientId, c.secret));

    // Per window (reset at each sample) and per phase kind (whole soak).
    const windows: Record<Kind, Tally> = { status: new Tally(), token: new Tally(), create: new Tally() };
    const byPhase = { quiet: new Tally(), tokens: new Tally() };
    const totals: Record<Kind, Tally> = { status: new Tally(), token: new Tally(), create: new Tally() };
    // The same after the warm-up.
    const steady = { status: new Tally(), quiet: new Tally(), tokens: new Tally() };
    let warm = false;
    const warmedUp = setTimeout(() => (warm = true), WARMUP_SECONDS * 1000);
    let phase: 'quiet' | 'tokens' = 'quiet';
    // When each phase began, to name a sample's window by the phase that took most of it.
    const phases: { at: number; phase: 'quiet' | 'tokens' }[] = [{ at: performance.now(), phase }];
    const setPhase = (p: 'quiet' | 'tokens') => {
      phase = p;
      phases.push({ at: performance.now(), phase });
    };
    const phaseOf = (from: number, to: number) => {
      let tokens = 0;
      phases.forEach((p, i) => {
        const end = phases[i + 1]?.at ?? to;
        if (p.phase === 'tokens') tokens += Math.max(0, Math.min(end, to) - Math.max(p.at, from));
      });
      return tokens > (to - from) / 2 ? 'tokens' : 'quiet';
    };
    const expected: Record<Kind, number> = { status: 200, token: 200, create: 201 };
    const track = (kind: Kind, instance: Load) => {
      instance.on('response', (_client, statusCode, _bytes, ms) => {
        const tallies = [windows[kind], totals[kind]];
        if (kind === 'status') tallies.push(byPhase[phase], ...(warm ? [steady.status, steady[phase]] : []));
        for (const t of tallies) {
          if (statusCode === expected[kind]) t.latency.record(ms);
          else t.unexpected.set(statusCode, (t.unexpected.get(statusCode) ?? 0) + 1);
        }
      });
      instance.on('reqError', () => {
        windows[kind].errors += 1;
        totals[kind].errors += 1;
        if (kind === 'status') {
          byPhase[phase].errors += 1;
          if (warm) for (const t of [steady.status, steady[phase]]) t.errors += 1;
        }
      });
      cannons.push(instance);
      return instance;
    };

    let n = 0;
    const status = track(
      'status',
      cannon({
        url: base,
        connections: STATUS_CONNECTIONS,
        ...(STATUS_RATE > 0 ? { overallRate: STATUS_RATE } : {}),
        duration: SECONDS,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              path: statusPaths[n++ % statusPaths.length]!,
              headers: { authorization: auth.status },
            }),
          },
        ],
      }),
    );
    const creates =
      CREATE_RATE > 0 &&
      track(
        'create',
        paced(base, CREATE_RATE, SECONDS, () => ({
          method: 'POST',
          path: '/api/v1/consent-requests',
          headers: { authorization: auth.write, 'content-type': 'application/json' },
          body: createBody,
        })),
      );
    let t = 0;
    const snapshots: string[] = [];
    const tokenPhases = (async () => {
      const end = performance.now() + SECONDS * 1000;
      for (let i = 0; performance.now() < end - 1000; i++) {
        const left = Math.max(1, Math.round((end - performance.now()) / 1000));
        const seconds = Math.min(PHASE_SECONDS, left);
        setPhase(i % 2 === 0 ? 'quiet' : 'tokens');
        if (phase === 'quiet' || TOKEN_RATE <= 0) await sleep(seconds * 1000);
        else
          await track(
            'token',
            paced(base, TOKEN_RATE, seconds, () => ({
              method: 'POST',
              path: '/oauth/token',
              headers: {
                authorization: tokenHeaders[t++ % tokenHeaders.length]!,
                'content-type': 'application/x-www-form-urlencoded',
              },
              body: 'grant_type=client_credentials&scope=consent%3Astatus',
            })),
          );
        if (i === 0 && SNAPSHOTS && service) {
          mkdirSync(outDir, { recursive: true });
          snapshots.push(await service.snapshot(path.join(outDir, `soak-${process.pid}-1.heapsnapshot`)));
        }
      }
    })();

    // Samples while the load runs, then while the service idles.
    const samples: Record<string, unknown>[] = [];
    const began = performance.now();
    let windowStart = began;
    const takeSample = async (load: boolean) => {
      const s = await service!.sample();
      const now = performance.now();
      const row = {
        t: Math.round((now - began) / 1000),
        phase: load ? phaseOf(windowStart, now) : 'idle',
        rssMB: mb(s.rss),
        ...(s.rssAnon === undefined ? {} : { anonMB: mb(s.rssAnon), fileMB: mb(s.rssFile ?? 0) }),
        heapUsedMB: mb(s.heapUsed),
        heapTotalMB: mb(s.heapTotal),
        externalMB: mb(s.external),
        loopDelayP99Ms: s.loopDelayP99Ms,
        activeResources: s.activeResources,
        ...(load
          ? {
              status: windows.status.summary(),
              token: windows.token.summary(),
              create: windows.create.summary(),
            }
          : {}),
        logWarn: service!.warnLines,
        logError: service!.errorLines,
      };
      for (const k of Object.keys(windows) as Kind[]) windows[k] = new Tally();
      windowStart = now;
      samples.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    };
    const sampling = (async () => {
      for (let next = SAMPLE_SECONDS; next <= SECONDS; next += SAMPLE_SECONDS) {
        await sleep(began + next * 1000 - performance.now());
        await takeSample(true);
      }
    })();
    // What allocates (garbage included), profiled from the second phase on (tokens alongside).
    const allocationTop =
      ALLOCATION_SECONDS > 0
        ? sleep(PHASE_SECONDS * 1000 + 1000).then(() => service!.allocations(ALLOCATION_SECONDS))
        : undefined;
    await Promise.all([status, creates, tokenPhases, sampling]);
    clearInterval(renew);
    clearTimeout(warmedUp);
    if (SNAPSHOTS)
      snapshots.push(await service.snapshot(path.join(outDir, `soak-${process.pid}-2.heapsnapshot`)));
    for (let idle = SAMPLE_SECONDS; idle <= IDLE_SECONDS; idle += SAMPLE_SECONDS) {
      await sleep(SAMPLE_SECONDS * 1000);
      await takeSample(false);
    }

    const referenceAfter = await machineReference();
    const loadSamples = samples.filter((s) => s.phase !== 'idle') as { rssMB: number; heapUsedMB: number }[];
    const rss = loadSamples.map((s) => s.rssMB);
    const third = Math.max(1, Math.floor(rss.length / 3));
    const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    const errors =
      (['status', 'token', 'create'] as Kind[]).reduce((a, k) => a + totals[k].summary().errors, 0) +
      service.errorLines;
    return {
      cpus: cpus().length,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      note: 'the load generator (autocannon) and PostgreSQL share the machine with the service',
      seconds: SECONDS,
      server: SERVER === 'tsx' ? 'tsx src/server.ts' : 'node dist/src/server.js (compiled)',
      nodeOptions: serviceNodeOptions() ?? '',
      connections: STATUS_CONNECTIONS,
      pacing: 'tokens and creates evenly spaced, each sent on time (an open loop)',
      statusRate: STATUS_RATE > 0 ? STATUS_RATE : 'closed loop',
      tokenRate: TOKEN_RATE,
      tokenClients: TOKEN_CLIENTS,
      createRate: CREATE_RATE,
      consents: CONSENTS,
      serviceStartSeconds: startSeconds,
      rssAtStartMB: mb(atStart.rss),
      rssPeakMB: Math.max(...rss),
      rssFirstThirdMB: avg(rss.slice(0, third)),
      rssLastThirdMB: avg(rss.slice(-third)),
      rssIdleMB: (samples.at(-1) as { rssMB: number } | undefined)?.rssMB,
      heapUsedFirstThirdMB: avg(loadSamples.slice(0, third).map((s) => s.heapUsedMB)),
      heapUsedLastThirdMB: avg(loadSamples.slice(-third).map((s) => s.heapUsedMB)),
      errors,
      logWarnLines: service.warnLines,
      logErrorLines: service.errorLines,
      status: totals.status.summary(),
      statusWithoutTokens: byPhase.quiet.summary(),
      statusWithTokens: byPhase.tokens.summary(),
      warmupSeconds: WARMUP_SECONDS,
      steady: {
        status: steady.status.summary(),
        statusWithoutTokens: steady.quiet.summary(),
        statusWithTokens: steady.tokens.summary(),
      },
      ...(referenceBefore || referenceAfter
        ? { machineReference: { before: referenceBefore, after: referenceAfter } }
        : {}),
      token: totals.token.summary(),
      create: totals.create.summary(),
      ...(allocationTop ? { allocations: await allocationTop } : {}),
      ...(snapshots.length === 2
        ? { snapshots, heapGrowth: heapGrowth(snapshots[0]!, snapshots[1]!, 15) }
        : {}),
      samples,
    };
  } finally {
    for (const c of cannons) c.stop();
    if (service) {
      service.child.kill('SIGTERM');
      await Promise.race([service.exited, sleep(30_000)]);
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    }
    await mail.close();
    await seedDb.destroy();
    rmSync(certs, { recursive: true, force: true });
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchSoak(), null, 2)}\n`);
}

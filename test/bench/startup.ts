// Start-up benchmark (issue 14 "Start fast, small at rest"; `npm run bench startup`): from the spawn of what
// `npm start` runs (package.json's start script, without npm in front) to a ready `/health/ready`, with the
// newcomer's defaults (embedded PostgreSQL, development IdP, mail capture, RUN_JOBS=true):
//   - first: the first start after `npm ci` in a fresh clone: a fresh data directory (initdb) and nothing
//     compiled yet (src/cli/run-compiled.js gets its own empty cache, SAMTYCKE_COMPILE_CACHE);
//   - cold: a fresh data directory, the code already compiled;
//   - warm: both kept (BENCH_ROUNDS starts, median); and the resident memory of the service process 5 s
//     after it was ready (idle RSS);
//   - first PDF: after a warm start and `npm run seed:dev`, the first consent request through the API (it
//     renders the form, and the PDF code loads with it) and a second one, answer times;
//   - with DATABASE_URL (when set): `npm start` on a fresh database on that server (development mode), and
//     the start production runs: `npm run build`'s output (tsc) under plain node, as the Docker image runs
//     `node dist/src/server.js`, in production mode (a throwaway signing CA and its root's CRL; an OpenID
//     provider, a TSA and an SMTP server that are never reached at start).
// Each start also reports the CPU time the process used until ready: on a shared machine it varies less
// than the wall time. The load average is printed with the figures. Prints figures; asserts nothing.
// Goals: warm ≤ 1 s, cold ≤ 3 s, idle RSS ≤ 150 MB.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { projectRoot } from '../../src/paths.ts';
import { peopleAt } from '../fixtures/people.ts';
import { adminQuery, databaseServer } from './database.ts';
import { compileDist, productionPkiSettings, writeProductionPki } from './production.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `npm start` as package.json says it, with node in front instead of npm (npm's own start is not ours). */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [program, ...args] = pkg.scripts.start.split(/\s+/);
  if (program !== 'node') throw new Error(`the start script does not run node: ${pkg.scripts.start}`);
  return args;
}

/** Resident and CPU time so far (user + system) of a process, from Linux's /proc. */
function processFigures(pid: number): { rssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: in clock ticks of 10 ms
  return { rssMb: Math.round(kb / 1024), cpuMs: ticks * 10 };
}

interface Started {
  port: number;
  readyMs: number;
  readyCpuMs: number;
  idleRssMb: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `args` (after node), waits for `/health/ready`, then for IDLE_MS, and measures. */
async function start(args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { LOG_LEVEL: 'warn', RUN_JOBS: 'true', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const stop = async () => {
    // (An exited child emits no more 'exit': waiting for it would never end.)
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited: ${stderr.slice(0, 800)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health/ready`)
        .then((r) => r.status === 200)
        .catch(() => false); // not listening yet
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error('not ready within 60 s');
      await sleep(10);
    }
    const readyMs = Math.round(performance.now() - started);
    const readyCpuMs = processFigures(child.pid!).cpuMs;
    await sleep(IDLE_MS);
    return { port, readyMs, readyCpuMs, idleRssMb: processFigures(child.pid!).rssMb, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startOnce(args: string[], env: NodeJS.ProcessEnv) {
  const s = await start(args, env);
  await s.stop();
  return { readyMs: s.readyMs, readyCpuMs: s.readyCpuMs, idleRssMb: s.idleRssMb };
}

type Figures = Awaited<ReturnType<typeof startOnce>>;
const summary = (runs: Figures[]) => ({
  readyMs: median(runs.map((r) => r.readyMs)),
  readyCpuMs: median(runs.map((r) => r.readyCpuMs)),
  idleRssMb: median(runs.map((r) => r.idleRssMb)),
  readyMsRuns: runs.map((r) => r.readyMs),
});

/** `npm run seed:dev` against the running service's database; returns the development team's id. */
function seedDev(env: NodeJS.ProcessEnv): string {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/seed-dev.ts'], {
    cwd: projectRoot,
    env: { ...env, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  const team = /team .+ \(([0-9a-f-]{36})\)/.exec(out)?.[1];
  if (!team) throw new Error(`seed:dev printed no team: ${out.slice(0, 300)}`);
  return team;
}

/** Answer times of the first and the second consent request after a start (each renders a form). */
async function firstPdf(s: Started, teamId: string) {
  const base = `http://127.0.0.1:${s.port}`;
  // seed:dev's client of the school (src/dev/seed.ts: devClientId, devClientSecret).
  const basic = Buffer.from('dev-school:dev-secret-school-not-for-production').toString('base64');
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=consent%3Awrite',
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  const token = ((await res.json()) as { access_token: string }).access_token;
  const { person } = peopleAt();
  const [kid, anna, erik] = ['elsa-lindqvist', 'anna-lindqvist', 'erik-lindqvist'].map(person);
  const request = async () => {
    const t0 = performance.now();
    const r = await fetch(`${base}/api/v1/consent-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        teamId,
        child: { name: kid!.name, personalNumber: kid!.personalNumber },
        guardians: [
          { name: anna!.name, personalNumber: anna!.personalNumber, email: 'anna@bench.example' },
          { name: erik!.name, personalNumber: erik!.personalNumber, email: 'erik@bench.example' },
        ],
        soleGuardian: false,
      }),
    });
    const ms = Math.round(performance.now() - t0);
    if (r.status !== 201) throw new Error(`consent request: ${r.status} ${await r.text()}`);
    return ms;
  };
  const firstPdfMs = await request();
  const secondPdfMs = await request();
  return { firstPdfMs, secondPdfMs, rssAfterPdfMb: processFigures(s.child.pid!).rssMb };
}

/** The production start: tsc's output (as `npm run build` writes dist/) in production mode on `url`. */
async function productionStarts(url: string, scratch: string): Promise<Figures[]> {
  // Into the scratch folder, not dist/: another checkout's build there is left alone.
  const server = compileDist(path.join(scratch, 'dist'), { typeErrors: 'fail' });
  const certs = path.join(scratch, 'certs');
  mkdirSync(certs);
  writeProductionPki(certs, 'Bench');
  const env = {
    PATH: process.env.PATH,
    SAMTYCKE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: url,
    PUBLIC_BASE_URL: 'https://samtycke.bench.invalid',
    SESSION_SECRET: 'bench-session-secret-0123456789-abcdefghijklmnop',
    CLIENT_SECRET_HMAC_KEY: 'bench-client-secret-hmac-key-0123456789-abcdefghij',
    OIDC_ISSUER: 'https://idp.bench.invalid',
    OIDC_CLIENT_SECRET: 'bench',
    ...productionPkiSettings(certs),
    TSA_URL: 'https://tsa.bench.invalid',
    SMTP_URL: 'smtp://127.0.0.1:9',
  };
  const runs: Figures[] = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await startOnce([server], env));
  return runs;
}

export async function benchStartup(): Promise<Record<string, unknown>> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  const args = startCommand();
  mkdirSync(path.join(projectRoot, '.data'), { recursive: true });
  const scratch = mkdtempSync(path.join(projectRoot, '.data', 'bench-start-'));
  // mkdtemp makes it private (0700); run as root, PostgreSQL runs as the user "postgres", who must reach it.
  chmodSync(scratch, 0o755);
  // The bench's own compile cache (a fresh one for the first start), when `npm start` compiles.
  if (args.some((a) => a.endsWith('run-compiled.js')))
    base.SAMTYCKE_COMPILE_CACHE = path.join(scratch, 'compiled');
  const dev = (dataDir: string): NodeJS.ProcessEnv => ({ ...base, DATA_DIR: path.join(scratch, dataDir) });
  const loadBefore = loadavg().map((l) => Math.round(l * 10) / 10);
  try {
    const first = await startOnce(args, dev('first'));
    const cold = await startOnce(args, dev('data'));
    const warm: Figures[] = [];
    for (let i = 0; i < ROUNDS; i++) warm.push(await startOnce(args, dev('data')));
    const figures: Record<string, unknown> = {
      start: `node ${args.join(' ')}`,
      firstStartReadyMs: first.readyMs,
      coldReadyMs: cold.readyMs,
      warmReadyMs: median(warm.map((w) => w.readyMs)),
      idleRssMb: median(warm.map((w) => w.idleRssMb)),
      warm: summary(warm),
      readyCpuMs: {
        first: first.readyCpuMs,
        cold: cold.readyCpuMs,
        warm: median(warm.map((w) => w.readyCpuMs)),
      },
    };

    const s = await start(args, dev('data'));
    try {
      figures.pdf = await firstPdf(s, seedDev(dev('data')));
    } finally {
      await s.stop();
    }

    if (process.env.DATABASE_URL) {
      const { serverUrl } = await databaseServer('pg-bench');
      const name = `samtycke_bench_start_${process.pid}`;
      await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
      try {
        const url = `${serverUrl}/${name}`;
        await startOnce(args, { ...base, DATABASE_URL: url }); // migrates it, as a first start does
        const external: Figures[] = [];
        for (let i = 0; i < ROUNDS; i++) external.push(await startOnce(args, { ...base, DATABASE_URL: url }));
        figures.withDatabaseUrl = summary(external);
        figures.production = summary(await productionStarts(url, scratch));
      } finally {
        await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
    figures.loadAverage = { before: loadBefore, after: loadavg().map((l) => Math.round(l * 10) / 10) };
    figures.goals = { warmReadyMs: 1000, coldReadyMs: 3000, idleRssMb: 150 };
    return figures;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

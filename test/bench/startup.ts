// Start-up benchmark (issue 14 "Start fast, small at rest"; `npm run bench startup`): from process start
// to a ready `/health/ready`, for `npm start` as a newcomer runs it (embedded PostgreSQL, development
// IdP, mail capture): cold (a fresh data directory: initdb) and warm (the data directory kept); and the
// idle resident memory of the service process after it settled. Also with DATABASE_URL (no embedded
// database), as in production. Prints figures; asserts nothing.
// Goals: warm ≤ 1 s, cold ≤ 3 s, idle RSS ≤ 150 MB.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/paths.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface Start {
  readyMs: number;
  idleRssMb: number;
}

async function startOnce(env: NodeJS.ProcessEnv): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: { ...env, PORT: String(port), LOG_LEVEL: 'warn', RUN_JOBS: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited: ${stderr.slice(0, 500)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 60_000) throw new Error('not ready within 60 s');
      await sleep(20);
    }
    const readyMs = Math.round(performance.now() - started);
    await sleep(5000);
    return { readyMs, idleRssMb: rssMb(child.pid!) };
  } finally {
    // (An exited child emits no more 'exit': waiting for it would never end.)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchStartup(): Promise<Record<string, unknown>> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  mkdirSync(path.join(projectRoot, '.data'), { recursive: true });
  const dataDir = mkdtempSync(path.join(projectRoot, '.data', 'bench-start-'));
  // mkdtemp makes it private (0700); run as root, PostgreSQL runs as the user "postgres", who must reach it.
  chmodSync(dataDir, 0o755);
  try {
    const cold = await startOnce({ ...base, DATA_DIR: dataDir });
    const warm: Start[] = [];
    for (let i = 0; i < ROUNDS; i++) warm.push(await startOnce({ ...base, DATA_DIR: dataDir }));
    const figures: Record<string, unknown> = {
      coldReadyMs: cold.readyMs,
      warmReadyMs: median(warm.map((w) => w.readyMs)),
      warmRuns: warm.map((w) => w.readyMs),
      idleRssMb: median(warm.map((w) => w.idleRssMb)),
      goals: { warmReadyMs: 1000, coldReadyMs: 3000, idleRssMb: 150 },
    };
    if (process.env.DATABASE_URL) {
      // A fresh database on that server (migrated by the first start, as production's first start is).
      // (A postgres: URL has no origin: URL.origin is "null" for it.)
      const server = new URL(process.env.DATABASE_URL);
      server.pathname = '/postgres';
      const name = `samtycke_bench_start_${process.pid}`;
      const admin = async (text: string) => {
        const c = new pg.Client({ connectionString: server.href });
        await c.connect();
        await c.query(text).finally(() => c.end());
      };
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${name}`;
      await admin(`CREATE DATABASE ${name}`);
      try {
        const external: Start[] = [];
        for (let i = 0; i < ROUNDS + 1; i++)
          external.push(await startOnce({ ...base, DATABASE_URL: url.href }));
        external.shift(); // the first start migrated the database
        figures.withDatabaseUrlReadyMs = median(external.map((w) => w.readyMs));
        figures.withDatabaseUrlIdleRssMb = median(external.map((w) => w.idleRssMb));
      } finally {
        await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
    return figures;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

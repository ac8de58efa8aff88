// Starts the service: config → database (embedded in development when DATABASE_URL is unset) →
// migrations → app → listen. Shuts down gracefully on SIGTERM/SIGINT with exit code 0.
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type OpenDatabase, openDatabase } from './db/open.ts';
import { closePdfWorkers } from './pdf/pdf-workers.ts';

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`samtycke: cannot start, the configuration has problems:\n`);
      for (const p of e.problems) process.stderr.write(`  - ${p}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const started = Date.now();
  // PostgreSQL first: in development the embedded server's start (initdb on a fresh data folder) is the
  // longest wait of a start, and once its processes run it only waits on them. The logger, the migrator and
  // the app load while it starts, not after (and not before: their loading held its start up).
  const databaseLog: string[] = [];
  let underway!: () => void;
  const databaseUnderway = new Promise<void>((resolve) => (underway = resolve));
  const opening = openDatabase(config, (m) => databaseLog.push(m), underway);
  await Promise.race([databaseUnderway, opening.catch(() => {})]); // a failure is reported below
  const migration = Promise.all([import('./db/index.ts'), import('./db/migrate.ts')]);
  const appModule = import('./app.ts');
  for (const loading of [migration, appModule]) loading.catch(() => {}); // awaited below, reported there
  const log = (await import('./http/logging.ts')).createLogger(config.logLevel);
  const [{ createDb }, { migrateToLatest, migrationsCurrent }] = await migration;
  let database: OpenDatabase;
  try {
    database = await opening;
    for (const m of databaseLog) log.info(m);
    const db = createDb(database.url, { max: 1 });
    try {
      // (The migrator's own "nothing to do" is most of a warm start's database time: asked only when needed.)
      const applied = (await migrationsCurrent(db)) ? [] : await migrateToLatest(db);
      if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
    } finally {
      await db.destroy();
    }
  } catch (e) {
    log.fatal({ err: e }, 'cannot start: database not available');
    process.stderr.write(`samtycke: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }

  const { buildApp } = await appModule;
  const app = await buildApp({ config, databaseUrl: database.url, logger: log });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long, exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    try {
      // close(): stop accepting, wait for in-flight requests, then onClose hooks (jobs, pool). A
      // keep-alive connection whose request finished during the drain would hold close() open until
      // its idle timeout, so idle connections are closed as they appear.
      const closeIdle = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(closeIdle);
      }
      await closePdfWorkers();
      await database.stop();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    // Fastify's own line names the socket (e.g. http://127.0.0.1:3000), which is not the address to open:
    // cookies and the OpenID issuer are bound to PUBLIC_BASE_URL's host, so say which one that is.
    await app.listen({
      port: config.port,
      host: config.host,
      listenTextResolver: (address) => `Server listening at ${address}; open ${config.publicBaseUrl}`,
    });
    log.info(
      { ms: Date.now() - started, url: config.publicBaseUrl },
      `samtycke is ready: open ${config.publicBaseUrl}`,
    );
  } catch (err) {
    log.fatal({ err }, 'cannot listen');
    await app.close().catch(() => {});
    await database.stop();
    process.exit(1);
  }
}

await main();

// The database the process uses: DATABASE_URL, or the embedded PostgreSQL (development only).
import type { Config } from '../config.ts';

export interface OpenDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * `underway` is called once PostgreSQL is on its way: at once with DATABASE_URL, else when the embedded
 * server's own processes (initdb on a fresh data folder, the server) have been set going. The server loads
 * the rest of the service only then: module loading keeps the event loop busy, and the embedded server's
 * start waited for it (issue 14).
 */
export async function openDatabase(
  config: Config,
  log: (msg: string) => void,
  underway: () => void = () => {},
): Promise<OpenDatabase> {
  if (config.database.url) {
    underway();
    return { url: config.database.url, stop: async () => {} };
  }
  // The config already refuses production without DATABASE_URL; this guards against a code path
  // that bypassed it.
  if (config.production) throw new Error('production requires DATABASE_URL');
  const { startEmbeddedDatabase } = await import('./embedded.ts');
  const started = Date.now();
  const embedded = await startEmbeddedDatabase({
    dataDir: config.database.embeddedDir,
    preferredPort: 5432,
    onUnderway: underway,
  });
  try {
    // Imported here, not at the top: Kysely loads once the embedded server is underway (server.ts).
    const { ensureDatabase } = await import('./index.ts');
    await ensureDatabase(embedded.serverUrl, 'samtycke');
  } catch (e) {
    await embedded.stop();
    throw e;
  }
  log(
    `embedded PostgreSQL ready on port ${embedded.port} in ${Date.now() - started} ms (data in ${config.database.embeddedDir})`,
  );
  return { url: `${embedded.serverUrl}/samtycke`, stop: () => embedded.stop() };
}

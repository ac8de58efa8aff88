// The database the process uses: DATABASE_URL, or the embedded PostgreSQL (development only).
import type { Config } from '../config.ts';
import { ensureDatabase } from './index.ts';

export interface OpenDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function openDatabase(config: Config, log: (msg: string) => void): Promise<OpenDatabase> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  // The config already refuses production without DATABASE_URL; this guards against a code path
  // that bypassed it.
  if (config.production) throw new Error('production requires DATABASE_URL');
  const { startEmbeddedDatabase } = await import('./embedded.ts');
  const started = Date.now();
  const embedded = await startEmbeddedDatabase({ dataDir: config.database.embeddedDir, preferredPort: 5432 });
  try {
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

// Liveness and readiness. Ready means: the database answers and every migration has run.
import { sql } from 'kysely';
import { z } from 'zod';
import { migrationsCurrent, pendingMigrations } from '../db/migrate.ts';
import type { App } from './types.ts';

const healthSchema = z
  .object({
    status: z.enum(['ok', 'ready', 'unavailable']),
    checks: z
      .object({ database: z.enum(['up', 'down']), migrations: z.enum(['current', 'pending', 'unknown']) })
      .optional(),
  })
  .meta({ id: 'Health' });

export default async function healthRoutes(app: App) {
  app.get(
    '/health/live',
    { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: healthSchema } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'The service can serve requests (database reachable, migrations current)',
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_req, reply) => {
      let database: 'up' | 'down' = 'down';
      let migrations: 'current' | 'pending' | 'unknown' = 'unknown';
      try {
        await sql`SELECT 1`.execute(app.db);
        database = 'up';
        // One query when every migration has run; the migrator's fuller look only when not.
        migrations =
          (await migrationsCurrent(app.db)) || (await pendingMigrations(app.db)).length === 0
            ? 'current'
            : 'pending';
      } catch (err) {
        app.log.warn({ err }, 'readiness check failed');
      }
      const ready = database === 'up' && migrations === 'current';
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', checks: { database, migrations } });
    },
  );
}

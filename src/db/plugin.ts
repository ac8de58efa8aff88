// The database as a Fastify plugin: one Kysely instance for the app, destroyed when the app closes.
import fp from 'fastify-plugin';
import { createDb, type Db } from './index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

export default fp<{ connectionString: string }>(
  async (app, opts) => {
    const db = createDb(opts.connectionString, { max: 20 });
    app.decorate('db', db);
    app.addHook('onClose', async () => {
      await db.destroy();
    });
  },
  { name: 'db' },
);

// The database as a Fastify plugin: one Kysely instance for the app, destroyed when the app closes.
import fp from 'fastify-plugin';
import { type KeyRing, LocalKeyRing } from './encryption.ts';
import { createDb, type Db } from './index.ts';
import { PoolShare, signingShareOf } from './pool-share.ts';
import { onWriteBehindDropped, settleWriteBehind } from './write-behind.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    /** The key ring personal data is encrypted under (config.encryption; src/db/encrypted-columns.ts). */
    keys: KeyRing;
    /** The part of the pool signatures may hold at once (db/pool-share.ts). */
    signingShare: PoolShare;
  }
}

export default fp<{ connectionString: string }>(
  async (app, opts) => {
    const db = createDb(opts.connectionString, { max: app.config.database.poolSize, log: app.log });
    app.decorate('db', db);
    app.decorate('keys', LocalKeyRing.fromConfig(app.config.encryption));
    app.decorate('signingShare', new PoolShare(signingShareOf(app.config.database.poolSize)));
    onWriteBehindDropped(db, (dropped) =>
      app.log.error({ errorCode: 'write_behind_dropped', ...dropped }, 'rows written behind were lost'),
    );
    app.addHook('onClose', async () => {
      // Rows written behind an answer (status-check audit rows) are committed before the pool goes.
      await settleWriteBehind(db);
      await db.destroy();
    });
  },
  { name: 'db' },
);

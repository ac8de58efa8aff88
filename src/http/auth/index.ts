// The `auth` plugin: the browser's way in and out — login, the provider's callback, logout (routes.ts) —
// and the registry of acts that need their own identification (`app.acts`): the pages that offer an act
// (signing, withdrawing) register what completes it, and the callback hands the identity to it.
// Registered right after the `identity` plugin, whose hooks (session, CSRF cookie) apply to these routes.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ActHandler } from './begin-login.ts';
import loginRoutes from './routes.ts';

export { type ActHandler, type IdentifiedAct, startActIdentification } from './begin-login.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * What completes each act after its own identification (`startActIdentification`), by kind: the pages
     * that offer the act register it.
     */
    acts: Map<string, ActHandler>;
  }
}

async function authPlugin(app: FastifyInstance) {
  app.decorate('acts', new Map<string, ActHandler>());
  // Not wrapped: the login routes' error handler (pages, not problem documents) stays theirs.
  await app.register(loginRoutes);
}

export default fp(authPlugin, { name: 'auth', dependencies: ['db', 'identity'], fastify: '5.x' });

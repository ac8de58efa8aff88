// Mounts a development IdP inside the Fastify app, under its issuer's path (e.g. `/dev-idp`).
// An onRequest hook hands matching requests to the IdP's raw Node handler before Fastify routes or parses
// them: oidc-provider reads request bodies itself (token endpoint, login form), so Fastify must not.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DevIdp } from './index.ts';

export interface DevIdpPluginOptions {
  devIdp: DevIdp;
}

export default fp<DevIdpPluginOptions>(
  async (app: FastifyInstance, { devIdp }: DevIdpPluginOptions) => {
    if (devIdp.mountPath === '')
      throw new Error('A dev IdP mounted in the app needs a path in its issuer (e.g. /dev-idp)');
    app.addHook('onRequest', async (request, reply) => {
      if (!devIdp.matches(request.raw.url ?? '')) return;
      reply.hijack();
      devIdp.handler(request.raw, reply.raw);
      return reply;
    });
    app.addHook('onClose', async () => devIdp.close());
  },
  { name: 'dev-idp', fastify: '5.x' },
);

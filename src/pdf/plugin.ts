// The 'signing' plugin: loads and checks everything signing needs at start (signing-setup.ts), so that a
// broken certificate, key, CRL or TSA setting stops the process with a clear message instead of failing
// at the first signature.
import fp from 'fastify-plugin';
import { loadSigning, type Signing } from './signing-setup.ts';

export type { Signing } from './signing-setup.ts';

declare module 'fastify' {
  interface FastifyInstance {
    signing: Signing;
  }
}

export default fp(
  async (app) => {
    const signing = await loadSigning(app.config, {
      ...(app.hasDecorator('clock') ? { clock: app.clock } : {}),
      warn: (message) => app.log.warn(message),
    });
    app.decorate('signing', signing);
    app.log.info(
      {
        signing: signing.service.description,
        timestamps: signing.timestamper.description,
        anchors: signing.trust.describe().length,
      },
      'signing ready',
    );
  },
  { name: 'signing' },
);

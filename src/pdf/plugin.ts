// The 'signing' plugin: loads the signing CA and the trust anchors at start from `config.signing`, so a
// missing file, a key that does not fit, or an expired or broken certificate stops the process with a
// clear message instead of failing at the first signature. Production refuses a development CA.
import fp from 'fastify-plugin';
import { ConfigError } from '../config.ts';
import { loadLocalSigningService } from './local-signing-service.ts';
import type { SigningService } from './signing-service.ts';
import { Trust } from './trust.ts';

export interface Signing {
  /** Issues each signature's certificate and key (a local CA today; an HSM or remote service later). */
  service: SigningService;
  /** Anchors that earlier signatures in a document must chain to. */
  trust: Trust;
  /** RFC 3161 time-stamping service (PAdES B-T), when configured. */
  tsaUrl?: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    signing: Signing;
  }
}

export default fp(
  async (app) => {
    const { signing, production } = app.config;
    const service = await loadLocalSigningService({
      caCertFile: signing.caCertFile,
      caKeyFile: signing.caKeyFile,
      chainFiles: signing.chainFiles,
    });
    if (production && service.isDevelopment)
      throw new ConfigError([
        'SIGNING_CA_CERT: the signing CA is a development certificate; production needs a real signing CA',
      ]);
    const trust = await Trust.load(signing.trustAnchorFiles);
    app.decorate('signing', { service, trust, tsaUrl: signing.tsaUrl });
    app.log.info({ signing: service.description, anchors: trust.describe().length }, 'signing ready');
  },
  { name: 'signing' },
);

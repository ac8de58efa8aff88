// Everything signing needs, loaded and checked at start from `config.signing` (the 'signing' plugin and
// the CLI scripts use it): the signing CA, the trust anchors, the CRLs for long-term validation data and
// the time-stamping authority. A missing file, a key that does not fit, or an expired or broken
// certificate stops the start with a clear message instead of failing at the first signature. Production
// refuses a development CA, and runs only with a TSA (TSA_URL) and with CRLs that tell the status of every
// CA above the signing CA; development without TSA_URL uses the in-process development TSA (src/dev/tsa.ts).
import { type Clock, systemClock } from '../clock.ts';
import { type Config, ConfigError } from '../config.ts';
import { CrlSet } from './crl.ts';
import { loadLocalSigningService } from './local-signing-service.ts';
import type { SigningService } from './signing-service.ts';
import { Trust } from './trust.ts';
import { HttpTimestamper, type Timestamper } from './tsa.ts';

export interface Signing {
  /** Issues each signature's certificate and key (a local CA today; an HSM or remote service later). */
  service: SigningService;
  /** Anchors that earlier signatures in a document must chain to. */
  trust: Trust;
  /** Anchors the time-stamping authorities' certificates must chain to (TSA_TRUST_ANCHORS). */
  tsaTrust: Trust;
  /** Every signature's timestamp (PAdES B-T): TSA_URL, or in development the in-process TSA. */
  timestamper: Timestamper;
}

export interface LoadSigningOptions {
  /** The development TSA's clock (the app's, so that tests with their own clock get their time). */
  clock?: Clock;
  /** Where a development-only shortfall is reported (production refuses it instead). */
  warn?: (message: string) => void;
}

export async function loadSigning(
  config: Pick<Config, 'signing' | 'production'>,
  options: LoadSigningOptions = {},
): Promise<Signing> {
  const { signing, production } = config;
  const crls = await CrlSet.load(signing.crlFiles);
  const service = await loadLocalSigningService(
    { caCertFile: signing.caCertFile, caKeyFile: signing.caKeyFile, chainFiles: signing.chainFiles },
    { crls },
  );
  if (production && service.isDevelopment)
    throw new ConfigError([
      'SIGNING_CA_CERT: the signing CA is a development certificate; production needs a real signing CA',
    ]);
  const uncovered = service.uncoveredCas(new Date());
  if (uncovered.length) {
    const problem = `SIGNING_CRLS: no current CRL tells the status of ${uncovered.map((n) => `"${n}"`).join(', ')} (signatures would not be PAdES B-LT)`;
    if (production) throw new ConfigError([problem]);
    options.warn?.(problem);
  }
  const trust = await Trust.load(signing.trustAnchorFiles);
  const tsaTrust = await Trust.load(signing.tsaTrustAnchorFiles);
  let timestamper: Timestamper;
  if (signing.tsaUrl) timestamper = new HttpTimestamper(signing.tsaUrl, { trust: tsaTrust, crls });
  else if (production) throw new ConfigError(['TSA_URL: required in production']);
  else {
    const { loadDevelopmentTsa } = await import('../dev/tsa.ts');
    timestamper = await loadDevelopmentTsa({
      dir: signing.devCertsDir,
      crls,
      clock: options.clock ?? systemClock,
    });
  }
  return { service, trust, tsaTrust, timestamper };
}

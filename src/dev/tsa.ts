// The development time-stamping authority: an RFC 3161 TSA inside the service, so that in development and
// tests every signature gets a signature timestamp (PAdES B-T) and long-term validation data (B-LT)
// without a TSA_URL. It answers in-process (no HTTP) with a TimeStampToken: a TSTInfo (RFC 3161 §2.4.2)
// signed with the development TSA key (certs-dev/dev-tsa.pem: issued by the development root, extended
// key usage timeStamping, critical, as RFC 3161 §2.3 requires) at the service's clock, so that tests with
// a clock of their own get timestamps of that time. Production never loads it: src/pdf/plugin.ts imports
// it only in development, and src/config.ts requires TSA_URL in production.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Clock, systemClock } from '../clock.ts';
import { ConfigError } from '../config.ts';
import { AppError } from '../errors.ts';
import { encodeSignedData, sha256, signedAttributes } from '../pdf/cms.ts';
import { CrlSet } from '../pdf/crl.ts';
import * as der from '../pdf/der.ts';
import { importPrivateKey, OID, type PrivateKeyInfo, pemBlocks, signWith } from '../pdf/pki.ts';
import { checkTimestampToken, type Timestamper, tokenValidationData } from '../pdf/tsa.ts';
import type { ValidationData } from '../pdf/validation-data.ts';

export const DEV_TSA_FILES = { cert: 'dev-tsa.pem', key: 'dev-tsa.key', chain: 'dev-root-ca.pem' } as const;

/** A policy OID under the example arc (X.660 2.999): this TSA follows no published policy. */
const DEV_TSA_POLICY = '2.999.3161.1';

export class DevelopmentTsa implements Timestamper {
  readonly description = 'development time-stamping authority (in-process, certs-dev/)';
  readonly isDevelopment = true;
  tokenCapacity = 4096;

  constructor(
    private readonly certificate: Uint8Array,
    private readonly key: PrivateKeyInfo,
    private readonly chain: readonly Uint8Array[],
    private readonly crls: CrlSet,
    private readonly clock: Clock,
  ) {}

  /** TimeStampToken over SHA-256(data), at the clock's time (whole seconds, accuracy one second). */
  async timestamp(data: Uint8Array): Promise<Uint8Array> {
    const tstInfo = der.seq(
      der.smallInteger(1),
      der.oid(DEV_TSA_POLICY),
      der.seq(der.algorithm(OID.sha256), der.octets(sha256(data))),
      der.unsignedInteger(serialNumber()),
      der.generalizedTime(this.clock.now()),
      der.seq(der.smallInteger(1)), // accuracy: seconds 1
    );
    const signedAttrs = signedAttributes(OID.tstInfo, sha256(tstInfo), this.certificate);
    return encodeSignedData({
      eContentType: OID.tstInfo,
      eContent: tstInfo,
      certificates: [this.certificate],
      signerCertificate: this.certificate,
      signedAttrs,
      signatureAlgorithm: { oid: this.key.signatureOid, nullParameters: this.key.rsa },
      signature: signWith(this.key, signedAttrs),
    });
  }

  async validationData(token: Uint8Array, at: Date): Promise<ValidationData> {
    return tokenValidationData(token, this.chain, this.crls, at);
  }
}

function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

async function readOrProblem(file: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(
      `Development TSA ${file}: ${code === 'ENOENT' ? 'file not found (npm run dev-certs adds it)' : `cannot read (${code ?? 'error'})`}`,
    );
    return undefined;
  }
}

export interface DevelopmentTsaOptions {
  /** certs-dev/ */
  dir: string;
  /** CRLs that cover the TSA certificate's chain (the development root's CRL). */
  crls?: CrlSet;
  clock?: Clock;
}

/** Load the development TSA from certs-dev/ and stamp once, so that a key that does not fit is found now. */
export async function loadDevelopmentTsa(options: DevelopmentTsaOptions): Promise<DevelopmentTsa> {
  const problems: string[] = [];
  const file = (name: string) => path.join(options.dir, name);
  const certPem = await readOrProblem(file(DEV_TSA_FILES.cert), problems);
  const keyPem = await readOrProblem(file(DEV_TSA_FILES.key), problems);
  const chainPem = await readOrProblem(file(DEV_TSA_FILES.chain), problems);
  if (problems.length) throw new ConfigError(problems);
  const certificate = pemBlocks(certPem!, 'CERTIFICATE')[0];
  const chain = pemBlocks(chainPem!, 'CERTIFICATE');
  if (!certificate) throw new ConfigError([`Development TSA ${file(DEV_TSA_FILES.cert)}: no certificate`]);
  let key: PrivateKeyInfo;
  try {
    key = importPrivateKey(keyPem!);
  } catch {
    throw new ConfigError([`Development TSA ${file(DEV_TSA_FILES.key)}: not a usable private key`]);
  }
  const tsa = new DevelopmentTsa(
    certificate,
    key,
    chain,
    options.crls ?? CrlSet.empty,
    options.clock ?? systemClock,
  );
  const probe = Buffer.from('samtycke development TSA self-test');
  let token: Uint8Array;
  try {
    token = await tsa.timestamp(probe);
  } catch (cause) {
    throw new AppError('timestamp_failed', 'The development TSA cannot sign', { cause });
  }
  const check = await checkTimestampToken(token, probe);
  if (!check.signatureValid || !check.timeStampingUsage)
    throw new ConfigError([
      `Development TSA: self-test failed (${check.problems.join('; ') || 'the key does not fit the certificate'})`,
    ]);
  tsa.tokenCapacity = Math.ceil((token.length + 64) / 64) * 64;
  return tsa;
}

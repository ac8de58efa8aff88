// The SigningService from PEM files: a signing CA (certificate + PKCS#8 key) and its chain up to a root. It
// issues a certificate per signature to a fresh P-256 key, signs once with that key and drops it.
//
// Everything is loaded and checked at start (loadLocalSigningService): a missing file, a key that does not
// belong to the certificate, a CA certificate that cannot issue, an expired CA or a broken chain stops
// the process with a clear message instead of failing at the first signature.
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config.ts';
import { AppError } from '../errors.ts';
import { signedBy } from './cms.ts';
import { CrlSet } from './crl.ts';
import * as der from './der.ts';
import { issueOcspResponse } from './ocsp.ts';
import {
  certificateDer,
  certificateSpki,
  formatName,
  type Issuer,
  importPrivateKey,
  isDevelopmentName,
  issueCertificate,
  issuerFrom,
  OID,
  type PrivateKeyInfo,
  parseCertificate,
  pemBlocks,
  type pkijs,
} from './pki.ts';
import type { SignatureKey, SigningService, CertificateSubject, ToBeSigned } from './signing-service.ts';
import { chainValidationData, type ValidationData } from './validation-data.ts';

export interface LocalSigningServiceFiles {
  caCertFile: string;
  caKeyFile: string;
  /** Certificates above the signing CA (intermediates, root), one or more PEM files. */
  chainFiles: string[];
}

export interface LeafValidity {
  /** How long before the signing time the certificate becomes valid: clock skew between us and verifiers. */
  beforeMs: number;
  /** How long after the signing time it stays valid. */
  afterMs: number;
}

/**
 * The signer certificate is short-lived: its key exists for one signature and is dropped at once, and
 * PAdES validates the certificate at the time of signing (ETSI EN 319 102-1 §5.6.2.1, "best signature
 * time": the signature timestamp in B-T), so it never needs to be valid later. Right after the signature
 * the CA states in an OCSP response that it was not revoked (validationData), which goes into the
 * document's DSS (B-LT). Ten minutes either side covers clock skew and a slow time-stamping service.
 * Validators that check "now" instead of the signing time (pdfsig 22.12 does) report such a
 * certificate as expired once the window has passed.
 */
export const DEFAULT_LEAF_VALIDITY: LeafValidity = { beforeMs: 10 * 60_000, afterMs: 10 * 60_000 };

export interface LocalSigningServiceOptions {
  leafValidity?: LeafValidity;
  /** CRLs of the CAs above the signing CA (SIGNING_CRLS): their revocation status for the DSS. */
  crls?: CrlSet;
  /** The clock for the start-up checks (tests). */
  now?: Date;
}

const PERSONAL_NUMBER = /^\d{12}$/;

export class LocalSigningService implements SigningService {
  readonly description: string;
  readonly isDevelopment: boolean;
  /** DER: the signing CA, then the certificates above it up to the root. */
  readonly chain: readonly Uint8Array[];

  private readonly issuer: Issuer;
  private readonly caValidity: { notBefore: Date; notAfter: Date };

  constructor(
    ca: pkijs.Certificate,
    caKey: PrivateKeyInfo,
    chain: Uint8Array[],
    isDevelopment: boolean,
    private readonly leafValidity: LeafValidity = DEFAULT_LEAF_VALIDITY,
    private readonly crls: CrlSet = CrlSet.empty,
  ) {
    this.chain = chain;
    this.isDevelopment = isDevelopment;
    this.description = `local signing CA "${formatName(ca.subject)}"`;
    this.issuer = issuerFrom(certificateDer(ca), caKey);
    this.caValidity = { notBefore: ca.notBefore.value, notAfter: ca.notAfter.value };
  }

  async startSignature(identity: CertificateSubject, signingTime: Date): Promise<SignatureKey> {
    const name = identity.name.normalize('NFC').replace(/\s+/g, ' ').trim();
    // Messages name the problem, never the value (no personal data in errors or logs).
    if (!name) throw new AppError('signing_failed', 'The signer has no name');
    if (!PERSONAL_NUMBER.test(identity.personalNumber))
      throw new AppError('signing_failed', 'The signer identity number must have 12 digits');
    if (Number.isNaN(signingTime.getTime())) throw new AppError('signing_failed', 'Invalid signing time');
    // A certificate outside its issuer's validity would never validate (RFC 5280 §6.1.3).
    if (
      signingTime < this.caValidity.notBefore ||
      signingTime.getTime() + this.leafValidity.afterMs > this.caValidity.notAfter.getTime()
    )
      throw new AppError('signing_failed', 'The signing CA is not valid at the signing time');

    // A fresh key per signature (P-256): never stored, dropped after the one signature.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    let certificate: Uint8Array;
    try {
      certificate = issueCertificate({
        // Subject as the Swedish signature services write it: C, serialNumber "PNOSE-<number>", CN.
        subject: [
          { type: OID.countryName, value: 'SE' },
          { type: OID.serialNumber, value: `PNOSE-${identity.personalNumber}` },
          { type: OID.commonName, value: name },
        ],
        spki,
        issuer: this.issuer,
        notBefore: new Date(signingTime.getTime() - this.leafValidity.beforeMs),
        notAfter: new Date(signingTime.getTime() + this.leafValidity.afterMs),
        // nonRepudiation (contentCommitment) + digitalSignature: a signature that commits to content
        // (ETSI EN 319 412-2 §4.3.2). Document signing EKU (RFC 9336) and e-mail protection, which
        // NSS (pdfsig, Thunderbird, Firefox-based readers) requires for its "email signer" usage.
        keyUsage: ['digitalSignature', 'nonRepudiation'],
        extKeyUsage: [OID.kpDocumentSigning, OID.kpEmailProtection],
      });
    } catch (cause) {
      throw new AppError('signing_failed', 'Could not issue the signer certificate', { cause });
    }
    return new OneTimeKey(certificate, this.chain, privateKey);
  }

  /**
   * The signer certificate's status comes from this CA itself: an OCSP response signed with the CA's key
   * (RFC 6960 §4.2.2.2), produced at `at`. The CA never revokes a certificate (the key signs once and is
   * dropped at once), so the answer is "good"; it is what lets a validator know that, years later. The CAs
   * above come with the CRLs loaded from SIGNING_CRLS.
   */
  async validationData(certificate: Uint8Array, at: Date): Promise<ValidationData> {
    const ca = this.chain[0]!;
    let ocsp: Buffer;
    try {
      const parts = der.certificateParts(certificate);
      if (
        !Buffer.from(parts.issuer).equals(der.certificateParts(ca).subject) ||
        !signedBy(certificate, der.certificateParts(ca).spki)
      )
        throw new Error('not issued by this CA');
      ocsp = issueOcspResponse({
        certificate,
        issuerCertificate: ca,
        issuerKey: this.issuer.key,
        status: { status: 'good' },
        producedAt: at,
        nextUpdate: parts.notAfter,
      });
    } catch (cause) {
      throw new AppError('signing_failed', 'Could not make the revocation data of the signer certificate', {
        cause,
      });
    }
    const above = chainValidationData(ca, this.chain, this.crls, at);
    return { certificates: [certificate, ...above.certificates], ocsps: [ocsp], crls: above.crls };
  }

  /** The CA certificates below the root whose status at `at` no CRL in SIGNING_CRLS tells (by name). */
  uncoveredCas(at: Date): string[] {
    const out: string[] = [];
    for (let i = 0; i + 1 < this.chain.length; i++)
      if (this.crls.covering(this.chain[i]!, this.chain[i + 1]!, at).length === 0)
        out.push(
          der.readName(der.certificateParts(this.chain[i]!).subject).find((a) => a.type === OID.commonName)
            ?.value ?? '?',
        );
    return out;
  }
}

/** The per-signature key: signs once, then forgets the private key. */
class OneTimeKey implements SignatureKey {
  readonly signatureAlgorithm = { oid: OID.ecdsaWithSha256, nullParameters: false };
  readonly digestAlgorithm = 'SHA-256' as const;
  private key: KeyObject | undefined;

  constructor(
    readonly certificate: Uint8Array,
    readonly chain: readonly Uint8Array[],
    key: KeyObject,
  ) {
    this.key = key;
  }

  async sign(tbs: ToBeSigned): Promise<Uint8Array> {
    const key = this.key;
    if (!key) throw new AppError('signing_failed', 'The signature key has already been used');
    this.key = undefined;
    // Node signs data, not a ready digest; check both describe the same bytes.
    if (!Buffer.from(createHash('sha256').update(tbs.data).digest()).equals(tbs.digest))
      throw new AppError('signing_failed', 'Digest does not match the data to be signed');
    return new Uint8Array(nodeSign('sha256', tbs.data, { key, dsaEncoding: 'der' }));
  }
}

// ---------------------------------------------------------------------------------------------------
// Loading and start-up checks

async function readPem(file: string, what: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(
      `${what} ${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`}`,
    );
    return undefined;
  }
}

function extensionValue<T>(cert: pkijs.Certificate, oid: string): T | undefined {
  return cert.extensions?.find((e) => e.extnID === oid)?.parsedValue as T | undefined;
}

/** Problems that stop `cert` from issuing certificates (RFC 5280 §4.2.1.3, §4.2.1.9), at `now`. */
function caProblems(cert: pkijs.Certificate, now: Date, minRemainingMs: number): string[] {
  const problems: string[] = [];
  const bc = extensionValue<pkijs.BasicConstraints>(cert, OID.basicConstraints);
  if (!bc?.cA) problems.push('is not a CA certificate (basicConstraints cA is not set)');
  const ku = extensionValue<{ valueBlock: { valueHexView: Uint8Array } }>(cert, OID.keyUsage);
  if (ku && ((ku.valueBlock.valueHexView[0] ?? 0) & 0x04) === 0)
    problems.push('may not sign certificates (keyUsage lacks keyCertSign)');
  if (cert.notBefore.value > now) problems.push(`is not valid until ${cert.notBefore.value.toISOString()}`);
  else if (cert.notAfter.value.getTime() < now.getTime() + minRemainingMs)
    problems.push(
      `has expired or expires within a signature's validity (${cert.notAfter.value.toISOString()})`,
    );
  return problems;
}

/**
 * Load the signing CA, its key and chain, and check them. Throws ConfigError listing every problem;
 * the messages name files, never key material.
 */
export async function loadLocalSigningService(
  files: LocalSigningServiceFiles,
  options: LocalSigningServiceOptions = {},
): Promise<LocalSigningService> {
  const now = options.now ?? new Date();
  const leafValidity = options.leafValidity ?? DEFAULT_LEAF_VALIDITY;
  const problems: string[] = [];
  const certPem = await readPem(files.caCertFile, 'Signing CA certificate', problems);
  const keyPem = await readPem(files.caKeyFile, 'Signing CA key', problems);
  const chainPems: Array<[string, string | undefined]> = [];
  for (const f of files.chainFiles) chainPems.push([f, await readPem(f, 'Signing CA chain', problems)]);
  if (problems.length) throw new ConfigError(problems);

  let ca: pkijs.Certificate | undefined;
  const caDer = pemBlocks(certPem!, 'CERTIFICATE')[0];
  if (!caDer) problems.push(`Signing CA certificate ${files.caCertFile}: no PEM CERTIFICATE block`);
  else {
    try {
      ca = parseCertificate(caDer);
    } catch {
      problems.push(`Signing CA certificate ${files.caCertFile}: not a valid X.509 certificate`);
    }
  }
  let caKey: PrivateKeyInfo | undefined;
  try {
    caKey = importPrivateKey(keyPem!);
  } catch (e) {
    problems.push(
      `Signing CA key ${files.caKeyFile}: not a usable private key (${(e as Error).message.split('\n')[0]})`,
    );
  }
  const chain: pkijs.Certificate[] = [];
  for (const [file, pem] of chainPems) {
    const blocks = pemBlocks(pem!, 'CERTIFICATE');
    if (blocks.length === 0) problems.push(`Signing CA chain ${file}: no PEM CERTIFICATE block`);
    for (const der of blocks) {
      try {
        chain.push(parseCertificate(der));
      } catch {
        problems.push(`Signing CA chain ${file}: not a valid X.509 certificate`);
      }
    }
  }
  if (problems.length || !ca || !caKey) throw new ConfigError(problems);

  if (!Buffer.from(certificateSpki(ca)).equals(caKey.spki))
    problems.push(
      `Signing CA key ${files.caKeyFile}: does not belong to the certificate ${files.caCertFile}`,
    );
  for (const p of caProblems(ca, now, leafValidity.afterMs))
    problems.push(`Signing CA certificate ${files.caCertFile}: ${p}`);

  // Order the chain from the signing CA upwards, checking each link's signature.
  const ordered: pkijs.Certificate[] = [];
  let current = ca;
  for (;;) {
    if (current.subject.isEqual(current.issuer) && ordered.length > 0) break;
    const issuer = chain.find((c) => c.subject.isEqual(current.issuer) && !ordered.includes(c));
    if (!issuer) {
      if (!current.subject.isEqual(current.issuer))
        problems.push(
          `Signing CA chain: no certificate for the issuer "${formatName(current.issuer)}" (the chain must reach a root)`,
        );
      break;
    }
    let linked: boolean;
    try {
      linked = await current.verify(issuer);
    } catch {
      linked = false;
    }
    if (!linked) {
      problems.push(
        `Signing CA chain: "${formatName(current.subject)}" is not signed by "${formatName(issuer.subject)}"`,
      );
      break;
    }
    for (const p of caProblems(issuer, now, 0))
      problems.push(`Signing CA chain "${formatName(issuer.subject)}": ${p}`);
    ordered.push(issuer);
    current = issuer;
    if (ordered.length > 8) break;
  }
  if (problems.length) throw new ConfigError(problems);

  const isDevelopment = [ca, ...ordered].some((c) => isDevelopmentName(c.subject));
  const service = new LocalSigningService(
    ca,
    caKey,
    [ca, ...ordered].map((c) => certificateDer(c)),
    isDevelopment,
    leafValidity,
    options.crls,
  );
  await selfTest(service, now);
  return service;
}

/** Issue one certificate and sign with it, so that a key the CA cannot use is found now. */
async function selfTest(service: LocalSigningService, now: Date): Promise<void> {
  try {
    const key = await service.startSignature({ name: 'Self test', personalNumber: '000000000000' }, now);
    const data = Buffer.from('samtycke signer self-test');
    const digest = createHash('sha256').update(data).digest();
    const signature = await key.sign({ data, digest });
    const leaf = parseCertificate(key.certificate);
    const ok = nodeVerify(
      'sha256',
      data,
      { key: Buffer.from(certificateSpki(leaf)), format: 'der', type: 'spki', dsaEncoding: 'der' },
      signature,
    );
    if (!ok) throw new Error('signature does not verify');
  } catch (e) {
    throw new ConfigError([`Signing CA: self-test failed (${(e as Error).message})`]);
  }
}

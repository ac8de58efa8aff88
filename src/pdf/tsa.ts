// RFC 3161 time-stamp protocol: the Timestamper every signature gets its signature timestamp from (PAdES
// B-T, ETSI EN 319 142-1 §5.4 / EN 319 122-1 §5.3); the client of a time-stamping authority (TSA) over
// HTTP (TSA_URL: production), and the check of a token, used when signing and by the verifier.
// Development and tests use an in-process TSA instead (src/dev/tsa.ts).
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import { checkSignerInfo, findSignerCertificate, HASH_BY_OID, parseSignedData, sha256 } from './cms.ts';
import { CrlSet } from './crl.ts';
import * as der from './der.ts';
import { formatName, nameAttribute, OID, type pkijs } from './pki.ts';
import { cachedCertificate, type Trust } from './trust.ts';
import { chainValidationData, type ValidationData } from './validation-data.ts';

/** Where signatures get their trusted time: every signature is time-stamped (at least PAdES B-T). */
export interface Timestamper {
  /** For logs and reports: what kind of TSA (never a key). */
  readonly description: string;
  /** A development TSA (its certificate is marked so); production refuses it. */
  readonly isDevelopment: boolean;
  /** Bytes to reserve for one token in a signature's /Contents. */
  readonly tokenCapacity: number;
  /**
   * A signature timestamp token (TimeStampToken: ContentInfo with SignedData over a TSTInfo, DER) over
   * `data`, checked. Throws AppError('timestamp_failed').
   */
  timestamp(data: Uint8Array): Promise<Uint8Array>;
  /** The chain and revocation data of the token's TSA certificate as of `at` (its time), for the DSS. */
  validationData(token: Uint8Array, at: Date): Promise<ValidationData>;
}

export interface HttpTimestamperOptions {
  timeoutMs?: number;
  /** Anchors for the TSA's certificate: an untrusted token is refused. */
  trust: Trust;
  /** CRLs covering the TSA's certificate chain (SIGNING_CRLS), for the DSS. */
  crls?: CrlSet;
}

/** An RFC 3161 TSA over HTTP (RFC 3161 §3.4): TSA_URL. */
export class HttpTimestamper implements Timestamper {
  readonly isDevelopment = false;
  /** Tokens of public TSAs carry their chain: a few kilobytes. */
  readonly tokenCapacity = 8192;
  readonly description: string;

  constructor(
    private readonly url: string,
    private readonly options: HttpTimestamperOptions,
  ) {
    this.description = `RFC 3161 time-stamping service at ${new URL(url).origin}`;
  }

  timestamp(data: Uint8Array): Promise<Uint8Array> {
    return requestTimestamp(this.url, data, { timeoutMs: this.options.timeoutMs, trust: this.options.trust });
  }

  async validationData(token: Uint8Array, at: Date): Promise<ValidationData> {
    return tokenValidationData(token, this.options.trust.anchorDers, this.options.crls ?? CrlSet.empty, at);
  }
}

/** The TSA certificate of a token, its chain (from the token and `extra`) and the CRLs for it. */
export function tokenValidationData(
  token: Uint8Array,
  extra: readonly Uint8Array[],
  crls: CrlSet,
  at: Date,
): ValidationData {
  const sd = parseSignedData(token);
  const si = sd.signerInfos[0];
  const cert = si && findSignerCertificate(sd, si);
  if (!cert) return { certificates: [], ocsps: [], crls: [] };
  return chainValidationData(cert, [...sd.certificates, ...extra], crls, at);
}

/** The fields of a TSTInfo (RFC 3161 §2.4.2) we use. */
export interface TstInfo {
  hashAlgorithm: string;
  hashedMessage: Uint8Array;
  genTime: Date;
  nonce: Uint8Array | undefined;
}

/** GeneralizedTime "YYYYMMDDHHMMSS[.fff]Z" (RFC 3161 §2.4.2: always UTC). */
function generalizedTime(s: string): Date {
  const m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/);
  if (!m) throw new der.DerError('bad GeneralizedTime');
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms));
}

export function parseTstInfo(bytes: Uint8Array): TstInfo {
  const f = der.children(bytes, der.readTlv(bytes, 0));
  const [, , imprint, , genTime, ...optional] = f;
  if (!imprint || !genTime || genTime.tag !== 0x18) throw new der.DerError('bad TSTInfo');
  const [alg, hashed] = der.children(bytes, imprint);
  if (!alg || !hashed) throw new der.DerError('bad message imprint');
  const nonce = optional.find((t) => t.tag === 0x02);
  return {
    hashAlgorithm: der.algorithmOid(bytes, alg),
    hashedMessage: der.contentOf(bytes, hashed),
    genTime: generalizedTime(Buffer.from(der.contentOf(bytes, genTime)).toString('latin1')),
    nonce: nonce ? der.contentOf(bytes, nonce) : undefined,
  };
}

export interface TimestampCheck {
  genTime: Date | undefined;
  /** The token's message imprint is the hash of the data it should cover (the signature value). */
  imprintValid: boolean;
  /** The token's own CMS signature: message digest over the TSTInfo, signature over its attributes. */
  signatureValid: boolean;
  /** The TSA certificate may time-stamp (extended key usage id-kp-timeStamping, RFC 3161 §2.3). */
  timeStampingUsage: boolean;
  /** Chain of the TSA certificate to the trust anchors at genTime; undefined when no trust was given. */
  trusted: boolean | undefined;
  tsaName: string | undefined;
  /** The TSA certificate (DER) and its validity end; the certificates the token carries. */
  certificate: Uint8Array | undefined;
  certificates: Uint8Array[];
  notAfter: Date | undefined;
  /** The validated path, TSA certificate first, ending at the anchor (when trusted). */
  path: pkijs.Certificate[];
  tstInfo: TstInfo | undefined;
  problems: string[];
}

/**
 * Check a timestamp token (ContentInfo with SignedData over a TSTInfo, DER) over `covered`; its
 * certificate's chain is built from the token's certificates and `extraCertificates` (e.g. a DSS).
 */
export async function checkTimestampToken(
  token: Uint8Array,
  covered: Uint8Array,
  trust?: Trust,
  extraCertificates: readonly Uint8Array[] = [],
): Promise<TimestampCheck> {
  const check: TimestampCheck = {
    genTime: undefined,
    imprintValid: false,
    signatureValid: false,
    timeStampingUsage: false,
    trusted: undefined,
    tsaName: undefined,
    certificate: undefined,
    certificates: [],
    notAfter: undefined,
    path: [],
    tstInfo: undefined,
    problems: [],
  };
  try {
    const sd = parseSignedData(token);
    if (sd.eContentType !== OID.tstInfo || !sd.eContent)
      throw new Error('the token does not contain a TSTInfo');
    const tst = parseTstInfo(sd.eContent);
    check.certificates = sd.certificates;
    check.tstInfo = tst;
    check.genTime = tst.genTime;

    const hash = HASH_BY_OID[tst.hashAlgorithm];
    if (!hash) check.problems.push('unsupported hash algorithm in the message imprint');
    else {
      check.imprintValid = createHash(hash).update(covered).digest().equals(tst.hashedMessage);
      if (!check.imprintValid) check.problems.push('the timestamp covers other data than this signature');
    }

    const si = sd.signerInfos[0];
    const certDer = si && findSignerCertificate(sd, si);
    if (!si || !certDer) {
      check.problems.push('the TSA certificate is not in the token');
      return check;
    }
    const signer = checkSignerInfo(si, certDer, [sd.eContent], OID.tstInfo);
    check.signatureValid = signer.digestValid && signer.signatureValid && signer.contentTypeValid;
    check.problems.push(...signer.problems.map((p) => `timestamp: ${p}`));

    const cert = cachedCertificate(certDer);
    check.certificate = certDer;
    check.notAfter = cert.notAfter.value;
    check.tsaName = nameAttribute(cert.subject, OID.commonName) ?? formatName(cert.subject);
    const eku = cert.extensions?.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as
      pkijs.ExtKeyUsage | undefined;
    check.timeStampingUsage = !!eku?.keyPurposes.includes(OID.kpTimeStamping);
    if (!check.timeStampingUsage) check.problems.push('the TSA certificate is not for time-stamping');

    if (trust) {
      const chain = await trust.validate(cert, [...sd.certificates, ...extraCertificates], tst.genTime);
      check.trusted = chain.valid;
      check.path = chain.path;
      if (!chain.valid) check.problems.push(`TSA certificate: ${chain.problem ?? 'not trusted'}`);
    }
  } catch (e) {
    check.problems.push(`timestamp token unreadable: ${(e as Error).message}`);
  }
  return check;
}

export interface TimestampOptions {
  timeoutMs?: number;
  /** Anchors for the TSA's certificate; when given, an untrusted token is refused. */
  trust?: Trust;
}

/** TimeStampReq (RFC 3161 §2.4.1): SHA-256 imprint, a nonce, and the TSA certificate requested. */
function timeStampRequest(data: Uint8Array, nonce: Uint8Array): Buffer {
  return der.seq(
    der.smallInteger(1),
    der.seq(der.algorithm(OID.sha256), der.octets(sha256(data))),
    der.unsignedInteger(nonce),
    der.boolean(true),
  );
}

/** TimeStampResp (RFC 3161 §2.4.2): PKIStatus and the token (ContentInfo, DER). */
function parseTimeStampResp(bytes: Uint8Array): { status: number; token: Uint8Array | undefined } {
  const [statusInfo, token] = der.children(bytes, der.readTlv(bytes, 0));
  const statusTlv = statusInfo && der.children(bytes, statusInfo)[0];
  if (statusTlv?.tag !== 0x02) throw new der.DerError('bad PKIStatusInfo');
  const status = der.contentOf(bytes, statusTlv).reduce((n, b) => n * 256 + b, 0);
  return { status, token: token ? der.rawOf(bytes, token) : undefined };
}

/**
 * Ask the TSA at `url` for a token over `data`. Returns the token (ContentInfo) DER, checked: our
 * imprint, our nonce, a valid signature by a time-stamping certificate (trusted, when `trust` is given).
 * Failures are AppError('timestamp_failed'), without the TSA's answer in the message.
 */
export async function requestTimestamp(
  url: string,
  data: Uint8Array,
  options: TimestampOptions = {},
): Promise<Uint8Array> {
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01;
  let body: Uint8Array;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: timeStampRequest(data, nonce),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!res.ok)
      throw new AppError('timestamp_failed', `The time-stamping service answered HTTP ${res.status}`);
    body = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('timestamp_failed', 'The time-stamping service could not be reached', { cause: e });
  }

  let resp: { status: number; token: Uint8Array | undefined };
  try {
    resp = parseTimeStampResp(body);
  } catch (cause) {
    throw new AppError('timestamp_failed', 'The time-stamping service sent an unreadable answer', { cause });
  }
  // PKIStatus granted (0) or grantedWithMods (1).
  if (resp.status > 1 || !resp.token)
    throw new AppError(
      'timestamp_failed',
      `The time-stamping service refused the request (status ${resp.status})`,
    );

  const check = await checkTimestampToken(resp.token, data, options.trust);
  if (!check.tstInfo?.nonce || !nonce.equals(check.tstInfo.nonce))
    check.problems.push('the timestamp does not answer our request (nonce)');
  if (
    !check.imprintValid ||
    !check.signatureValid ||
    !check.timeStampingUsage ||
    check.trusted === false ||
    check.problems.length
  )
    throw new AppError('timestamp_failed', `The timestamp is not valid: ${check.problems.join('; ')}`);
  return resp.token;
}

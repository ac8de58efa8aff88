// RFC 3161 time-stamp protocol: the client that asks a time-stamping authority (TSA) for a token over a
// signature value (the PAdES B-T signature timestamp, ETSI EN 319 142-1 §5.4 / EN 319 122-1 §5.3), and
// the check of such a token, used when signing and by the verifier.
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import { checkSignerInfo, findSignerCertificate, HASH_BY_OID, parseSignedData, sha256 } from './cms.ts';
import * as der from './der.ts';
import { formatName, nameAttribute, OID, parseCertificate, type pkijs } from './pki.ts';
import type { Trust } from './trust.ts';

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
  tstInfo: TstInfo | undefined;
  problems: string[];
}

/** Check a timestamp token (ContentInfo with SignedData over a TSTInfo, DER) over `covered`. */
export async function checkTimestampToken(
  token: Uint8Array,
  covered: Uint8Array,
  trust?: Trust,
): Promise<TimestampCheck> {
  const check: TimestampCheck = {
    genTime: undefined,
    imprintValid: false,
    signatureValid: false,
    timeStampingUsage: false,
    trusted: undefined,
    tsaName: undefined,
    tstInfo: undefined,
    problems: [],
  };
  try {
    const sd = parseSignedData(token);
    if (sd.eContentType !== OID.tstInfo || !sd.eContent)
      throw new Error('the token does not contain a TSTInfo');
    const tst = parseTstInfo(sd.eContent);
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

    const cert = parseCertificate(certDer);
    check.tsaName = nameAttribute(cert.subject, OID.commonName) ?? formatName(cert.subject);
    const eku = cert.extensions?.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as
      pkijs.ExtKeyUsage | undefined;
    check.timeStampingUsage = !!eku?.keyPurposes.includes(OID.kpTimeStamping);
    if (!check.timeStampingUsage) check.problems.push('the TSA certificate is not for time-stamping');

    if (trust) {
      const chain = await trust.validate(cert, sd.certificates, tst.genTime);
      check.trusted = chain.valid;
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

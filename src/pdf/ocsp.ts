// OCSP responses (RFC 6960) as long-term validation data (PAdES B-LT, ETSI EN 319 142-1 §5.4.2): the local
// signing CA answers for a certificate it issued, right after the signature, and the answer goes into the
// document's DSS; the verifier reads such answers back and checks them. Responses are built and read as
// DER (der.ts) and signed with Node's crypto, like the certificates: this is on the signing path.
import { createHash } from 'node:crypto';
import { type HashName, signatureHashOf, signedBy, verifyWithKey } from './cms.ts';
import * as der from './der.ts';
import { OID, type PrivateKeyInfo, signWith } from './pki.ts';

const HASH_OF: Readonly<Record<string, HashName | 'sha1'>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export type CertStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date } | { status: 'unknown' };

export interface OcspResponseOptions {
  /** DER of the certificate the response is about. */
  certificate: Uint8Array;
  /** DER of its issuer's certificate, whose key signs the response (RFC 6960 §4.2.2.2: the CA itself). */
  issuerCertificate: Uint8Array;
  issuerKey: PrivateKeyInfo;
  status: CertStatus;
  producedAt: Date;
  /** Default: producedAt. */
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/**
 * CertID (RFC 6960 §4.1.1) with SHA-1, as the lightweight profile (RFC 5019 §2.1.1) asks: an identifier
 * (issuer name and key hashes, serial number), not a signature.
 */
function certId(certificate: Uint8Array, issuerCertificate: Uint8Array): Buffer {
  const cert = der.certificateParts(certificate);
  const issuer = der.certificateParts(issuerCertificate);
  const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();
  return der.seq(
    der.algorithm(OID.sha1, true),
    der.octets(sha1(cert.issuer)),
    der.octets(sha1(der.publicKeyBits(issuer.spki))),
    der.unsignedInteger(cert.serial),
  );
}

/** A successful OCSPResponse (DER) with one SingleResponse, signed by the issuer's key (responder byKey). */
export function issueOcspResponse(o: OcspResponseOptions): Buffer {
  const issuer = der.certificateParts(o.issuerCertificate);
  const status =
    o.status.status === 'good'
      ? Buffer.from([0x80, 0x00]) // good [0] IMPLICIT NULL
      : o.status.status === 'revoked'
        ? der.ctx(1, der.generalizedTime(o.status.revokedAt)) // revoked [1] IMPLICIT RevokedInfo
        : Buffer.from([0x82, 0x00]); // unknown [2] IMPLICIT NULL
  const single = der.seq(
    certId(o.certificate, o.issuerCertificate),
    status,
    der.generalizedTime(o.thisUpdate ?? o.producedAt),
    ...(o.nextUpdate ? [der.ctx(0, der.generalizedTime(o.nextUpdate))] : []),
  );
  const keyHash = createHash('sha1').update(der.publicKeyBits(issuer.spki)).digest();
  const tbs = der.seq(
    der.tlv(0xa2, der.octets(keyHash)), // responderID byKey [2] EXPLICIT (version v1 is the default)
    der.generalizedTime(o.producedAt),
    der.seq(single),
  );
  const sigAlg = der.algorithm(o.issuerKey.signatureOid, o.issuerKey.rsa);
  const basic = der.seq(tbs, sigAlg, der.bitString(signWith(o.issuerKey, tbs)));
  return der.seq(der.enumerated(0), der.ctx(0, der.seq(der.oid(OID.ocspBasic), der.octets(basic))));
}

// ---------------------------------------------------------------------------------------------------
// Reading and checking

interface SingleResponse {
  hashAlgorithm: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  serial: Uint8Array;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

export interface OcspResponse {
  /** The signed part (ResponseData) as DER. */
  tbs: Uint8Array;
  responder: { name: Uint8Array } | { keyHash: Uint8Array };
  producedAt: Date;
  responses: SingleResponse[];
  signatureAlgorithm: string;
  signature: Uint8Array;
  certificates: Uint8Array[];
}

/** Parse an OCSPResponse (DER); throws DerError when it is not a successful basic response. */
export function parseOcspResponse(bytes: Uint8Array): OcspResponse {
  const [status, wrapped] = der.children(bytes, der.readTlv(bytes, 0));
  if (status?.tag !== 0x0a || der.contentOf(bytes, status)[0] !== 0 || !wrapped)
    throw new der.DerError('not a successful OCSP response');
  const [type, octets] = der.children(bytes, der.children(bytes, wrapped)[0]!);
  if (!type || der.decodeOid(der.contentOf(bytes, type)) !== OID.ocspBasic || octets?.tag !== 0x04)
    throw new der.DerError('not a basic OCSP response');
  const basic = der.contentOf(bytes, octets);
  const [tbsTlv, algTlv, sigTlv, certsTlv] = der.children(basic, der.readTlv(basic, 0));
  if (!tbsTlv || !algTlv || sigTlv?.tag !== 0x03) throw new der.DerError('bad BasicOCSPResponse');
  const fields = der.children(basic, tbsTlv);
  const [responderTlv, producedTlv, responsesTlv] = fields.slice(fields[0]?.tag === 0xa0 ? 1 : 0); // [0] version
  if (!responderTlv || producedTlv?.tag !== 0x18 || responsesTlv?.tag !== 0x30)
    throw new der.DerError('bad ResponseData');
  const inner = der.children(basic, responderTlv)[0];
  if (!inner) throw new der.DerError('bad ResponderID');
  const responder =
    responderTlv.tag === 0xa1 ? { name: der.rawOf(basic, inner) } : { keyHash: der.contentOf(basic, inner) };
  const responses = der.children(basic, responsesTlv).map((r) => singleResponse(basic, r));
  const certificates =
    certsTlv?.tag === 0xa0
      ? der.children(basic, der.children(basic, certsTlv)[0]!).map((c) => der.rawOf(basic, c))
      : [];
  return {
    tbs: der.rawOf(basic, tbsTlv),
    responder,
    producedAt: der.readTime(basic, producedTlv),
    responses,
    signatureAlgorithm: der.algorithmOid(basic, algTlv),
    signature: der.contentOf(basic, sigTlv).subarray(1),
    certificates,
  };
}

function singleResponse(buf: Uint8Array, t: der.Tlv): SingleResponse {
  const [idTlv, statusTlv, thisTlv, ...rest] = der.children(buf, t);
  if (!idTlv || !statusTlv || thisTlv?.tag !== 0x18) throw new der.DerError('bad SingleResponse');
  const [alg, nameHash, keyHash, serial] = der.children(buf, idTlv);
  if (!alg || !nameHash || !keyHash || !serial) throw new der.DerError('bad CertID');
  let status: CertStatus;
  if (statusTlv.tag === 0x80) status = { status: 'good' };
  else if (statusTlv.tag === 0xa1) {
    const time = der.children(buf, statusTlv)[0];
    if (time?.tag !== 0x18) throw new der.DerError('bad RevokedInfo');
    status = { status: 'revoked', revokedAt: der.readTime(buf, time) };
  } else status = { status: 'unknown' };
  const next = rest.find((r) => r.tag === 0xa0);
  const nextTime = next && der.children(buf, next)[0];
  return {
    hashAlgorithm: der.algorithmOid(buf, alg),
    issuerNameHash: der.contentOf(buf, nameHash),
    issuerKeyHash: der.contentOf(buf, keyHash),
    serial: der.contentOf(buf, serial),
    status,
    thisUpdate: der.readTime(buf, thisTlv),
    nextUpdate: nextTime ? der.readTime(buf, nextTime) : undefined,
  };
}

export interface OcspAnswer {
  status: CertStatus;
  producedAt: Date;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);

/** Whether `cert` (DER) names the responder and may sign OCSP responses for `issuer` (RFC 6960 §4.2.2.2). */
function delegatedResponder(cert: Uint8Array, issuer: der.CertificateParts, at: Date): boolean {
  try {
    const parts = der.certificateParts(cert);
    if (!sameBytes(parts.issuer, issuer.subject) || at < parts.notBefore || at > parts.notAfter) return false;
    if (!signedBy(cert, issuer.spki)) return false;
    return der.extendedKeyUsages(cert).includes(OID.kpOcspSigning);
  } catch {
    return false;
  }
}

/**
 * What a parsed response says about `certificate` (issued by `issuer`, both DER), when the response is
 * signed by the issuer or a responder it delegated to; undefined when it says nothing we can rely on.
 */
export function ocspAnswerFor(
  response: OcspResponse,
  certificate: Uint8Array,
  issuer: Uint8Array,
): OcspAnswer | undefined {
  const cert = der.certificateParts(certificate);
  const ca = der.certificateParts(issuer);
  const keyBits = der.publicKeyBits(ca.spki);
  const single = response.responses.find((r) => {
    const hash = HASH_OF[r.hashAlgorithm];
    if (!hash) return false;
    const h = (b: Uint8Array) => createHash(hash).update(b).digest();
    return (
      sameBytes(der.unsignedInteger(r.serial), der.unsignedInteger(cert.serial)) &&
      h(cert.issuer).equals(r.issuerNameHash) &&
      h(keyBits).equals(r.issuerKeyHash)
    );
  });
  if (!single) return undefined;

  // Who signed: the CA itself (by key hash or name), or a delegated responder carried in the response.
  const sha1Key = createHash('sha1').update(keyBits).digest();
  const byCa =
    'keyHash' in response.responder
      ? sha1Key.equals(response.responder.keyHash)
      : sameBytes(response.responder.name, ca.subject);
  let signerSpki: Uint8Array | undefined = byCa ? ca.spki : undefined;
  if (!signerSpki) {
    const delegated = response.certificates.find((c) => {
      const parts = der.certificateParts(c);
      const named =
        'keyHash' in response.responder
          ? createHash('sha1')
              .update(der.publicKeyBits(parts.spki))
              .digest()
              .equals(response.responder.keyHash)
          : sameBytes(response.responder.name, parts.subject);
      return named && delegatedResponder(c, ca, response.producedAt);
    });
    signerSpki = delegated && der.certificateParts(delegated).spki;
  }
  const hash = signatureHashOf(response.signatureAlgorithm);
  if (!signerSpki || !hash || !verifyWithKey(signerSpki, hash, response.tbs, response.signature))
    return undefined;
  return {
    status: single.status,
    producedAt: response.producedAt,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
  };
}

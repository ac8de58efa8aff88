// CMS SignedData for a PDF signature (RFC 5652), as PAdES baseline B-B wants it (ETSI EN 319 142-1
// §6.3, with the CAdES attributes of ETSI EN 319 122-1 §5.2): detached (no eContent), SHA-256, signed
// attributes content-type, message-digest and signing-certificate-v2 (RFC 5035). No signing-time
// attribute: in PAdES the claimed time is the signature dictionary's /M (EN 319 142-1 §5.3). With a
// time-stamping authority, a signature timestamp (RFC 3161) over the signature value goes in as the
// unsigned attribute id-aa-signatureTimeStampToken (RFC 3161 appendix A): B-T.
//
// Also the reading side, shared by the verifier and the time-stamp client. Both sides work on DER
// directly (der.ts), with certificates kept as the bytes they are: see der.ts for why not pkijs here.
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import * as der from './der.ts';
import { OID } from './pki.ts';
import type { SignatureKey } from './signing-service.ts';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export const HASH_BY_OID: Readonly<Record<string, HashName>> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export function sha256(...chunks: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest();
}

const attribute = (type: string, ...values: Uint8Array[]): Buffer =>
  der.seq(der.oid(type), der.setOf(...values));

/** ESS signing-certificate-v2 (RFC 5035 §3): binds the signer certificate into what is signed. */
function signingCertificateV2(certificate: Uint8Array): Buffer {
  const { issuer, serial } = der.certificateParts(certificate);
  // IssuerSerial: GeneralNames with the issuer as directoryName [4] (RFC 5280 §4.2.1.6), serial number.
  const issuerSerial = der.seq(der.seq(der.ctx(4, issuer)), der.unsignedInteger(serial));
  // ESSCertIDv2 without hashAlgorithm: its DEFAULT is id-sha256, and DER leaves defaults out.
  const essCertIdV2 = der.seq(der.octets(sha256(certificate)), issuerSerial);
  return attribute(OID.signingCertificateV2, der.seq(der.seq(essCertIdV2)));
}

/** The signed attributes as DER SET OF (RFC 5652 §5.4): content-type, message-digest, signing-certificate-v2. */
export function signedAttributes(
  contentType: string,
  messageDigest: Uint8Array,
  certificate: Uint8Array,
): Buffer {
  return der.setOf(
    attribute(OID.contentType, der.oid(contentType)),
    attribute(OID.messageDigest, der.octets(messageDigest)),
    signingCertificateV2(certificate),
  );
}

export interface SignedDataParts {
  eContentType: string;
  /** The encapsulated content; absent in a detached signature. */
  eContent?: Uint8Array;
  /** Certificates to carry, the signer's first. */
  certificates: readonly Uint8Array[];
  /** The signer's certificate: named in the SignerInfo by issuer and serial number. */
  signerCertificate: Uint8Array;
  /** DER SET OF the signed attributes, as signed (signedAttributes()). */
  signedAttrs: Uint8Array;
  signatureAlgorithm: { oid: string; nullParameters: boolean };
  signature: Uint8Array;
  /** Unsigned attributes as (type, value) pairs, e.g. the signature timestamp token. */
  unsignedAttrs?: Array<[string, Uint8Array]>;
}

/** ContentInfo { SignedData } DER with one SHA-256 SignerInfo (RFC 5652 §5). */
export function encodeSignedData(p: SignedDataParts): Buffer {
  const { issuer, serial } = der.certificateParts(p.signerCertificate);
  const sha256Alg = der.algorithm(OID.sha256);
  const signerInfo = der.seq(
    der.smallInteger(1), // version 1: sid is issuerAndSerialNumber
    der.seq(issuer, der.unsignedInteger(serial)),
    sha256Alg,
    // The SET OF with the [0] IMPLICIT tag in the SignerInfo.
    Buffer.concat([Buffer.from([0xa0]), Buffer.from(p.signedAttrs.subarray(1))]),
    der.algorithm(p.signatureAlgorithm.oid, p.signatureAlgorithm.nullParameters),
    der.octets(p.signature),
    ...(p.unsignedAttrs?.length
      ? [der.ctx(1, ...p.unsignedAttrs.map(([type, value]) => attribute(type, value)))]
      : []),
  );
  const encapsulated = p.eContent
    ? der.seq(der.oid(p.eContentType), der.ctx(0, der.octets(p.eContent)))
    : der.seq(der.oid(p.eContentType));
  const signedData = der.seq(
    // version 1 for id-data with issuerAndSerialNumber, 3 for any other content type (§5.1)
    der.smallInteger(p.eContentType === OID.data ? 1 : 3),
    der.set(sha256Alg),
    encapsulated,
    der.ctx(0, ...p.certificates),
    der.set(signerInfo),
  );
  return der.seq(der.oid(OID.signedData), der.ctx(0, signedData));
}

export interface CmsSignature {
  /** SignerInfo.signature: what a signature timestamp covers. */
  signatureValue: Uint8Array;
  /** ContentInfo { SignedData } DER, with the timestamp token as unsigned attribute when given. */
  encode(timestampToken?: Uint8Array): Buffer;
}

/** Build and sign the SignedData over a PDF byte range's SHA-256 (`messageDigest`). */
export async function createCmsSignature(
  key: SignatureKey,
  messageDigest: Uint8Array,
): Promise<CmsSignature> {
  // Detached id-data; no signing-time attribute (PAdES puts the claimed time in /M).
  const signedAttrs = signedAttributes(OID.data, messageDigest, key.certificate);
  const signatureValue = await key.sign({ data: signedAttrs, digest: sha256(signedAttrs) });
  const encode = (timestampToken?: Uint8Array): Buffer =>
    encodeSignedData({
      eContentType: OID.data,
      certificates: [key.certificate, ...key.chain], // signer, signing CA, root
      signerCertificate: key.certificate,
      signedAttrs,
      signatureAlgorithm: key.signatureAlgorithm,
      signature: signatureValue,
      ...(timestampToken ? { unsignedAttrs: [[OID.signatureTimeStampToken, timestampToken]] } : {}),
    });
  return { signatureValue, encode };
}

// ---------------------------------------------------------------------------------------------------
// Reading

export interface SignerInfo {
  sid: { issuer: Uint8Array; serial: Uint8Array } | { keyId: Uint8Array };
  digestAlgorithm: string;
  /** The signed attributes as DER SET OF: the bytes the signature covers. */
  signedAttrs: Uint8Array | undefined;
  signedAttributes: Map<string, Uint8Array[]>;
  signatureAlgorithm: string;
  signature: Uint8Array;
  unsignedAttributes: Map<string, Uint8Array[]>;
}

export interface SignedData {
  eContentType: string;
  /** Encapsulated content (the TSTInfo of a timestamp token); absent when detached. */
  eContent: Uint8Array | undefined;
  /** Certificates as DER. */
  certificates: Uint8Array[];
  signerInfos: SignerInfo[];
}

function attributes(buf: Uint8Array, t: der.Tlv): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  for (const attr of der.children(buf, t)) {
    const [type, values] = der.children(buf, attr);
    if (!type || !values) throw new der.DerError('bad attribute');
    out.set(
      der.decodeOid(der.contentOf(buf, type)),
      der.children(buf, values).map((v) => der.rawOf(buf, v)),
    );
  }
  return out;
}

function signerInfo(buf: Uint8Array, t: der.Tlv): SignerInfo {
  const f = der.children(buf, t);
  let i = 1; // after version
  const sidTlv = f[i++]!;
  const sid =
    sidTlv.tag === 0x30
      ? (() => {
          const [issuer, serial] = der.children(buf, sidTlv);
          if (!issuer || !serial) throw new der.DerError('bad issuerAndSerialNumber');
          return { issuer: der.rawOf(buf, issuer), serial: der.contentOf(buf, serial) };
        })()
      : { keyId: der.contentOf(buf, sidTlv) };
  const digestAlgorithm = der.algorithmOid(buf, f[i++]!);
  let signedAttrs: Uint8Array | undefined;
  let signedAttributes = new Map<string, Uint8Array[]>();
  if (f[i]?.tag === 0xa0) {
    const a = f[i++]!;
    signedAttrs = Buffer.concat([Buffer.from([0x31]), buf.subarray(a.start + 1, a.end)]);
    signedAttributes = attributes(buf, a);
  }
  const signatureAlgorithm = der.algorithmOid(buf, f[i++]!);
  const sig = f[i++];
  if (sig?.tag !== 0x04) throw new der.DerError('bad signature value');
  const unsigned = f[i]?.tag === 0xa1 ? attributes(buf, f[i]!) : new Map<string, Uint8Array[]>();
  return {
    sid,
    digestAlgorithm,
    signedAttrs,
    signedAttributes,
    signatureAlgorithm,
    signature: der.contentOf(buf, sig),
    unsignedAttributes: unsigned,
  };
}

/** Parse ContentInfo { SignedData } (DER). Trailing bytes (the /Contents zero padding) are ignored. */
export function parseSignedData(bytes: Uint8Array): SignedData {
  const ci = der.readTlv(bytes, 0);
  const [type, explicit] = der.children(bytes, ci);
  if (!type || der.decodeOid(der.contentOf(bytes, type)) !== OID.signedData || !explicit)
    throw new der.DerError('not a SignedData');
  const sdTlv = der.children(bytes, explicit)[0];
  if (!sdTlv) throw new der.DerError('empty SignedData');
  const f = der.children(bytes, sdTlv);
  const encap = f[2];
  if (!encap) throw new der.DerError('no encapsulated content info');
  const [eType, eWrap] = der.children(bytes, encap);
  let eContent: Uint8Array | undefined;
  if (eWrap) {
    const octets = der.children(bytes, eWrap)[0];
    if (octets?.tag === 0x04) eContent = der.contentOf(bytes, octets);
    else if (octets?.tag === 0x24)
      eContent = Buffer.concat(der.children(bytes, octets).map((p) => der.contentOf(bytes, p))); // BER constructed
  }
  let certificates: Uint8Array[] = [];
  const rest = f.slice(3);
  const certsTlv = rest.find((t) => t.tag === 0xa0);
  if (certsTlv)
    certificates = der
      .children(bytes, certsTlv)
      .filter((c) => c.tag === 0x30)
      .map((c) => der.rawOf(bytes, c));
  const infos = rest.find((t) => t.tag === 0x31);
  return {
    eContentType: eType ? der.decodeOid(der.contentOf(bytes, eType)) : '',
    eContent,
    certificates,
    signerInfos: infos ? der.children(bytes, infos).map((s) => signerInfo(bytes, s)) : [],
  };
}

/** The certificate a SignerInfo names (issuerAndSerialNumber, or subjectKeyIdentifier by method 1). */
export function findSignerCertificate(sd: SignedData, si: SignerInfo): Uint8Array | undefined {
  return sd.certificates.find((c) => {
    try {
      const parts = der.certificateParts(c);
      if ('keyId' in si.sid)
        return createHash('sha1').update(der.publicKeyBits(parts.spki)).digest().equals(si.sid.keyId);
      return (
        Buffer.from(parts.issuer).equals(si.sid.issuer) && Buffer.from(parts.serial).equals(si.sid.serial)
      );
    } catch {
      return false;
    }
  });
}

export interface SignerInfoCheck {
  /** message-digest attribute equals the digest of the content. */
  digestValid: boolean;
  /** The signature over the signed attributes verifies with the certificate's key. */
  signatureValid: boolean;
  /** content-type attribute equals the expected content type. */
  contentTypeValid: boolean;
  hash: HashName | undefined;
  problems: string[];
}

const SIGNATURE_HASH: Readonly<Record<string, HashName>> = {
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};

/**
 * Check a SignerInfo with signed attributes (RFC 5652 §5.4, §5.6): the message digest over `content`
 * and the signature over the DER signed attributes (ECDSA and RSA PKCS#1 v1.5).
 */
export function checkSignerInfo(
  si: SignerInfo,
  certificate: Uint8Array,
  content: readonly Uint8Array[],
  expectedContentType: string,
): SignerInfoCheck {
  const problems: string[] = [];
  const hash = HASH_BY_OID[si.digestAlgorithm];
  const result: SignerInfoCheck = {
    digestValid: false,
    signatureValid: false,
    contentTypeValid: false,
    hash,
    problems,
  };
  if (!hash) {
    problems.push(`unsupported digest algorithm ${si.digestAlgorithm}`);
    return result;
  }
  if (!si.signedAttrs) {
    problems.push('no signed attributes');
    return result;
  }
  const ct = si.signedAttributes.get(OID.contentType)?.[0];
  result.contentTypeValid = !!ct && Buffer.from(ct).equals(der.oid(expectedContentType));
  if (!result.contentTypeValid) problems.push('content-type attribute missing or wrong');

  const md = si.signedAttributes.get(OID.messageDigest)?.[0];
  const h = createHash(hash);
  for (const c of content) h.update(c);
  result.digestValid = !!md && md[0] === 0x04 && h.digest().equals(der.contentOf(md, der.readTlv(md, 0)));
  if (!result.digestValid) problems.push('message digest does not match the signed content');

  const sigHash =
    SIGNATURE_HASH[si.signatureAlgorithm] ??
    (si.signatureAlgorithm === OID.ecPublicKey || si.signatureAlgorithm === OID.rsaEncryption
      ? hash
      : undefined);
  if (!sigHash) {
    problems.push(`unsupported signature algorithm ${si.signatureAlgorithm}`);
    return result;
  }
  result.signatureValid = verifyWithKey(
    der.certificateParts(certificate).spki,
    sigHash,
    si.signedAttrs,
    si.signature,
  );
  if (!result.signatureValid) problems.push('the signature does not verify with the signer certificate');
  return result;
}

/** The hash of a signature algorithm (ECDSA or RSA PKCS#1 v1.5 with SHA-2), or undefined. */
export const signatureHashOf = (algorithmOid: string): HashName | undefined => SIGNATURE_HASH[algorithmOid];

/** Whether `signature` over `data` verifies with the key of `spki` (DER SubjectPublicKeyInfo). */
export function verifyWithKey(
  spki: Uint8Array,
  hash: HashName,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return nodeVerify(
      hash,
      data,
      key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
      signature,
    );
  } catch {
    return false;
  }
}

// The same CA certificates and CRLs are checked for every signature: remember each result (a P-384
// verification costs about a millisecond).
const signedByCache = new Map<string, boolean>();

/** Whether a signed structure (a certificate or CRL: tbs, algorithm, BIT STRING) is signed by `spki`. */
export function signedBy(signed: Uint8Array, spki: Uint8Array): boolean {
  const id = `${sha256(signed).toString('base64')}:${sha256(spki).toString('base64')}`;
  let ok = signedByCache.get(id);
  if (ok !== undefined) return ok;
  try {
    const [tbs, alg, sig] = der.children(signed, der.readTlv(signed, 0));
    const hash = alg && SIGNATURE_HASH[der.algorithmOid(signed, alg)];
    ok =
      !!tbs &&
      sig?.tag === 0x03 &&
      !!hash &&
      verifyWithKey(spki, hash, der.rawOf(signed, tbs), der.contentOf(signed, sig).subarray(1));
  } catch {
    ok = false;
  }
  if (signedByCache.size >= 1024) signedByCache.delete(signedByCache.keys().next().value!);
  signedByCache.set(id, ok);
  return ok;
}

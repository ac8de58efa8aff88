// X.509 building blocks shared by the local signer, the development certificates and the verifier:
// PEM, names, keys and certificate issuance (RFC 5280). Issuance writes DER directly (der.ts) and signs
// with Node's crypto: it runs once per signature and must be fast. Reading and path validation use
// pkijs over Node's WebCrypto.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import * as der from './der.ts';

// One crypto engine for all of pkijs: Node's WebCrypto (no polyfill, no browser globals).
pkijs.setEngine(
  'node-webcrypto',
  new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: globalThis.crypto }),
);

export { asn1js, pkijs };

export const OID = {
  // Attribute types for names (RFC 5280 appendix A; X.520)
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  // Extensions (RFC 5280 §4.2)
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  // Extended key usages
  kpEmailProtection: '1.3.6.1.5.5.7.3.4',
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
  kpDocumentSigning: '1.3.6.1.5.5.7.3.36', // RFC 9336
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  // Revocation (RFC 5280 §5, RFC 6960)
  crlNumber: '2.5.29.20',
  cRLReason: '2.5.29.21',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  // Algorithms
  sha1: '1.3.14.3.2.26', // only to name things (OCSP CertID, RFC 6960 §4.1.1), never to sign
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  // CMS (RFC 5652) and ESS (RFC 5035)
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
} as const;

/** The marker our development certificates carry in their subject; production refuses it. */
export const DEVELOPMENT_MARKER = 'DEVELOPMENT ONLY';

// ---------------------------------------------------------------------------------------------------
// PEM (RFC 7468)

export function pemBlocks(text: string, label: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

export function pemEncode(bytes: Uint8Array, label: string): string {
  const b64 = Buffer.from(bytes).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

// The bytes each parsed certificate came from. Encoding a certificate again (`toSchema(true)`) costs
// milliseconds (a chain validation did it for every signature and timestamp), and for a parsed one its
// own bytes are the right answer: they are what its issuer signed.
const parsedFrom = new WeakMap<pkijs.Certificate, Uint8Array>();

export function parseCertificate(bytes: Uint8Array): pkijs.Certificate {
  const cert = pkijs.Certificate.fromBER(toArrayBuffer(bytes));
  // Only the certificate's own TLV (bytes after it are not part of it), and only DER lengths; anything
  // else is encoded again when asked for.
  try {
    parsedFrom.set(cert, Uint8Array.from(bytes.subarray(0, der.readTlv(bytes, 0).end)));
  } catch {
    // An indefinite or long length: pkijs read it, its encoding is asked for the slow way.
  }
  return cert;
}

/** The certificate's DER: its own bytes when it was parsed (read them, never change them). */
export function certificateDer(cert: pkijs.Certificate): Uint8Array {
  return parsedFrom.get(cert) ?? new Uint8Array(cert.toSchema(true).toBER());
}

// ---------------------------------------------------------------------------------------------------
// Names

export interface NameAttribute {
  type: string;
  value: string;
}

/** Name DER: one attribute per RDN, PrintableString for C and serialNumber (RFC 5280 appendix A), UTF8String otherwise. */
export function encodeName(attrs: NameAttribute[]): Buffer {
  return der.seq(
    ...attrs.map(({ type, value }) =>
      der.set(
        der.seq(
          der.oid(type),
          type === OID.countryName || type === OID.serialNumber ? der.printable(value) : der.utf8(value),
        ),
      ),
    ),
  );
}

/** The first value of an attribute type in a name (e.g. the CN), as text. */
export function nameAttribute(name: pkijs.RelativeDistinguishedNames, type: string): string | undefined {
  const tv = name.typesAndValues.find((t) => t.type === type);
  const v = tv?.value as { valueBlock?: { value?: unknown } } | undefined;
  const s = v?.valueBlock?.value;
  return typeof s === 'string' ? s : undefined;
}

const SHORT_NAMES: Record<string, string> = {
  [OID.countryName]: 'C',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.commonName]: 'CN',
  [OID.serialNumber]: 'serialNumber',
};

/** A readable form of a name, for reports: "CN=…, O=…, C=…" (most specific first, as in RFC 4514). */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => {
      const v = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
      return `${SHORT_NAMES[tv.type] ?? tv.type}=${typeof v === 'string' ? v : '?'}`;
    })
    .reverse()
    .join(', ');
}

export function isDevelopmentName(name: pkijs.RelativeDistinguishedNames): boolean {
  return name.typesAndValues.some((tv) => {
    const v = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    return typeof v === 'string' && v.toUpperCase().includes(DEVELOPMENT_MARKER);
  });
}

// ---------------------------------------------------------------------------------------------------
// Keys

export interface PrivateKeyInfo {
  keyObject: KeyObject;
  /** SubjectPublicKeyInfo DER of the matching public key. */
  spki: Uint8Array;
  /** The hash we sign with: SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521. */
  hash: 'sha256' | 'sha384' | 'sha512';
  /** The signatureAlgorithm OID for certificates signed with this key (RFC 5758 §3.2, RFC 4055). */
  signatureOid: string;
  rsa: boolean;
}

const EC_CURVES: Record<string, { hash: PrivateKeyInfo['hash']; oid: string }> = {
  prime256v1: { hash: 'sha256', oid: OID.ecdsaWithSha256 },
  secp384r1: { hash: 'sha384', oid: OID.ecdsaWithSha384 },
  secp521r1: { hash: 'sha512', oid: OID.ecdsaWithSha512 },
};

/** Import a private key from PEM (PKCS#8 "PRIVATE KEY", or SEC1 "EC PRIVATE KEY" / PKCS#1 "RSA PRIVATE KEY"). */
export function importPrivateKey(pem: string): PrivateKeyInfo {
  const keyObject = createPrivateKey({ key: pem, format: 'pem' });
  const spki = new Uint8Array(createPublicKey(keyObject).export({ type: 'spki', format: 'der' }));
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${keyObject.asymmetricKeyDetails?.namedCurve ?? '?'}`);
    return { keyObject, spki, hash: curve.hash, signatureOid: curve.oid, rsa: false };
  }
  if (keyObject.asymmetricKeyType === 'rsa')
    return { keyObject, spki, hash: 'sha256', signatureOid: OID.sha256WithRsa, rsa: true };
  throw new Error(`unsupported key type ${keyObject.asymmetricKeyType ?? '?'}`);
}

/** Sign with a key: DER ECDSA-Sig-Value (RFC 5758 §3.2) or RSASSA-PKCS1-v1_5. */
export function signWith(key: PrivateKeyInfo, data: Uint8Array): Buffer {
  return nodeSign(key.hash, data, key.rsa ? key.keyObject : { key: key.keyObject, dsaEncoding: 'der' });
}

/** The subjectPublicKeyInfo of a certificate, DER. */
export function certificateSpki(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER());
}

/** Key identifier, method 1 of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash('sha1').update(der.publicKeyBits(spki)).digest();
}

/** The subjectKeyIdentifier extension of a certificate, or a computed one if it has none. */
export function subjectKeyIdentifierOf(cert: pkijs.Certificate): Uint8Array {
  const ext = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (ext?.parsedValue instanceof asn1js.OctetString)
    return new Uint8Array(ext.parsedValue.valueBlock.valueHexView);
  return keyIdentifier(certificateSpki(cert));
}

// ---------------------------------------------------------------------------------------------------
// Issuing certificates

export type KeyUsage = 'digitalSignature' | 'nonRepudiation' | 'keyCertSign' | 'cRLSign';
const KEY_USAGE_BITS: Record<KeyUsage, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyCertSign: 5,
  cRLSign: 6,
};

function keyUsageBits(usages: KeyUsage[]): Buffer {
  let byte = 0;
  for (const u of usages) byte |= 0x80 >> KEY_USAGE_BITS[u];
  let unused = 0;
  while (unused < 7 && ((byte >> unused) & 1) === 0) unused++;
  return der.bitString(Buffer.from([byte]), unused);
}

/** What issuing needs to know about the issuer, taken from its certificate once. */
export interface Issuer {
  /** The issuer's subject Name, DER: the new certificate's issuer field. */
  name: Uint8Array;
  /** The issuer's subject key identifier: the new certificate's authorityKeyIdentifier. */
  keyIdentifier: Uint8Array;
  key: PrivateKeyInfo;
}

export function issuerFrom(certificateDer: Uint8Array, key: PrivateKeyInfo): Issuer {
  return {
    name: der.certificateParts(certificateDer).subject,
    keyIdentifier: subjectKeyIdentifierOf(parseCertificate(certificateDer)),
    key,
  };
}

export interface IssueOptions {
  subject: NameAttribute[];
  /** SubjectPublicKeyInfo DER of the key being certified. */
  spki: Uint8Array;
  /** The issuer; for a self-signed certificate, give the subject's own key with `selfSigned`. */
  issuer: Issuer | { selfSigned: PrivateKeyInfo };
  notBefore: Date;
  notAfter: Date;
  keyUsage: KeyUsage[];
  extKeyUsage?: string[];
  /** Mark extendedKeyUsage critical (RFC 3161 §2.3 requires it for a TSA's certificate). */
  extKeyUsageCritical?: boolean;
  /** A CA certificate: basicConstraints cA, with an optional path length. */
  ca?: { pathLength?: number };
  /** certificatePolicies OIDs (no qualifiers). */
  policies?: string[];
  /** Serial number bytes; default 16 random bytes. */
  serial?: Uint8Array;
}

/** Extension (RFC 5280 §4.1): critical is DEFAULT FALSE, so DER leaves it out when false. */
export const extension = (id: string, critical: boolean, value: Uint8Array): Buffer =>
  der.seq(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octets(value));

/** Issue an X.509 v3 certificate (RFC 5280), DER. */
export function issueCertificate(opts: IssueOptions): Buffer {
  const signer = 'selfSigned' in opts.issuer ? opts.issuer.selfSigned : opts.issuer.key;
  const subjectName = encodeName(opts.subject);
  const ski = keyIdentifier(opts.spki);
  const issuerName = 'selfSigned' in opts.issuer ? subjectName : opts.issuer.name;
  const aki = 'selfSigned' in opts.issuer ? ski : opts.issuer.keyIdentifier;
  const basicConstraints = opts.ca
    ? der.seq(
        der.boolean(true),
        ...(opts.ca.pathLength === undefined ? [] : [der.smallInteger(opts.ca.pathLength)]),
      )
    : der.seq(); // cA DEFAULT FALSE; no pathLenConstraint outside CAs (§4.2.1.9)
  const extensions = [
    extension(OID.basicConstraints, true, basicConstraints),
    extension(OID.keyUsage, true, keyUsageBits(opts.keyUsage)),
    extension(OID.subjectKeyIdentifier, false, der.octets(ski)),
    extension(OID.authorityKeyIdentifier, false, der.seq(der.tlv(0x80, aki))),
  ];
  if (opts.extKeyUsage?.length)
    extensions.push(
      extension(
        OID.extKeyUsage,
        !!opts.extKeyUsageCritical,
        der.seq(...opts.extKeyUsage.map((o) => der.oid(o))),
      ),
    );
  if (opts.policies?.length)
    extensions.push(
      extension(OID.certificatePolicies, false, der.seq(...opts.policies.map((p) => der.seq(der.oid(p))))),
    );

  // Positive 128-bit serial number (§4.1.2.2: at most 20 octets, unpredictable).
  const serial = opts.serial ?? randomBytes(16);
  if (!opts.serial) serial[0] = (serial[0]! & 0x7f) | 0x40;
  const sigAlg = der.algorithm(signer.signatureOid, signer.rsa);
  const tbs = der.seq(
    der.ctx(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    sigAlg,
    issuerName,
    der.seq(der.time(opts.notBefore), der.time(opts.notAfter)),
    subjectName,
    opts.spki,
    der.ctx(3, der.seq(...extensions)),
  );
  return der.seq(tbs, sigAlg, der.bitString(signWith(signer, tbs)));
}

// ---------------------------------------------------------------------------------------------------
// Issuing CRLs

export interface CrlOptions {
  issuer: Issuer;
  thisUpdate: Date;
  nextUpdate: Date;
  /** cRLNumber (RFC 5280 §5.2.3): increases with each CRL the issuer publishes. */
  number: number;
  revoked?: Array<{ serial: Uint8Array; date: Date }>;
}

/** Issue an X.509 v2 CRL (RFC 5280 §5), DER: authorityKeyIdentifier and cRLNumber, as §5.2 requires. */
export function issueCrl(opts: CrlOptions): Buffer {
  const signer = opts.issuer.key;
  const sigAlg = der.algorithm(signer.signatureOid, signer.rsa);
  const revoked = opts.revoked ?? [];
  const tbs = der.seq(
    der.smallInteger(1), // v2
    sigAlg,
    opts.issuer.name,
    der.time(opts.thisUpdate),
    der.time(opts.nextUpdate),
    ...(revoked.length
      ? [der.seq(...revoked.map((r) => der.seq(der.unsignedInteger(r.serial), der.time(r.date))))]
      : []),
    der.ctx(
      0,
      der.seq(
        extension(OID.authorityKeyIdentifier, false, der.seq(der.tlv(0x80, opts.issuer.keyIdentifier))),
        extension(OID.crlNumber, false, der.smallInteger(opts.number)),
      ),
    ),
  );
  return der.seq(tbs, sigAlg, der.bitString(signWith(signer, tbs)));
}

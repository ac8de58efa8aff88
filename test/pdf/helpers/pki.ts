// Throwaway PKIs for tests: a look-alike CA (the attack where someone copies our CA's names), and a
// time-stamping authority for a local RFC 3161 service.
import { generateKeyPairSync } from 'node:crypto';
import * as der from '../../../src/pdf/der.ts';
import {
  certificateSpki,
  type Issuer,
  importPrivateKey,
  issueCertificate,
  issuerFrom,
  type NameAttribute,
  OID,
  type PrivateKeyInfo,
  parseCertificate,
  pemEncode,
} from '../../../src/pdf/pki.ts';

export interface TestCa {
  certificate: Buffer;
  pem: string;
  key: PrivateKeyInfo;
  keyPem: string;
  issuer: Issuer;
}

export function newKey(curve: 'P-256' | 'P-384' = 'P-256'): { key: PrivateKeyInfo; pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { key: importPrivateKey(pem), pem };
}

const YEAR = 365 * 24 * 3600_000;

/** A CA certificate: a root when `parent` is omitted, else below `parent`. */
export function makeCa(
  subject: NameAttribute[],
  parent?: TestCa,
  validity = { from: Date.now() - 3600_000, years: 2 },
): TestCa {
  const { key, pem: keyPem } = newKey();
  const certificate = issueCertificate({
    subject,
    spki: key.spki,
    issuer: parent ? parent.issuer : { selfSigned: key },
    notBefore: new Date(validity.from),
    notAfter: new Date(validity.from + validity.years * YEAR),
    keyUsage: ['keyCertSign', 'cRLSign'],
    ca: parent ? { pathLength: 0 } : {},
  });
  return {
    certificate,
    pem: pemEncode(certificate, 'CERTIFICATE'),
    key,
    keyPem,
    issuer: issuerFrom(certificate, key),
  };
}

export const cn = (value: string, org = 'Samtycke test'): NameAttribute[] => [
  { type: OID.countryName, value: 'SE' },
  { type: OID.organizationName, value: org },
  { type: OID.commonName, value },
];

/** The subject attributes of a certificate, to copy them into a look-alike. */
export function subjectOf(certificate: Uint8Array): NameAttribute[] {
  const cert = parseCertificate(certificate);
  return cert.subject.typesAndValues.map((tv) => ({
    type: tv.type,
    value: String((tv.value as { valueBlock: { value: unknown } }).valueBlock.value),
  }));
}

/**
 * A certificate with the same subject and serial number as `leaf` (so the SignerInfo still names it),
 * issued by `ca` instead, for the same public key or (`otherKey`) a new one: what an attacker with
 * another CA could put into a signature in place of the real certificate.
 */
export function reissue(leaf: Uint8Array, ca: TestCa, otherKey = false): Buffer {
  const cert = parseCertificate(leaf);
  return issueCertificate({
    subject: subjectOf(leaf),
    serial: der.certificateParts(leaf).serial,
    spki: otherKey ? newKey().key.spki : certificateSpki(cert),
    issuer: ca.issuer,
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID.kpDocumentSigning, OID.kpEmailProtection],
  });
}

/** A TSA: root + time-stamping certificate (extendedKeyUsage timeStamping, critical: RFC 3161 §2.3). */
export function makeTsaPki(): { root: TestCa; certPem: string; keyPem: string } {
  const root = makeCa(cn('Samtycke Test TSA Root'));
  const { key, pem: keyPem } = newKey();
  const cert = issueCertificate({
    subject: cn('Samtycke Test TSA'),
    spki: key.spki,
    issuer: root.issuer,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + YEAR),
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID.kpTimeStamping],
    extKeyUsageCritical: true,
  });
  return { root, certPem: pemEncode(cert, 'CERTIFICATE'), keyPem };
}

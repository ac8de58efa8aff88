// The checks on one PDF signature's CMS (ETSI EN 319 142-1 §6.3 PAdES baseline, EN 319 102-1 basic
// validation): message digest over the byte range, signature over the signed attributes,
// signing-certificate-v2 (RFC 5035), the signer certificate's chain at the signing time, and the
// signature timestamp (RFC 3161) when there is one.
import {
  checkSignerInfo,
  findSignerCertificate,
  parseSignedData,
  type SignedData,
  type SignerInfo,
  sha256,
} from '../cms.ts';
import * as der from '../der.ts';
import { type asn1js, formatName, nameAttribute, OID, parseCertificate, type pkijs } from '../pki.ts';
import type { Trust } from '../trust.ts';
import { checkTimestampToken } from '../tsa.ts';

export interface CmsReport {
  /** The CMS could be read and names a certificate we found in it. */
  readable: boolean;
  digestValid: boolean;
  signatureValid: boolean;
  /** signing-certificate-v2 is present and binds the certificate that signed. */
  signingCertificateValid: boolean;
  /** A signing-time signed attribute is present (PAdES baseline wants /M instead). */
  hasSigningTimeAttribute: boolean;
  digestAlgorithm: string | undefined;
  problems: string[];
}

export interface CertificateReport {
  signerName: string | undefined;
  issuer: string | undefined;
  serialNumber: string | undefined;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  /** Chain to a trust anchor, validated at `validatedAt`. */
  chainValid: boolean;
  validatedAt: Date | undefined;
  validationTimeSource: 'timestamp' | 'claimed-signing-time' | 'current-time';
  /** Subject names of the validated path, signer first (CAs and signer CN only). */
  path: string[];
  keyUsageValid: boolean;
  problems: string[];
}

export interface TimestampReport {
  genTime: Date | undefined;
  tsa: string | undefined;
  imprintValid: boolean;
  signatureValid: boolean;
  trusted: boolean;
  problems: string[];
}

export interface CmsCheckResult {
  cms: CmsReport;
  certificate: CertificateReport;
  timestamp: TimestampReport | undefined;
}

/** ESSCertIDv2.certHash of the first cert id, with its hash algorithm (default SHA-256, RFC 5035 §4). */
function signingCertificateHash(si: SignerInfo): { hash: string; value: Uint8Array } | undefined {
  const attr = si.signedAttributes.get(OID.signingCertificateV2)?.[0];
  if (!attr) return undefined;
  try {
    const certs = der.children(attr, der.readTlv(attr, 0))[0];
    const first = certs && der.children(attr, certs)[0];
    if (!first) return undefined;
    const parts = der.children(attr, first);
    let hash: string = OID.sha256;
    let i = 0;
    if (parts[0]?.tag === 0x30) {
      hash = der.algorithmOid(attr, parts[0]);
      i = 1;
    }
    const octets = parts[i];
    return octets?.tag === 0x04 ? { hash, value: der.contentOf(attr, octets) } : undefined;
  } catch {
    return undefined;
  }
}

function keyUsageAllowsSigning(cert: pkijs.Certificate): boolean {
  const ku = cert.extensions?.find((e) => e.extnID === OID.keyUsage)?.parsedValue as
    asn1js.BitString | undefined;
  if (!ku) return true; // no restriction
  const byte = ku.valueBlock.valueHexView[0] ?? 0;
  return (byte & 0xc0) !== 0; // digitalSignature or nonRepudiation (RFC 5280 §4.2.1.3)
}

/**
 * Check the CMS in /Contents against the signed byte ranges. `claimedTime` is /M; it is the validation
 * time only when there is no valid timestamp (then it is the signer's own claim, and reported so).
 */
export async function checkCms(
  contents: Uint8Array,
  signedChunks: readonly Uint8Array[],
  claimedTime: Date | undefined,
  trust: Trust,
  tsaTrust: Trust,
  now: Date,
): Promise<CmsCheckResult> {
  const cms: CmsReport = {
    readable: false,
    digestValid: false,
    signatureValid: false,
    signingCertificateValid: false,
    hasSigningTimeAttribute: false,
    digestAlgorithm: undefined,
    problems: [],
  };
  const certificate: CertificateReport = {
    signerName: undefined,
    issuer: undefined,
    serialNumber: undefined,
    notBefore: undefined,
    notAfter: undefined,
    chainValid: false,
    validatedAt: undefined,
    validationTimeSource: 'current-time',
    path: [],
    keyUsageValid: false,
    problems: [],
  };
  let sd: SignedData;
  try {
    sd = parseSignedData(contents);
  } catch {
    cms.problems.push('the signature value is not a CMS SignedData');
    return { cms, certificate, timestamp: undefined };
  }
  const signerInfo = sd.signerInfos[0];
  if (sd.signerInfos.length !== 1 || !signerInfo) cms.problems.push('expected exactly one signer');
  if (sd.eContent) cms.problems.push('the CMS is not detached (it carries content)');
  const certDer = signerInfo && findSignerCertificate(sd, signerInfo);
  if (!signerInfo || !certDer) {
    cms.problems.push('the signer certificate is not in the signature');
    return { cms, certificate, timestamp: undefined };
  }
  let cert: pkijs.Certificate;
  try {
    cert = parseCertificate(certDer);
  } catch {
    cms.problems.push('the signer certificate cannot be read');
    return { cms, certificate, timestamp: undefined };
  }
  cms.readable = true;

  const si = checkSignerInfo(signerInfo, certDer, signedChunks, OID.data);
  cms.digestValid = si.digestValid;
  cms.signatureValid = si.signatureValid && si.contentTypeValid;
  cms.digestAlgorithm = si.hash;
  cms.problems.push(...si.problems);

  const essHash = signingCertificateHash(signerInfo);
  if (!essHash) cms.problems.push('no signing-certificate-v2 attribute (PAdES baseline requires it)');
  else if (essHash.hash !== OID.sha256)
    cms.problems.push('signing-certificate-v2 uses a hash we do not check');
  else {
    cms.signingCertificateValid = sha256(certDer).equals(essHash.value);
    if (!cms.signingCertificateValid)
      cms.problems.push('signing-certificate-v2 names another certificate than the signer’s');
  }
  cms.hasSigningTimeAttribute = signerInfo.signedAttributes.has(OID.signingTime);

  certificate.signerName = nameAttribute(cert.subject, OID.commonName);
  certificate.issuer = nameAttribute(cert.issuer, OID.commonName) ?? formatName(cert.issuer);
  certificate.serialNumber = Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex');
  certificate.notBefore = cert.notBefore.value;
  certificate.notAfter = cert.notAfter.value;
  certificate.keyUsageValid = keyUsageAllowsSigning(cert);
  if (!certificate.keyUsageValid)
    certificate.problems.push('the certificate may not be used for signatures (key usage)');

  // Signature timestamp (unsigned attribute, RFC 3161 appendix A) over the signature value.
  let timestamp: TimestampReport | undefined;
  const token = signerInfo.unsignedAttributes.get(OID.signatureTimeStampToken)?.[0];
  if (token) {
    const check = await checkTimestampToken(token, signerInfo.signature, tsaTrust);
    timestamp = {
      genTime: check.genTime,
      tsa: check.tsaName,
      imprintValid: check.imprintValid,
      signatureValid: check.signatureValid && check.timeStampingUsage,
      trusted: check.trusted === true,
      problems: check.problems,
    };
  }

  // The best signature time (ETSI EN 319 102-1 §5.6.2.1): a valid, trusted timestamp; else the claim.
  if (timestamp?.genTime && timestamp.imprintValid && timestamp.signatureValid && timestamp.trusted) {
    certificate.validatedAt = timestamp.genTime;
    certificate.validationTimeSource = 'timestamp';
  } else if (claimedTime) {
    certificate.validatedAt = claimedTime;
    certificate.validationTimeSource = 'claimed-signing-time';
  } else {
    certificate.validatedAt = now;
    certificate.validationTimeSource = 'current-time';
  }
  const chain = await trust.validate(cert, sd.certificates, certificate.validatedAt);
  certificate.chainValid = chain.valid;
  certificate.path = chain.path.map((c, i) =>
    i === 0
      ? (certificate.signerName ?? '?')
      : (nameAttribute(c.subject, OID.commonName) ?? formatName(c.subject)),
  );
  if (!chain.valid) certificate.problems.push(chain.problem ?? 'the certificate chain is not valid');
  return { cms, certificate, timestamp };
}

// The checks on one PDF signature's CMS (ETSI EN 319 142-1 §6.3 PAdES baseline, EN 319 102-1 basic
// validation): message digest over the byte range, signature over the signed attributes,
// signing-certificate-v2 (RFC 5035), the signature timestamp (RFC 3161) when there is one, and the signer
// certificate's chain at the best signature time (the timestamp's) with its revocation status from the
// document's DSS (long-term validation, EN 319 102-1 §5.6.2).
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
import { type ParsedValidationData, type RevocationStatus, revocationStatus } from '../validation-data.ts';

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
  /** Revocation status at `validatedAt` of each certificate of the path below the anchor, from the DSS. */
  revocation: RevocationStatus[];
  keyUsageValid: boolean;
  problems: string[];
}

export interface TimestampReport {
  genTime: Date | undefined;
  tsa: string | undefined;
  imprintValid: boolean;
  signatureValid: boolean;
  /** Its TSA certificate chains to a TSA anchor at genTime and is not revoked then (by the DSS). */
  trusted: boolean;
  /** When the TSA certificate expires: after that only an archive timestamp (B-LTA) would prove it. */
  certificateNotAfter: Date | undefined;
  /** Revocation status at genTime of the TSA's certificates below the anchor, from the DSS. */
  revocation: RevocationStatus[];
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

/** The DER of each certificate of a validated path, from the certificates at hand. */
function pathDers(path: readonly pkijs.Certificate[], candidates: readonly Uint8Array[]): Uint8Array[] {
  const byTbs = new Map<string, Uint8Array>();
  for (const c of candidates) {
    try {
      byTbs.set(Buffer.from(der.certificateParts(c).tbs).toString('base64'), c);
    } catch {
      // not a certificate: not a candidate
    }
  }
  const out: Uint8Array[] = [];
  for (const cert of path) {
    const found = byTbs.get(Buffer.from(cert.tbsView).toString('base64'));
    if (!found) break;
    out.push(found);
  }
  return out;
}

/** What one signature is checked against besides its own bytes. */
export interface CmsCheckContext {
  trust: Trust;
  tsaTrust: Trust;
  /** The document's DSS, parsed. */
  dss: ParsedValidationData;
  /** The validation time: evidence issued after it does not count. */
  at: Date;
}

/**
 * Check the CMS in /Contents against the signed byte ranges. `claimedTime` is /M; it is the validation
 * time only when there is no valid timestamp (then it is the signer's own claim, and reported so).
 */
export async function checkCms(
  contents: Uint8Array,
  signedChunks: readonly Uint8Array[],
  claimedTime: Date | undefined,
  { trust, tsaTrust, dss, at }: CmsCheckContext,
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
    revocation: [],
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
    const check = await checkTimestampToken(token, signerInfo.signature, tsaTrust, dss.certificates);
    const revocation =
      check.trusted && check.genTime
        ? revocationStatus(
            pathDers(check.path, [...check.certificates, ...dss.certificates, ...tsaTrust.anchorDers]),
            dss,
            check.genTime,
            at,
          )
        : [];
    const revoked = revocation.find((r) => r.status === 'revoked');
    if (revoked)
      check.problems.push(
        `the TSA certificate "${revoked.subject}" was revoked on ${revoked.revokedAt?.toISOString()}, before the timestamp: it is not used`,
      );
    timestamp = {
      genTime: check.genTime,
      tsa: check.tsaName,
      imprintValid: check.imprintValid,
      signatureValid: check.signatureValid && check.timeStampingUsage,
      trusted: check.trusted === true && !revoked,
      certificateNotAfter: check.notAfter,
      revocation,
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
    certificate.validatedAt = at;
    certificate.validationTimeSource = 'current-time';
  }
  const validatedAt = certificate.validatedAt;
  const chain = await trust.validate(cert, [...sd.certificates, ...dss.certificates], validatedAt);
  certificate.chainValid = chain.valid;
  certificate.path = chain.path.map((c, i) =>
    i === 0
      ? (certificate.signerName ?? '?')
      : (nameAttribute(c.subject, OID.commonName) ?? formatName(c.subject)),
  );
  if (!chain.valid) certificate.problems.push(chain.problem ?? 'the certificate chain is not valid');
  else {
    const ders = pathDers(chain.path, [
      certDer,
      ...sd.certificates,
      ...dss.certificates,
      ...trust.anchorDers,
    ]);
    certificate.revocation = revocationStatus(ders, dss, validatedAt, at);
    for (const r of certificate.revocation)
      if (r.status === 'revoked')
        certificate.problems.push(
          `the certificate "${r.subject}" was revoked on ${r.revokedAt?.toISOString()}, before the signature's time`,
        );
  }
  return { cms, certificate, timestamp };
}

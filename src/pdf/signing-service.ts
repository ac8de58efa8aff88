// The keys behind a signature. The PDF code (sign.ts) only sees this interface: it asks for a
// certificate issued to the signer, then for a signature over a digest. Today a local signing CA from
// PEM files does both (local-signing-service.ts); an HSM (PKCS#11: generate key, CKM_ECDSA over the digest) or a
// remote signing service (CSC API: credentials/info + signatures/signHash; the Swedish signature
// services' sign request) can implement it later without touching the PDF code. After the signature it
// supplies the validation data of the certificate it issued (its chain and revocation status), which goes
// into the document's DSS so that the signature can be validated for years (PAdES B-LT).

/**
 * Long-term validation data (ETSI EN 319 142-1 §5.4.2, the DSS of PAdES B-LT): certificates and the
 * revocation data that shows they were not revoked when a signature was made. validation-data.ts reads it.
 */
export interface ValidationData {
  /** DER certificates: chains of the signer's and the TSA's certificates. */
  certificates: readonly Uint8Array[];
  /** DER OCSPResponses (RFC 6960). */
  ocsps: readonly Uint8Array[];
  /** DER CertificateLists (RFC 5280 §5). */
  crls: readonly Uint8Array[];
}

/** Who signs: from the e-identification, checked against the form before we get here. */
export interface CertificateSubject {
  /** Name as the identity provider gave it; becomes the certificate's CN. */
  name: string;
  /** Swedish personal identity number, 12 digits (YYYYMMDDNNNC); becomes serialNumber PNOSE-… . */
  personalNumber: string;
}

/** What is signed: the DER signed attributes of the CMS SignerInfo (RFC 5652 §5.4) and their digest. */
export interface ToBeSigned {
  /** SHA-256 of `data`: what an HSM (CKM_ECDSA) or a remote service (signHash) signs. */
  readonly digest: Uint8Array;
  /** The bytes themselves, for key APIs that hash internally (Node's crypto, WebCrypto). */
  readonly data: Uint8Array;
}

/** One signature's key: a certificate issued for it, and the means to sign once with it. */
export interface SignatureKey {
  /** DER of the certificate issued to the signer for this signature. */
  readonly certificate: Uint8Array;
  /** DER certificates above it: the issuing CA first, up to and including the root. */
  readonly chain: readonly Uint8Array[];
  /** CMS signatureAlgorithm of what `sign` returns, e.g. ecdsa-with-SHA256 (RFC 5754 §3.3). */
  readonly signatureAlgorithm: { oid: string; nullParameters: boolean };
  /** Digest algorithm of `ToBeSigned.digest` and the message digest. Only SHA-256 for now. */
  readonly digestAlgorithm: 'SHA-256';
  /**
   * The signature value as it goes into SignerInfo.signature: DER ECDSA-Sig-Value (RFC 5753 §2.1.1)
   * or an RSASSA-PKCS1-v1_5 block. Implementations may refuse a second call.
   */
  sign(tbs: ToBeSigned): Promise<Uint8Array>;
}

export interface SigningService {
  /** For logs and reports: what kind of signing service and which CA (never a key or personal data). */
  readonly description: string;
  /** The signing CA is marked for development; production must refuse to run with it. */
  readonly isDevelopment: boolean;
  /**
   * Issue a certificate for a fresh key to `identity`, valid around `signingTime`, and return the
   * handle to sign with it. Throws AppError('signing_failed') when it cannot.
   */
  startSignature(identity: CertificateSubject, signingTime: Date): Promise<SignatureKey>;
  /**
   * The chain and revocation data of `certificate` (one this service issued) as of `at`, the signature's
   * trusted time: the certificates up to the root and an OCSP response or CRL for the certificate and for
   * each CA below the root (ETSI EN 319 142-1 §5.4.2). Called right after the signature is made; the data
   * goes into the document's DSS. Throws AppError('signing_failed') when it cannot.
   */
  validationData(certificate: Uint8Array, at: Date): Promise<ValidationData>;
}

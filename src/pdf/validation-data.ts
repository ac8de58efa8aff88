// Long-term validation data (ETSI EN 319 142-1 §5.4.2, the DSS of PAdES B-LT): the certificates and the
// revocation data (OCSP responses, CRLs) that show a signature's certificates were valid and not revoked
// when it was made. The signing service and the time-stamping authority supply them after each signature
// (sign.ts writes them into the document's DSS, dss.ts); the verifier reads them back and asks
// `revocationStatus` what they say at the signature's time.
import { signedBy } from './cms.ts';
import { covers, type Crl, crlAnswerFor, type CrlSet, parseCrl } from './crl.ts';
import * as der from './der.ts';
import { type OcspResponse, ocspAnswerFor, parseOcspResponse } from './ocsp.ts';
import { OID } from './pki.ts';
import type { ValidationData } from './signing-service.ts';

export type { ValidationData } from './signing-service.ts';

export const NO_VALIDATION_DATA: ValidationData = { certificates: [], ocsps: [], crls: [] };

function unique(items: Iterable<Uint8Array>): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const item of items) {
    const key = Buffer.from(item).toString('base64');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

/** Several sets of validation data as one, each item once. */
export function mergeValidationData(...parts: ValidationData[]): ValidationData {
  return {
    certificates: unique(parts.flatMap((p) => p.certificates)),
    ocsps: unique(parts.flatMap((p) => p.ocsps)),
    crls: unique(parts.flatMap((p) => p.crls)),
  };
}

/** Validation data read once: what cannot be parsed is left out (and counted). */
export interface ParsedValidationData {
  certificates: readonly Uint8Array[];
  ocsps: OcspResponse[];
  crls: Crl[];
  unreadable: number;
}

export function parseValidationData(data: ValidationData): ParsedValidationData {
  let unreadable = 0;
  const parsed = <T>(items: readonly Uint8Array[], parse: (b: Uint8Array) => T): T[] =>
    items.flatMap((b) => {
      try {
        return [parse(b)];
      } catch {
        unreadable++;
        return [];
      }
    });
  return {
    certificates: data.certificates,
    ocsps: parsed(data.ocsps, parseOcspResponse),
    crls: parsed(data.crls, parseCrl),
    unreadable,
  };
}

export interface RevocationStatus {
  /** The certificate's subject CN (for CAs and the TSA; for the signer their name, never the number). */
  subject: string;
  /** good: not revoked at the time asked; unknown: no evidence that speaks for that time. */
  status: 'good' | 'revoked' | 'unknown';
  source?: 'OCSP' | 'CRL';
  /** When the evidence was issued (OCSP producedAt, CRL thisUpdate). */
  issuedAt?: Date;
  /** The revocation time, when the evidence lists one (possibly after the time asked). */
  revokedAt?: Date;
}

const commonName = (cert: Uint8Array): string => {
  const subject = der.certificateParts(cert).subject;
  const names = der.readName(subject);
  return names.find((a) => a.type === OID.commonName)?.value ?? names.map((a) => a.value).join(', ');
};

/**
 * The revocation status at `at` of each certificate of `path` (DER, leaf first, each followed by its
 * issuer; the last one, the trust anchor, is not checked), from the OCSP responses and CRLs in `data`.
 * Only evidence that existed at `knownAt` counts (a validation as of an earlier time cannot use later data).
 */
export function revocationStatus(
  path: readonly Uint8Array[],
  data: ParsedValidationData,
  at: Date,
  knownAt: Date,
): RevocationStatus[] {
  const out: RevocationStatus[] = [];
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    const result: RevocationStatus = { subject: commonName(cert), status: 'unknown' };
    const consider = (
      source: 'OCSP' | 'CRL',
      issuedAt: Date,
      thisUpdate: Date,
      nextUpdate: Date | undefined,
      revokedAt: Date | undefined,
    ): void => {
      if (issuedAt > knownAt || result.status === 'revoked') return;
      if (revokedAt && revokedAt <= at) {
        Object.assign(result, { status: 'revoked', source, issuedAt, revokedAt });
        return;
      }
      if (!covers(thisUpdate, nextUpdate, at)) return;
      // The latest issued evidence wins (a later one may list a revocation after `at`).
      if (result.status === 'good' && result.issuedAt && result.issuedAt >= issuedAt) return;
      delete result.revokedAt;
      Object.assign(result, { status: 'good', source, issuedAt, ...(revokedAt ? { revokedAt } : {}) });
    };
    for (const response of data.ocsps) {
      const a = ocspAnswerFor(response, cert, issuer);
      if (!a || a.status.status === 'unknown') continue;
      const revokedAt = a.status.status === 'revoked' ? a.status.revokedAt : undefined;
      consider('OCSP', a.producedAt, a.thisUpdate, a.nextUpdate, revokedAt);
    }
    for (const crl of data.crls) {
      const a = crlAnswerFor(crl, cert, issuer);
      if (a) consider('CRL', a.thisUpdate, a.thisUpdate, a.nextUpdate, a.revokedAt);
    }
    out.push(result);
  }
  return out;
}

/**
 * `certificate` and the chain above it found in `pool` (by issuer name and signature), with the CRLs of
 * `crls` that tell each link's status at `at`: what a TSA's or a CA's certificate needs in the DSS.
 */
export function chainValidationData(
  certificate: Uint8Array,
  pool: readonly Uint8Array[],
  crls: CrlSet,
  at: Date,
): ValidationData {
  const chain = [certificate];
  const found: Uint8Array[] = [];
  for (let current = certificate; chain.length < 10;) {
    const parts = der.certificateParts(current);
    if (Buffer.from(parts.issuer).equals(parts.subject)) break; // self-signed: the root
    const issuer = pool.find(
      (c) =>
        !chain.includes(c) &&
        Buffer.from(der.certificateParts(c).subject).equals(parts.issuer) &&
        signedBy(current, der.certificateParts(c).spki),
    );
    if (!issuer) break;
    found.push(...crls.covering(current, issuer, at));
    chain.push(issuer);
    current = issuer;
  }
  return { certificates: chain, ocsps: [], crls: unique(found) };
}

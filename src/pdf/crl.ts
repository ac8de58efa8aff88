// Certificate revocation lists (RFC 5280 §5) as long-term validation data: the CRLs of the CAs above the
// signing CA and of the time-stamping authority's CA, loaded from files at start (SIGNING_CRLS), go into
// each document's DSS (PAdES B-LT); the verifier reads CRLs back from the DSS and checks them.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config.ts';
import { signedBy } from './cms.ts';
import * as der from './der.ts';
import { pemBlocks } from './pki.ts';

export interface Crl {
  der: Uint8Array;
  /** The issuer Name, DER. */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Revoked serial numbers (hex of the INTEGER content) and their revocation dates. */
  revoked: Map<string, Date>;
}

const serialKey = (serial: Uint8Array): string => Buffer.from(der.unsignedInteger(serial)).toString('hex');

/** Parse a CertificateList (DER). Throws DerError when it is not one. */
export function parseCrl(bytes: Uint8Array): Crl {
  const [tbs] = der.children(bytes, der.readTlv(bytes, 0));
  if (!tbs) throw new der.DerError('not a CRL');
  const f = der.children(bytes, tbs);
  let i = f[0]?.tag === 0x02 ? 1 : 0; // version (v2) is optional
  i++; // signature algorithm
  const issuer = f[i++];
  const thisUpdate = f[i++];
  if (issuer?.tag !== 0x30 || (thisUpdate?.tag !== 0x17 && thisUpdate?.tag !== 0x18))
    throw new der.DerError('bad TBSCertList');
  let nextUpdate: Date | undefined;
  if (f[i]?.tag === 0x17 || f[i]?.tag === 0x18) nextUpdate = der.readTime(bytes, f[i++]!);
  const revoked = new Map<string, Date>();
  if (f[i]?.tag === 0x30)
    for (const entry of der.children(bytes, f[i]!)) {
      const [serial, date] = der.children(bytes, entry);
      if (serial?.tag !== 0x02 || !date) throw new der.DerError('bad revoked certificate entry');
      revoked.set(serialKey(der.contentOf(bytes, serial)), der.readTime(bytes, date));
    }
  return {
    der: bytes,
    issuer: der.rawOf(bytes, issuer),
    thisUpdate: der.readTime(bytes, thisUpdate),
    nextUpdate,
    revoked,
  };
}

export interface CrlAnswer {
  revokedAt: Date | undefined;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

/**
 * What `crl` says about `certificate` when it is the issuer's CRL and the issuer's key signed it (both DER);
 * undefined otherwise.
 */
export function crlAnswerFor(crl: Crl, certificate: Uint8Array, issuer: Uint8Array): CrlAnswer | undefined {
  const cert = der.certificateParts(certificate);
  const ca = der.certificateParts(issuer);
  if (!Buffer.from(crl.issuer).equals(cert.issuer) || !Buffer.from(ca.subject).equals(cert.issuer))
    return undefined;
  if (!signedBy(crl.der, ca.spki)) return undefined;
  return {
    revokedAt: crl.revoked.get(serialKey(cert.serial)),
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
  };
}

/** Whether revocation data issued at `thisUpdate` (valid to `nextUpdate`) speaks for the time `at`. */
export function covers(thisUpdate: Date, nextUpdate: Date | undefined, at: Date): boolean {
  // Issued after `at`: it would list a revocation before it. Issued before: only while it is current.
  return thisUpdate >= at || (!!nextUpdate && at <= nextUpdate);
}

/** CRLs loaded at start, each parsed once; handed out for the certificates they cover. */
export class CrlSet {
  constructor(readonly crls: readonly Crl[]) {}

  static readonly empty = new CrlSet([]);

  /** Load CRLs from files: PEM ("X509 CRL") or DER. Every problem is reported at once (start-up). */
  static async load(files: readonly string[]): Promise<CrlSet> {
    const problems: string[] = [];
    const crls: Crl[] = [];
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        problems.push(
          `CRL ${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`}`,
        );
        continue;
      }
      const text = bytes.toString('latin1');
      const blocks = text.includes('-----BEGIN') ? pemBlocks(text, 'X509 CRL') : [new Uint8Array(bytes)];
      if (blocks.length === 0) problems.push(`CRL ${file}: no PEM X509 CRL block`);
      for (const block of blocks) {
        try {
          crls.push(parseCrl(block));
        } catch {
          problems.push(`CRL ${file}: not a valid CRL`);
        }
      }
    }
    if (problems.length) throw new ConfigError(problems);
    return new CrlSet(crls);
  }

  /** The CRLs (DER) that tell the status of `certificate` (issued by `issuer`) at `at`. */
  covering(certificate: Uint8Array, issuer: Uint8Array, at: Date): Uint8Array[] {
    return this.crls
      .filter((crl) => {
        const answer = crlAnswerFor(crl, certificate, issuer);
        return !!answer && covers(answer.thisUpdate, answer.nextUpdate, at);
      })
      .map((crl) => crl.der);
  }
}

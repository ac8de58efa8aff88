// Trust anchors for verification: root certificates from PEM files (TRUST_ANCHORS), loaded and checked
// at start. Path validation is RFC 5280 §6 as implemented by pkijs's CertificateChainValidationEngine,
// at a given time (the signing time; see verify/).
import { createHash, createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config.ts';
import { certificateDer, formatName, parseCertificate, pemBlocks, pkijs } from './pki.ts';

export interface ChainResult {
  valid: boolean;
  /** The validated path, leaf first, ending at the trust anchor (when valid). */
  path: pkijs.Certificate[];
  /** Why not, in plain words (no personal data: certificate names of CAs only). */
  problem?: string;
}

export class Trust {
  private readonly ders: Buffer[];

  constructor(readonly anchors: readonly pkijs.Certificate[]) {
    this.ders = anchors.map((a) => Buffer.from(certificateDer(a)));
  }

  /** Anchors from PEM text (one or more CERTIFICATE blocks per text). */
  static fromPem(...pems: string[]): Trust {
    const anchors = pems.flatMap((pem) => pemBlocks(pem, 'CERTIFICATE').map((der) => parseCertificate(der)));
    if (anchors.length === 0) throw new Error('no CERTIFICATE in the trust anchor PEM');
    return new Trust(anchors);
  }

  /** Load anchors from files; every problem is reported at once (start-up). */
  static async load(files: readonly string[]): Promise<Trust> {
    const problems: string[] = [];
    const anchors: pkijs.Certificate[] = [];
    if (files.length === 0) problems.push('Trust anchors: none configured');
    for (const file of files) {
      let pem: string;
      try {
        pem = await readFile(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        problems.push(
          `Trust anchor ${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`}`,
        );
        continue;
      }
      const blocks = pemBlocks(pem, 'CERTIFICATE');
      if (blocks.length === 0) problems.push(`Trust anchor ${file}: no PEM CERTIFICATE block`);
      for (const der of blocks) {
        try {
          anchors.push(parseCertificate(der));
        } catch {
          problems.push(`Trust anchor ${file}: not a valid X.509 certificate`);
        }
      }
    }
    if (problems.length) throw new ConfigError(problems);
    return new Trust(anchors);
  }

  /** This trust plus another's anchors (e.g. a time-stamping authority's root). */
  with(other: Trust): Trust {
    return new Trust([...this.anchors, ...other.anchors]);
  }

  /** The anchors' certificates, DER. */
  get anchorDers(): readonly Uint8Array[] {
    return this.ders;
  }

  isAnchor(der: Uint8Array): boolean {
    return this.ders.some((d) => d.equals(der));
  }

  describe(): string[] {
    return this.anchors.map((a) => formatName(a.subject));
  }

  /**
   * Validate `leaf` with the help of `others` (the certificates carried in the signature and the DSS,
   * DER) to one of the anchors, at time `at`. Revocation is checked apart, from the document's DSS
   * (validation-data.ts `revocationStatus`), as of the same time.
   */
  async validate(leaf: pkijs.Certificate, others: readonly Uint8Array[], at: Date): Promise<ChainResult> {
    const leafDer = Buffer.from(certificateDer(leaf));
    const intermediates = others
      .filter((d) => !leafDer.equals(d) && !this.isAnchor(d))
      .map((d) => cachedCertificate(d));
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: [...this.anchors],
      // The engine takes the last certificate as the one to validate.
      certs: [...intermediates, leaf],
      checkDate: at,
      findIssuer,
    });
    try {
      const result = await engine.verify();
      if (!result.result)
        return { valid: false, path: [], problem: chainProblem(result.resultCode, result.resultMessage) };
      const path = result.certificatePath ?? [];
      const problem = pathLengthProblem(path);
      return problem ? { valid: false, path: [], problem } : { valid: true, path };
    } catch (e) {
      const err = e as { resultCode?: number; resultMessage?: string; message?: string };
      return {
        valid: false,
        path: [],
        problem: chainProblem(err.resultCode, err.resultMessage ?? err.message),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Speed. pkijs checks each link's signature through WebCrypto (a key import and a verify: about a
// millisecond each, several per chain); the same links (signing CA → root) recur in every signature.
// The engine lets us supply the issuer search: ours checks signatures with Node's crypto and remembers
// results per (certificate, issuer key). Path building and every RFC 5280 check stay pkijs's.

const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const publicKeys = new WeakMap<pkijs.Certificate, KeyObject>();
const links = new Map<string, boolean>();

function publicKeyOf(cert: pkijs.Certificate): KeyObject {
  let key = publicKeys.get(cert);
  if (!key) {
    key = createPublicKey({
      key: Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER()),
      format: 'der',
      type: 'spki',
    });
    publicKeys.set(cert, key);
  }
  return key;
}

/** Whether `issuer`'s key made `cert`'s signature; undefined for algorithms we leave to pkijs. */
function signedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate): boolean | undefined {
  const hash = SIGNATURE_HASH[cert.signatureAlgorithm.algorithmId];
  if (!hash || cert.tbsView.byteLength === 0) return undefined;
  const key = publicKeyOf(issuer);
  const id = `${createHash('sha256').update(cert.tbsView).digest('hex')}:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
  let ok = links.get(id);
  if (ok === undefined) {
    try {
      ok = nodeVerify(
        hash,
        cert.tbsView,
        key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
        cert.signatureValue.valueBlock.valueHexView,
      );
    } catch {
      ok = false;
    }
    if (links.size >= 1024) links.delete(links.keys().next().value!);
    links.set(id, ok);
  }
  return ok;
}

/** Candidates by name (RFC 5280 §6.1.3 (a)(4)), kept when their key verifies the certificate. */
const findIssuer: pkijs.FindIssuerCallback = async (certificate, engine, crypto) => {
  const candidates = [...engine.trustedCerts, ...engine.certs].filter((c) =>
    certificate.issuer.isEqual(c.subject),
  );
  const found: pkijs.Certificate[] = [];
  for (const c of candidates) {
    const ok = signedBy(certificate, c);
    if (ok === undefined) return engine.defaultFindIssuer(certificate, engine, crypto);
    if (ok) found.push(c);
  }
  return found;
};

// CA and TSA certificates repeat in every signature: parse each once (pkijs parsing costs milliseconds).
// The parsed certificates are shared: read them, never change them.
const certificateCache = new Map<string, pkijs.Certificate>();
export function cachedCertificate(der: Uint8Array): pkijs.Certificate {
  const key = createHash('sha256').update(der).digest('hex');
  let cert = certificateCache.get(key);
  if (!cert) {
    cert = parseCertificate(der);
    if (certificateCache.size >= 256) certificateCache.delete(certificateCache.keys().next().value!);
    certificateCache.set(key, cert);
  }
  return cert;
}

/** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9), which pkijs's engine does not check. */
function pathLengthProblem(path: readonly pkijs.Certificate[]): string | undefined {
  // path: leaf first, anchor last. CA i may have at most pathLen CA certificates below it (bar the leaf).
  for (let i = 1; i < path.length; i++) {
    const bc = path[i]!.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue as
      pkijs.BasicConstraints | undefined;
    const limit = bc?.pathLenConstraint;
    const below = i - 1;
    if (typeof limit === 'number' && below > limit) return 'the certificate path is longer than a CA allows';
    if (limit !== undefined && typeof limit !== 'number' && below > limit.valueBlock.valueDec)
      return 'the certificate path is longer than a CA allows';
  }
  return undefined;
}

function chainProblem(code: number | undefined, message: string | undefined): string {
  switch (code) {
    case 8:
      return 'a certificate in the chain was not valid at the signing time';
    case 60:
    case 97:
      return 'the certificate does not chain to a trusted root';
    default:
      return message || 'certificate chain validation failed';
  }
}

// `npm run dev-certs [-- --force] [--dir DIR]`: the development PKI in certs-dev/ — a root CA and a
// signing CA below it, a time-stamping authority's certificate below the root (the in-process TSA,
// src/dev/tsa.ts) and the root's CRL (long-term validation data for the DSS), all marked DEVELOPMENT ONLY,
// so that the service can sign in development and tests. The files are committed; production refuses
// them (src/config.ts refuses the paths, loadLocalSigningService reports `isDevelopment` from the subject
// marker). Without --force, files that are missing are added to the CAs that are there.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { projectRoot } from '../paths.ts';
import * as der from '../pdf/der.ts';
import {
  DEVELOPMENT_MARKER,
  importPrivateKey,
  issueCertificate,
  issueCrl,
  issuerFrom,
  type NameAttribute,
  OID,
  type PrivateKeyInfo,
  pemBlocks,
  pemEncode,
} from '../pdf/pki.ts';

const YEARS = 10;
const ORG = `Samtycke ${DEVELOPMENT_MARKER}`;

export const DEV_CERT_FILES = {
  rootCert: 'dev-root-ca.pem',
  rootKey: 'dev-root-ca.key',
  signingCert: 'dev-signing-ca.pem',
  signingKey: 'dev-signing-ca.key',
  chain: 'dev-chain.pem',
  tsaCert: 'dev-tsa.pem',
  tsaKey: 'dev-tsa.key',
  rootCrl: 'dev-root-ca.crl',
} as const;

const CA_FILES = ['rootCert', 'rootKey', 'signingCert', 'signingKey', 'chain'] as const;
const ADDED_FILES = ['tsaCert', 'tsaKey', 'rootCrl'] as const;

function subject(cn: string): NameAttribute[] {
  return [
    { type: OID.countryName, value: 'SE' },
    { type: OID.organizationName, value: ORG },
    { type: OID.commonName, value: `${cn} – ${DEVELOPMENT_MARKER} – NOT FOR PRODUCTION` },
  ];
}

/** A new EC key as PKCS#8 PEM. */
function newKey(namedCurve: 'P-256' | 'P-384'): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function generateDevCerts(dir: string, force = false): Promise<string[]> {
  const file = (k: keyof typeof DEV_CERT_FILES) => path.join(dir, DEV_CERT_FILES[k]);
  const caFiles = CA_FILES.map(file);
  const existing = Object.values(DEV_CERT_FILES)
    .map((f) => path.join(dir, f))
    .filter((f) => existsSync(f));
  const missingAdded = ADDED_FILES.filter((k) => !existsSync(file(k)));
  // The CAs are there and only later additions are missing: add those, signed by the existing root.
  if (!force && caFiles.every((f) => existsSync(f)) && missingAdded.length)
    return addTsaAndCrl(
      dir,
      await readFile(file('rootCert'), 'utf8'),
      await readFile(file('rootKey'), 'utf8'),
    );
  if (existing.length && !force)
    throw new Error(
      `${existing.map((f) => path.relative(projectRoot, f)).join(', ')} exist; pass --force to replace them`,
    );

  const notBefore = new Date(Date.now() - 60 * 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + YEARS);

  // Root: P-384, long-lived, signs only CA certificates.
  const rootKeyPem = newKey('P-384');
  const rootKey = importPrivateKey(rootKeyPem);
  const rootDer = issueCertificate({
    subject: subject('Samtycke Dev Root CA'),
    spki: rootKey.spki,
    issuer: { selfSigned: rootKey },
    notBefore,
    notAfter,
    keyUsage: ['keyCertSign', 'cRLSign'],
    ca: {},
  });
  // Signing CA: P-256, issues the per-signature certificates (no further CAs below it).
  const signingKeyPem = newKey('P-256');
  const signingKey = importPrivateKey(signingKeyPem);
  const signingDer = issueCertificate({
    subject: subject('Samtycke Dev Signing CA'),
    spki: signingKey.spki,
    issuer: issuerFrom(rootDer, rootKey),
    notBefore,
    notAfter,
    keyUsage: ['keyCertSign', 'cRLSign'],
    ca: { pathLength: 0 },
  });

  await mkdir(dir, { recursive: true });
  const rootPem = pemEncode(rootDer, 'CERTIFICATE');
  const signingPem = pemEncode(signingDer, 'CERTIFICATE');
  await writeFile(path.join(dir, DEV_CERT_FILES.rootCert), rootPem);
  await writeFile(path.join(dir, DEV_CERT_FILES.rootKey), rootKeyPem, { mode: 0o600 });
  await writeFile(path.join(dir, DEV_CERT_FILES.signingCert), signingPem);
  await writeFile(path.join(dir, DEV_CERT_FILES.signingKey), signingKeyPem, { mode: 0o600 });
  await writeFile(path.join(dir, DEV_CERT_FILES.chain), signingPem + rootPem);
  await rm(path.join(dir, '.gitkeep'), { force: true });
  return [...caFiles, ...(await addTsaAndCrl(dir, rootPem, rootKeyPem))];
}

/**
 * The development TSA's certificate (below the root, for the root's lifetime; extended key usage
 * timeStamping, critical: RFC 3161 §2.3) and the root's CRL, listing nothing, current for the root's
 * lifetime: what the DSS of a development document needs for the signing CA's and the TSA's status.
 */
async function addTsaAndCrl(dir: string, rootPem: string, rootKeyPem: string): Promise<string[]> {
  const rootDer = pemBlocks(rootPem, 'CERTIFICATE')[0];
  if (!rootDer) throw new Error('the development root certificate cannot be read');
  const rootKey: PrivateKeyInfo = importPrivateKey(rootKeyPem);
  const root = der.certificateParts(rootDer);
  const issuer = issuerFrom(rootDer, rootKey);
  const tsaKeyPem = newKey('P-256');
  const tsaKey = importPrivateKey(tsaKeyPem);
  const tsaDer = issueCertificate({
    subject: subject('Samtycke Dev TSA'),
    spki: tsaKey.spki,
    issuer,
    notBefore: root.notBefore,
    notAfter: root.notAfter,
    keyUsage: ['digitalSignature', 'nonRepudiation'],
    extKeyUsage: [OID.kpTimeStamping],
    extKeyUsageCritical: true,
  });
  const crl = issueCrl({ issuer, thisUpdate: root.notBefore, nextUpdate: root.notAfter, number: 1 });
  const written = {
    tsaCert: pemEncode(tsaDer, 'CERTIFICATE'),
    tsaKey: tsaKeyPem,
    rootCrl: pemEncode(crl, 'X509 CRL'),
  };
  for (const [k, text] of Object.entries(written))
    await writeFile(path.join(dir, DEV_CERT_FILES[k as keyof typeof written]), text, {
      mode: k === 'tsaKey' ? 0o600 : 0o644,
    });
  return Object.keys(written).map((k) => path.join(dir, DEV_CERT_FILES[k as keyof typeof written]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { force: { type: 'boolean', default: false }, dir: { type: 'string' } },
  });
  const dir = path.resolve(values.dir ?? path.join(projectRoot, 'certs-dev'));
  const written = await generateDevCerts(dir, values.force);
  for (const f of written) console.log(`wrote ${path.relative(process.cwd(), f)}`);
  console.log(`Valid for ${YEARS} years. These are for development and tests only; production refuses them.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`dev-certs: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}

// What the benchmarks that start the service as production runs it (startup, soak) need: its compiled
// JavaScript, as `npm run build` writes dist/, and certificates — production refuses the development CA
// (by its path and by its subject), so a throwaway root, a signing CA under it and the root's CRL.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths.ts';
import { issueCrl, pemEncode } from '../../src/pdf/pki.ts';
import { cn, makeCa } from '../pdf/helpers/pki.ts';

const DAY_MS = 24 * 3600_000;

/**
 * Compiles the service into `dist` (a fresh folder inside the project, so that the compiled files find
 * node_modules/ and package.json's "type": "module"; another checkout's dist/ is left alone). Type errors
 * stop it unless `typeErrors: 'tolerate'` (the type check is `npm run check`'s; a soak may try a change
 * before it type-checks); a missing server.js always does. NODE_OPTIONS is the service's, not tsc's.
 * Answers the compiled entry.
 */
export function compileDist(dist: string, options: { typeErrors: 'fail' | 'tolerate' }): string {
  rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(projectRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      dist,
    ],
    { cwd: projectRoot, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
  );
  const server = path.join(dist, 'src/server.js');
  if (!existsSync(server) || (tsc.status !== 0 && options.typeErrors === 'fail'))
    throw new Error(`compiling the service failed:\n${(tsc.stdout + tsc.stderr).slice(-2000)}`);
  return server;
}

/** Writes root-ca.pem, signing-ca.pem, signing-ca.key and root.crl into `dir`, named after `label`. */
export function writeProductionPki(dir: string, label: string): void {
  const organisation = `Samtycke ${label.toLowerCase()}`;
  const root = makeCa(cn(`Samtycke ${label} Root CA`, organisation));
  const signingCa = makeCa(cn(`Samtycke ${label} Signing CA`, organisation), root);
  writeFileSync(path.join(dir, 'root-ca.pem'), root.pem);
  writeFileSync(path.join(dir, 'signing-ca.pem'), signingCa.pem);
  writeFileSync(path.join(dir, 'signing-ca.key'), signingCa.keyPem, { mode: 0o600 });
  // The root's CRL, listing nothing: production wants the status of every CA above the signing CA.
  const crl = issueCrl({
    issuer: root.issuer,
    thisUpdate: new Date(Date.now() - DAY_MS),
    nextUpdate: new Date(Date.now() + 30 * DAY_MS),
    number: 1,
  });
  writeFileSync(path.join(dir, 'root.crl'), pemEncode(crl, 'X509 CRL'));
}

/** The signing settings that name what writeProductionPki wrote into `dir`. */
export function productionPkiSettings(dir: string): Record<string, string> {
  return {
    // (Not PKI, but the other keys production refuses to start without; the same for every instance.)
    ENCRYPTION_KEYS: `bench:${Buffer.alloc(32, 'bench-encryption-key').toString('base64')}`,
    BLIND_INDEX_KEY: `bench:${Buffer.alloc(32, 'bench-blind-index-key').toString('base64')}`,
    SIGNING_CA_CERT: path.join(dir, 'signing-ca.pem'),
    SIGNING_CA_KEY: path.join(dir, 'signing-ca.key'),
    SIGNING_CA_CHAIN: path.join(dir, 'root-ca.pem'),
    TRUST_ANCHORS: path.join(dir, 'root-ca.pem'),
    TSA_TRUST_ANCHORS: path.join(dir, 'root-ca.pem'),
    SIGNING_CRLS: path.join(dir, 'root.crl'),
  };
}

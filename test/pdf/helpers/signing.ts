// Signing with the committed development PKI (certs-dev/) and the in-process development TSA, the way the
// service does it in development.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SignerRole } from '../../../src/domain/roles.ts';
import type { Clock } from '../../../src/clock.ts';
import { type DevelopmentTsa, loadDevelopmentTsa } from '../../../src/dev/tsa.ts';
import { projectRoot } from '../../../src/paths.ts';
import { CrlSet } from '../../../src/pdf/crl.ts';
import { type LocalSigningService, loadLocalSigningService } from '../../../src/pdf/local-signing-service.ts';
import { type ConsentFormData, renderConsentForm } from '../../../src/pdf/render.ts';
import { type AppendSignatureResult, appendSignature, type SignDeps } from '../../../src/pdf/sign.ts';
import type { CertificateSubject } from '../../../src/pdf/signing-service.ts';
import { Trust } from '../../../src/pdf/trust.ts';

export const DEV_ROOT_FILE = path.join(projectRoot, 'certs-dev', 'dev-root-ca.pem');
export const DEV_ROOT_PEM = readFileSync(DEV_ROOT_FILE, 'utf8');
export const DEV_CERTS_DIR = path.join(projectRoot, 'certs-dev');
export const DEV_FILES = {
  caCertFile: path.join(DEV_CERTS_DIR, 'dev-signing-ca.pem'),
  caKeyFile: path.join(DEV_CERTS_DIR, 'dev-signing-ca.key'),
  chainFiles: [DEV_ROOT_FILE],
};
export const DEV_CRL_FILE = path.join(DEV_CERTS_DIR, 'dev-root-ca.crl');

let crls: Promise<CrlSet> | undefined;
export const devCrls = (): Promise<CrlSet> => (crls ??= CrlSet.load([DEV_CRL_FILE]));

let service: Promise<LocalSigningService> | undefined;
export const devSigningService = (): Promise<LocalSigningService> => {
  service ??= devCrls().then((c) => loadLocalSigningService(DEV_FILES, { crls: c }));
  return service;
};
export const devTrust = (): Trust => Trust.fromPem(DEV_ROOT_PEM);

let tsa: Promise<DevelopmentTsa> | undefined;
/** The in-process development TSA at the real clock, or (`clock`) a new one at another. */
export const devTimestamper = (clock?: Clock): Promise<DevelopmentTsa> => {
  if (clock) return devCrls().then((c) => loadDevelopmentTsa({ dir: DEV_CERTS_DIR, crls: c, clock }));
  tsa ??= devCrls().then((c) => loadDevelopmentTsa({ dir: DEV_CERTS_DIR, crls: c }));
  return tsa;
};

export async function devDeps(extra: Partial<SignDeps> = {}): Promise<SignDeps> {
  return {
    signing: await devSigningService(),
    trust: devTrust(),
    timestamper: await devTimestamper(),
    ...extra,
  };
}

/** The person the form names for a role. */
export function personFor(form: ConsentFormData, role: SignerRole): CertificateSubject {
  const p = role === 'guardian1' ? form.guardian1 : role === 'guardian2' ? form.guardian2 : form.child;
  if (!p) throw new Error(`the form has no ${role}`);
  return { name: p.name, personalNumber: p.personalNumber };
}

export interface Step {
  role: SignerRole;
  bytes: Uint8Array;
  sha256: string;
  result: AppendSignatureResult;
}

/** Render, then sign every role in order; returns the rendered form and each step's output. */
export async function renderAndSign(
  form: ConsentFormData,
  deps?: SignDeps,
  roles?: SignerRole[],
): Promise<{ rendered: { bytes: Uint8Array; sha256: string; roles: SignerRole[] }; steps: Step[] }> {
  const rendered = await renderConsentForm(form);
  const d = deps ?? (await devDeps());
  const steps: Step[] = [];
  let bytes = rendered.bytes;
  let sha256 = rendered.sha256;
  for (const role of roles ?? rendered.roles) {
    const result = await appendSignature(
      {
        pdf: bytes,
        expectedSha256: sha256,
        role,
        signer: personFor(form, role),
        place: 'Sollefteå',
        signedAt: new Date(),
      },
      d,
    );
    bytes = result.bytes;
    sha256 = result.sha256;
    steps.push({ role, bytes, sha256, result });
  }
  return { rendered, steps };
}

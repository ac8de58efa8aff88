// pdfsig (poppler-utils) as the independent validator: an NSS database trusting the given roots
// (certutil, libnss3-tools), and pdfsig's report parsed per signature.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tempPdf } from '../fixtures/pdf-tools.ts';

export const PDFSIG_TOOLS = ['pdfsig', 'certutil', 'qpdf'];

const databases = new Map<string, string>();

/** An NSS database (sql:DIR) that trusts `rootPems` for signing; one per set of roots, per process. */
export function nssDatabase(rootPems: string[]): string {
  const key = rootPems.join('\n');
  let dir = databases.get(key);
  if (dir) return dir;
  dir = mkdtempSync(path.join(tmpdir(), 'samtycke-nss-'));
  const d = dir;
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  run('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  rootPems.forEach((pem, i) => {
    const file = path.join(d, `root-${i}.pem`);
    writeFileSync(file, pem);
    run('certutil', ['-A', '-d', `sql:${d}`, '-n', `root-${i}`, '-t', 'CT,C,C', '-i', file]);
  });
  databases.set(key, dir);
  return dir;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export interface PdfsigSignature {
  field: string;
  signer: string;
  signatureValid: boolean;
  certificateTrusted: boolean;
  /** pdfsig's "Certificate Validation:" words, e.g. "Certificate has Expired"; undefined with -nocert. */
  certificateValidation: string | undefined;
  totalDocumentSigned: boolean;
  /** Where the signed byte ranges end: the newest signature's reach furthest. */
  signedUpTo: number;
  /** pdfsig's own lines for this signature, for failure messages. */
  text: string;
}

export interface PdfsigOptions {
  /** Run pdfsig under faketime (e.g. '+730 days'): pdfsig checks certificates at the current time. */
  faketime?: string;
  /** -nocert: no certificate validation at all. */
  noCert?: boolean;
}

/**
 * Run pdfsig on `bytes` with an NSS database trusting `rootPems` (none: an empty database); one entry per
 * signature.
 */
export function pdfsig(
  bytes: Uint8Array,
  rootPems: string[],
  options: PdfsigOptions = {},
): { signatures: PdfsigSignature[]; output: string } {
  const db = nssDatabase(rootPems);
  // Not -no-ocsp: pdfsig 22.12 then reports "Unknown issue with Certificate" for every certificate.
  // Our certificates name no OCSP responder, so nothing is fetched anyway.
  const args = ['-nssdir', `sql:${db}`, ...(options.noCert ? ['-nocert'] : []), tempPdf(bytes)];
  const r = options.faketime
    ? spawnSync('faketime', [options.faketime, 'pdfsig', ...args], { encoding: 'utf8' })
    : spawnSync('pdfsig', args, { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  // pdfsig also lists empty signature fields ("The signature form field is not signed."): skip them.
  const blocks = r.stdout
    .split(/^Signature #\d+:$/m)
    .slice(1)
    .filter((b) => !b.includes('The signature form field is not signed.'));
  const signatures = blocks.map((text) => ({
    field: /Signature Field Name: (.*)$/m.exec(text)?.[1]?.trim() ?? '',
    signer: /Signer Certificate Common Name: (.*)$/m.exec(text)?.[1]?.trim() ?? '',
    signatureValid: /Signature Validation: Signature is Valid\./.test(text),
    certificateTrusted: /Certificate Validation: Certificate is Trusted\./.test(text),
    certificateValidation: /Certificate Validation: (.*)$/m.exec(text)?.[1]?.trim(),
    totalDocumentSigned: /^\s*- Total document signed/m.test(text),
    signedUpTo: Number(/Signed Ranges: .*\[\d+ - (\d+)\]\s*$/m.exec(text)?.[1] ?? -1),
    text,
  }));
  return { signatures, output };
}

/** qpdf --check: exit status 0 means no structural errors (2 errors, 3 warnings). */
export function qpdfCheck(bytes: Uint8Array): { ok: boolean; output: string } {
  const r = spawnSync('qpdf', ['--check', tempPdf(bytes)], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

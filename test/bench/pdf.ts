// PDF benchmark (`npm run bench`, or `node --import tsx test/bench/pdf.ts`): in one run, on the same
// input, our render; our one signature (visible appearance, CMS, incremental update); three signatures;
// and the naive path people first write — pdf-lib load + full save + @signpdf's plain placeholder and
// P12Signer (RSA). Prints medians, the ratio and the file size. Measures only; asserts nothing.
// Targets (issue 4): one signature ≥ 5× faster than naive and ≤ 10 ms median; ≤ 150 KB after three.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PDFDocument } from '@cantoo/pdf-lib';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { P12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';
import type { SignerRole } from '../../src/domain/roles.ts';
import { renderConsentForm } from '../../src/pdf/render.ts';
import { appendSignature, type SignDeps } from '../../src/pdf/sign.ts';
import { twoGuardiansAndYouth } from '../pdf/fixtures/forms.ts';
import { devDeps, personFor } from '../pdf/helpers/signing.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (n: number): number => Math.round(n * 100) / 100;

async function timeIt(runs: number, fn: () => Promise<unknown>, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** An RSA-2048 PKCS#12 for @signpdf's P12Signer, made with openssl (legacy PBE node-forge can read). */
function makeP12(dir: string): Buffer {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const p12 = path.join(dir, 'bench.p12');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=Bench',
      '-days',
      '1',
    ],
    {
      stdio: 'ignore',
    },
  );
  execFileSync(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      cert,
      '-out',
      p12,
      '-passout',
      'pass:',
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(p12);
}

async function signAll(
  bytes: Uint8Array,
  sha256: string,
  roles: SignerRole[],
  deps: SignDeps,
): Promise<Uint8Array> {
  let b = bytes;
  let h = sha256;
  for (const role of roles) {
    const r = await appendSignature(
      {
        pdf: b,
        expectedSha256: h,
        role,
        signer: personFor(twoGuardiansAndYouth, role),
        place: 'Umeå',
        signedAt: new Date(),
      },
      deps,
    );
    b = r.bytes;
    h = r.sha256;
  }
  return b;
}

export async function benchPdf(): Promise<Record<string, unknown>> {
  const deps = await devDeps();
  const form = await renderConsentForm(twoGuardiansAndYouth);

  const render = await timeIt(20, () => renderConsentForm(twoGuardiansAndYouth));
  const one = await timeIt(50, () => signAll(form.bytes, form.sha256, ['guardian1'], deps), 5);
  const three = await timeIt(15, () => signAll(form.bytes, form.sha256, form.roles, deps));
  const signed = await signAll(form.bytes, form.sha256, form.roles, deps);

  let naive: number[] | undefined;
  let naiveNote: string | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-bench-'));
  try {
    const p12 = makeP12(dir);
    naive = await timeIt(20, async () => {
      // Load and save the whole document (what breaks earlier signatures), then add a placeholder and sign.
      const doc = await PDFDocument.load(form.bytes);
      const saved = Buffer.from(await doc.save({ useObjectStreams: false }));
      const withPlaceholder = plainAddPlaceholder({
        pdfBuffer: saved,
        reason: 'guardian1',
        contactInfo: '',
        name: 'Bench',
        location: 'Umeå',
      });
      // A P12Signer reads its key once (node-forge buffer), so each signature needs a new one.
      return new SignPdf().sign(withPlaceholder, new P12Signer(p12));
    });
  } catch (e) {
    naiveNote = `naive path not measured: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const oneMedian = median(one);
  const naiveMedian = naive ? median(naive) : undefined;
  return {
    input: `rendered consent form, ${form.roles.length} signature fields, ${form.bytes.length} bytes`,
    renderMedianMs: round(median(render)),
    oneSignatureMedianMs: round(oneMedian),
    oneSignatureMinMs: round(Math.min(...one)),
    threeSignaturesMedianMs: round(median(three)),
    naiveOneSignatureMedianMs: naiveMedian === undefined ? null : round(naiveMedian),
    naiveOverOurs: naiveMedian === undefined ? null : round(naiveMedian / oneMedian),
    bytesAfterThreeSignatures: signed.length,
    targets: {
      oneSignatureAtMost10ms: oneMedian <= 10,
      atLeast5xFasterThanNaive: naiveMedian === undefined ? null : naiveMedian / oneMedian >= 5,
      atMost150KBAfterThree: signed.length <= 150 * 1024,
    },
    notes: [
      'our signature: P-256 key + certificate per signer, CMS with signing-certificate-v2, visible appearance, incremental update, signature timestamp from the in-process development TSA (B-T), then a DSS update with the chains, an OCSP response and the CRL (B-LT)',
      'naive: pdf-lib load + full save (breaks earlier signatures), @signpdf placeholder-plain + P12Signer (RSA-2048), no appearance',
      ...(naiveNote ? [naiveNote] : []),
    ],
    machine: { cpus: cpus().length, node: process.version, loadAverage1m: round(loadavg()[0]!) },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchPdf().then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}

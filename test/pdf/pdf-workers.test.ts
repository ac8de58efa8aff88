// The PDF worker pool (src/pdf/pdf-workers.ts): forms and receipts rendered and reports of verified PDFs
// made in worker threads are the ones this thread makes, errors come back as the same AppError, at most
// `threads` workers run, an idle worker stops, a worker that dies fails only its own task, and close()
// refuses what is left. A signature's two PDF steps made in a worker are the ones made here, and a
// worker runs at a lower CPU priority than the event loop.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import t, { type Test } from 'tap';
import { isAppError } from '../../src/errors.ts';
import { PDF_WORKER_NICENESS, PdfWorkerPool } from '../../src/pdf/pdf-workers.ts';
import {
  finishSignatureUpdate,
  type PrepareUpdateTask,
  prepareSignatureUpdate,
} from '../../src/pdf/signature-update.ts';
import type { ConsentFormData } from '../../src/pdf/render.ts';
import { renderReceipt } from '../../src/pdf/receipt.ts';
import { renderConsentForm } from '../../src/pdf/render.ts';
import { appendSignature } from '../../src/pdf/sign.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import { soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';
import { receipt } from './fixtures/receipts.ts';
import { pdftotext, toolTest } from './fixtures/pdf-tools.ts';
import { devDeps, devTrust, personFor, renderAndSign } from './helpers/signing.ts';

const CRASHING = new URL('./fixtures/crashing-pdf-worker.ts', import.meta.url);

async function until(t: Test, what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return void t.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.pass(what);
}

t.test('a form rendered in a worker is the form rendered in this thread', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const [inWorker, here] = await Promise.all([
    pool.renderConsentForm(twoGuardiansAndYouth),
    renderConsentForm(twoGuardiansAndYouth),
  ]);
  t.equal(pool.size, 1, 'one worker');
  t.ok(inWorker.bytes instanceof Uint8Array, 'bytes arrive as a Uint8Array');
  t.equal(Buffer.from(inWorker.bytes.subarray(0, 5)).toString('latin1'), '%PDF-');
  t.same(inWorker.roles, here.roles);
  t.equal(inWorker.templateVersion, here.templateVersion);
  t.equal(inWorker.bytes.length, here.bytes.length, 'same size');
});

toolTest('the worker’s form prints the same text', ['pdftotext'], async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const inWorker = await pool.renderConsentForm(soleGuardian);
  t.equal(pdftotext(inWorker.bytes), pdftotext((await renderConsentForm(soleGuardian)).bytes));
});

toolTest(
  'a receipt rendered in a worker is the receipt rendered in this thread',
  ['pdftotext'],
  async (t) => {
    const pool = new PdfWorkerPool({ threads: 1 });
    t.teardown(() => pool.close());
    const options = { publicBaseUrl: 'https://samtycke.example.se' };
    const [inWorker, here] = await Promise.all([
      pool.renderReceipt(receipt, options),
      renderReceipt(receipt, options),
    ]);
    t.equal(pool.size, 1, 'in a worker');
    t.ok(inWorker instanceof Uint8Array, 'bytes arrive as a Uint8Array');
    t.equal(inWorker.length, here.length, 'same size');
    t.equal(pdftotext(inWorker), pdftotext(here), 'same text');
    t.match(pdftotext(inWorker), /samtycke\.example\.se\/verifiera/, 'with the verification link');
    const inThisThread = new PdfWorkerPool({ threads: 0 });
    t.equal(pdftotext(await inThisThread.renderReceipt(receipt, options)), pdftotext(here), 'threads: 0 too');
  },
);

t.test('a validation error comes back as the same AppError, naming the field', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const bad = { ...soleGuardian, child: { ...soleGuardian.child, name: 'Дмитрий 王' } };
  const err = await pool.renderConsentForm(bad).catch((e: unknown) => e);
  t.ok(isAppError(err), 'an AppError');
  if (!isAppError(err)) return;
  t.equal(err.code, 'validation_failed');
  t.equal(err.status, 400);
  t.same(err.extra?.fields, ['child.name']);
  t.equal(pool.size, 1, 'the worker stays');
  t.ok((await pool.renderConsentForm(soleGuardian)).bytes.length > 1000, 'and renders the next form');
});

t.test('at most `threads` workers; every form of a burst is rendered', async (t) => {
  const pool = new PdfWorkerPool({ threads: 2 });
  t.teardown(() => pool.close());
  let most = 0;
  const forms = Array.from({ length: 6 }, (_, i) =>
    pool
      .renderConsentForm({ ...soleGuardian, area: `Område ${i}` })
      .finally(() => (most = Math.max(most, pool.size))),
  );
  most = Math.max(most, pool.size);
  const rendered = await Promise.all(forms);
  t.equal(rendered.length, 6);
  t.equal(most, 2, 'two workers at most');
  t.equal(new Set(rendered.map((r) => r.sha256)).size, 6, 'six different forms');
});

t.test('an idle worker stops', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1, idleMs: 100 });
  t.teardown(() => pool.close());
  await pool.renderConsentForm(soleGuardian);
  t.equal(pool.size, 1);
  await until(t, 'no worker after 100 ms idle', () => pool.size === 0);
  t.ok((await pool.renderConsentForm(soleGuardian)).bytes.length > 1000, 'the next form starts one');
});

t.test('a worker that dies fails its own form only; the next form gets a new worker', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1, workerUrl: CRASHING });
  t.teardown(() => pool.close());
  const lost = pool.renderConsentForm({ ...soleGuardian, area: 'KRASCH' });
  const next = pool.renderConsentForm(soleGuardian);
  const err = await lost.catch((e: unknown) => e);
  t.ok(isAppError(err) && err.code === 'internal_error', 'internal_error for the lost form');
  t.ok((await next).bytes.length > 1000, 'the queued form is rendered by a new worker');
  t.equal(pool.size, 1);
});

t.test('close(): queued and running forms are refused, later ones too', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  const forms = [pool.renderConsentForm(soleGuardian), pool.renderConsentForm(soleGuardian)];
  const settled = Promise.allSettled(forms);
  await pool.close();
  const outcomes = await settled;
  t.ok(
    outcomes.every((o) => o.status === 'rejected'),
    'both refused',
  );
  t.equal(pool.size, 0);
  await t.rejects(pool.renderConsentForm(soleGuardian), /closed/);
});

t.test('threads: 0 renders in this thread', async (t) => {
  const pool = new PdfWorkerPool({ threads: 0 });
  t.teardown(() => pool.close());
  const form = await pool.renderConsentForm(soleGuardian);
  t.equal(pool.size, 0, 'no worker');
  t.ok(form.bytes.length > 1000);
});

// --- Verification ------------------------------------------------------------------------------------------

// One document signed by two guardians and the youth, for the verification tests.
const { steps } = await renderAndSign(twoGuardiansAndYouth);
const signed = steps.at(-1)!.bytes;
const trust = devTrust();
const tsaTrust = devTrust();
const at = new Date();

/** Every leaf of a value with its path and kind: Dates must come back as Dates, not strings. */
function leaves(value: unknown, path = ''): string[] {
  if (value instanceof Date) return [`${path}: Date ${value.toISOString()}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    if (Object.getPrototypeOf(value) !== Object.prototype) return [`${path}: ${value.constructor.name}`];
    return Object.entries(value).flatMap(([k, v]) => leaves(v, `${path}.${k}`));
  }
  return [`${path}: ${typeof value} ${String(value)}`];
}

t.test('a report made in a worker is verifyPdf’s report in this thread, Dates and all', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const [inWorker, here] = await Promise.all([
    pool.verify(signed, { trust, tsaTrust, at }),
    verifyPdf(signed, { trust, tsaTrust, at }),
  ]);
  t.equal(pool.size, 1, 'in a worker');
  t.equal(here.verdict, 'valid');
  t.equal(here.signatures.length, 3);
  t.strictSame(inWorker, here);
  t.strictSame(leaves(inWorker), leaves(here), 'the same leaves, of the same kinds');
  t.ok(inWorker.validationTime instanceof Date, 'validationTime is a Date');
  t.ok(
    inWorker.signatures.every((s) => s.timestamp?.genTime instanceof Date),
    'each timestamp’s genTime is a Date',
  );
  t.notOk(
    leaves(here).some((l) => /: (?!Date )[A-Z]\w*$/.test(l)),
    'the report holds no class instances (structured clone keeps plain data and Dates only)',
  );
  const again = await pool.verify(signed, { trust, tsaTrust, at });
  t.strictSame(again, here, 'a second task (the worker’s anchors from its cache) too');
});

t.test('a tampered document is invalid through the pool too', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const bytes = Uint8Array.from(signed);
  bytes[12]! ^= 0x01; // the header comment: inside every signature's byte range
  const [inWorker, here] = await Promise.all([
    pool.verify(bytes, { trust, at }),
    verifyPdf(bytes, { trust, at }),
  ]);
  t.equal(inWorker.verdict, 'invalid');
  t.same(
    inWorker.signatures.map((s) => [s.status, s.cms.digestValid]),
    [
      ['invalid', false],
      ['invalid', false],
      ['invalid', false],
    ],
  );
  t.strictSame(inWorker, here);
  const garbage = await pool.verify(new TextEncoder().encode('%PDF-1.7 nothing else'), { trust, at });
  t.equal(garbage.verdict, 'invalid', 'an unreadable file is a report, not an error');
  t.ok(
    garbage.problems.some((p) => p.startsWith('not a readable PDF')),
    'not a readable PDF',
  );
});

t.test('threads: 0 verifies in this thread, with the same report', async (t) => {
  const pool = new PdfWorkerPool({ threads: 0 });
  t.teardown(() => pool.close());
  t.strictSame(
    await pool.verify(signed, { trust, tsaTrust, at }),
    await verifyPdf(signed, { trust, tsaTrust, at }),
  );
  t.equal(pool.size, 0, 'no worker');
});

t.test('a worker that dies verifying fails that verification only', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1, workerUrl: CRASHING });
  t.teardown(() => pool.close());
  const lost = pool.verify(new TextEncoder().encode('%PDF-1.7 KRASCH'), { trust, at });
  const next = pool.verify(signed, { trust, at });
  const err = await lost.catch((e: unknown) => e);
  t.ok(isAppError(err) && err.code === 'internal_error', 'internal_error for the lost verification');
  t.match((err as Error).message, /could not be verified/);
  t.equal((await next).verdict, 'valid', 'the queued one is verified by a new worker');
});

t.test('signing with the pool as verifier: the earlier signatures are checked in a worker', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const deps = await devDeps({ verify: (pdf, options) => pool.verify(pdf, options) });
  const first = steps[0]!; // guardian1 signed
  const second = await appendSignature(
    {
      pdf: first.bytes,
      expectedSha256: first.sha256,
      role: 'guardian2',
      signer: personFor(twoGuardiansAndYouth, 'guardian2'),
      place: 'Sollefteå',
      signedAt: new Date(),
    },
    deps,
  );
  t.equal(pool.size, 1, 'verified in a worker');
  t.equal((await verifyPdf(second.bytes, { trust })).verdict, 'valid', 'the second signature is made');

  const broken = Uint8Array.from(first.bytes);
  broken[12]! ^= 0x01;
  const refused = await appendSignature(
    {
      pdf: broken,
      expectedSha256: createHash('sha256').update(broken).digest('hex'),
      role: 'guardian2',
      signer: personFor(twoGuardiansAndYouth, 'guardian2'),
      place: 'Sollefteå',
      signedAt: new Date(),
    },
    deps,
  ).catch((e: unknown) => e);
  t.ok(isAppError(refused) && refused.code === 'document_signatures_invalid', 'a broken one is refused');
  t.same(isAppError(refused) ? refused.extra?.invalidFields : undefined, ['guardian1']);
});

// A signature's PDF steps (signature-update.ts) in a worker: the same bytes as in this thread.

/** The first PDF step of guardian 1's signature on a freshly rendered form. */
async function guardian1Step(form: ConsentFormData, signerName: string): Promise<PrepareUpdateTask> {
  const rendered = await renderConsentForm(form);
  return {
    pdf: rendered.bytes,
    expectedSha256: rendered.sha256,
    role: 'guardian1',
    signerName,
    place: 'Sollefteå',
    signedAt: new Date('2026-12-07T09:00:00Z'),
    capacity: 12_288,
  };
}

t.test('a signature’s PDF steps made in a worker are the ones made in this thread', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const task = await guardian1Step(twoGuardiansAndYouth, twoGuardiansAndYouth.guardian1.name);
  const [inWorker, here] = await Promise.all([pool.prepareSignature(task), prepareSignatureUpdate(task)]);
  t.equal(pool.size, 1, 'prepared in a worker');
  t.ok(inWorker.bytes instanceof Uint8Array, 'bytes arrive as a Uint8Array');
  t.ok(Buffer.from(inWorker.bytes).equals(Buffer.from(here.bytes)), 'the same update, byte for byte');
  t.same(inWorker.byteRange, here.byteRange);
  t.equal(inWorker.contentsAt, here.contentsAt);
  t.equal(Buffer.from(inWorker.digest).toString('hex'), Buffer.from(here.digest).toString('hex'));

  const finish = {
    bytes: here.bytes,
    contentsAt: here.contentsAt,
    cms: new Uint8Array(64).fill(0x30),
    signer: { certificates: [], ocsps: [], crls: [] },
    tsa: { certificates: [], ocsps: [], crls: [] },
    signerChain: [],
    at: task.signedAt,
  };
  const [finishedInWorker, finishedHere] = await Promise.all([
    pool.finishSignature(finish),
    finishSignatureUpdate(finish),
  ]);
  t.ok(Buffer.from(finishedInWorker.bytes).equals(Buffer.from(finishedHere.bytes)), 'the same DSS update');
  t.equal(finishedInWorker.sha256, finishedHere.sha256);
  t.equal(finishedInWorker.level, 'PAdES-B-T', 'no validation data: B-T');
  t.equal(finishedInWorker.validationRevision, finishedHere.validationRevision);
  t.ok(
    Buffer.from(here.bytes).equals(Buffer.from(prepareSignatureUpdate(task).bytes)),
    'finishing leaves the prepared bytes as they were',
  );

  const mismatch = await pool
    .prepareSignature({ ...task, expectedSha256: '0'.repeat(64) })
    .catch((e: unknown) => e);
  t.ok(isAppError(mismatch) && mismatch.code === 'document_mismatch', 'a refusal comes back as its AppError');
  const tooBig = await pool
    .finishSignature({ ...finish, cms: new Uint8Array(task.capacity + 1) })
    .catch((e: unknown) => e);
  t.ok(isAppError(tooBig) && tooBig.code === 'signing_failed', 'a CMS larger than its room is refused');
});

t.test('signing with the pool for its PDF steps makes a valid signature, in a worker', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const deps = await devDeps({ pdfWork: pool, verify: (pdf, options) => pool.verify(pdf, options) });
  const { steps: signedInWorkers } = await renderAndSign(twoGuardiansAndYouth, deps);
  t.equal(pool.size, 1, 'the PDF steps ran in a worker');
  const last = signedInWorkers.at(-1)!;
  t.equal(signedInWorkers.length, 3, 'three signatures');
  t.equal(last.result.signature.level, 'PAdES-B-LT');
  t.equal(last.result.signature.validationRevision, last.result.signature.revision + 1);
  const report = await verifyPdf(last.bytes, { trust, tsaTrust });
  t.equal(report.verdict, 'valid', 'each signature still valid after the last');
  t.same(
    report.signatures.map((s) => s.status),
    ['valid', 'valid', 'valid'],
  );
});

t.test('a worker that dies in a signature’s PDF step fails that signature only', async (t) => {
  const pool = new PdfWorkerPool({ threads: 1, workerUrl: CRASHING });
  t.teardown(() => pool.close());
  const task = await guardian1Step(soleGuardian, 'KRASCH');
  const lost = pool.prepareSignature(task);
  const next = pool.prepareSignature({ ...task, signerName: 'Anna Andersson' });
  const err = await lost.catch((e: unknown) => e);
  t.ok(isAppError(err) && err.code === 'internal_error', 'internal_error for the lost step');
  t.match((err as Error).message, /could not be signed/);
  t.equal((await next).byteRange[0], 0, 'the queued one is prepared by a new worker');
});

t.test(
  'a worker runs nicer than the event loop (Linux)',
  { skip: process.platform !== 'linux' && 'thread priorities are read from /proc' },
  async (t) => {
    const pool = new PdfWorkerPool({ threads: 1 });
    t.teardown(() => pool.close());
    await pool.renderConsentForm(soleGuardian);
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (proc(5)); the command name in
    // field 2 may hold spaces, so fields are counted after its closing parenthesis.
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const nices = readdirSync('/proc/self/task').map(niceOf);
    const main = niceOf(String(process.pid));
    t.ok(
      nices.includes(Math.min(19, main + PDF_WORKER_NICENESS)),
      `a thread at nice ${main + PDF_WORKER_NICENESS}`,
    );
    t.equal(main, getPriority(), 'the event loop keeps the process’s priority');
  },
);

// The render pool (src/pdf/render-pool.ts): forms and receipts rendered in worker threads are the ones the
// renderers make in this thread, errors come back as the same AppError, at most `threads` workers run, an idle
// worker stops, a worker that dies fails only its own form, and close() refuses what is left.
import t, { type Test } from 'tap';
import { isAppError } from '../../src/errors.ts';
import { RenderPool } from '../../src/pdf/render-pool.ts';
import { renderReceipt } from '../../src/pdf/receipt.ts';
import { renderConsentForm } from '../../src/pdf/render.ts';
import { soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';
import { receipt } from './fixtures/receipts.ts';
import { pdftotext, toolTest } from './fixtures/pdf-tools.ts';

const CRASHING = new URL('./fixtures/crashing-render-worker.ts', import.meta.url);

async function until(t: Test, what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return void t.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.pass(what);
}

t.test('a form rendered in a worker is the form rendered in this thread', async (t) => {
  const pool = new RenderPool({ threads: 1 });
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
  const pool = new RenderPool({ threads: 1 });
  t.teardown(() => pool.close());
  const inWorker = await pool.renderConsentForm(soleGuardian);
  t.equal(pdftotext(inWorker.bytes), pdftotext((await renderConsentForm(soleGuardian)).bytes));
});

toolTest(
  'a receipt rendered in a worker is the receipt rendered in this thread',
  ['pdftotext'],
  async (t) => {
    const pool = new RenderPool({ threads: 1 });
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
    const inThisThread = new RenderPool({ threads: 0 });
    t.equal(pdftotext(await inThisThread.renderReceipt(receipt, options)), pdftotext(here), 'threads: 0 too');
  },
);

t.test('a validation error comes back as the same AppError, naming the field', async (t) => {
  const pool = new RenderPool({ threads: 1 });
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
  const pool = new RenderPool({ threads: 2 });
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
  const pool = new RenderPool({ threads: 1, idleMs: 100 });
  t.teardown(() => pool.close());
  await pool.renderConsentForm(soleGuardian);
  t.equal(pool.size, 1);
  await until(t, 'no worker after 100 ms idle', () => pool.size === 0);
  t.ok((await pool.renderConsentForm(soleGuardian)).bytes.length > 1000, 'the next form starts one');
});

t.test('a worker that dies fails its own form only; the next form gets a new worker', async (t) => {
  const pool = new RenderPool({ threads: 1, workerUrl: CRASHING });
  t.teardown(() => pool.close());
  const lost = pool.renderConsentForm({ ...soleGuardian, area: 'KRASCH' });
  const next = pool.renderConsentForm(soleGuardian);
  const err = await lost.catch((e: unknown) => e);
  t.ok(isAppError(err) && err.code === 'internal_error', 'internal_error for the lost form');
  t.ok((await next).bytes.length > 1000, 'the queued form is rendered by a new worker');
  t.equal(pool.size, 1);
});

t.test('close(): queued and running forms are refused, later ones too', async (t) => {
  const pool = new RenderPool({ threads: 1 });
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
  const pool = new RenderPool({ threads: 0 });
  t.teardown(() => pool.close());
  const form = await pool.renderConsentForm(soleGuardian);
  t.equal(pool.size, 0, 'no worker');
  t.ok(form.bytes.length > 1000);
});

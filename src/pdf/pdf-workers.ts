// Runs the PDF work that costs CPU in worker threads, so that it never blocks the event loop that answers
// status checks: rendering consent forms and receipts (10–40 ms a document: layout, font subsetting,
// PDF/A, the receipt's QR code) and verifying signed PDFs (10–20 ms a signature: parsing, hashes, CMS and
// certificate chains). Issue 15 §6: status p99 rose from ~22 ms to ~39 ms while requests were created, the
// rendering was the difference; issue 14: twenty receipts made at once, at the end of twenty signatures,
// held the event loop and so every signature's row lock, as did the check of the earlier signatures that
// every signature after the first makes; so did writing each signature's two incremental updates (about
// 10 ms of parsing, fonts and DSS a signature), which run here too. The public verification page verifies
// anyone's upload here as well: the worker's heap limit bounds a hostile file. Worker threads run at a
// lower CPU priority than the event loop (pdf-worker.ts): on a busy machine, answers come first.
//
// One pool per process, made at the first task: workers start on demand (up to `threads`), each runs one
// task at a time, and a worker idle for `idleMs` stops, so that a service at rest holds no PDF
// libraries. Idle workers are unref'd: they never keep a process alive. A worker that dies fails only
// the task it was running; the next task starts a new one. `threads: 0` runs the tasks on the event loop.
//
// The worker (pdf-worker.ts) runs the same renderConsentForm, renderReceipt, verifyPdf and signature steps
// (`runHere`); a refusal (a document that is not the latest, a role already signed) or a validation
// error (text the font cannot print) comes back as the same AppError with the same fields.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorCode, isAppError } from '../errors.ts';
import type { ReceiptData, ReceiptOptions } from './receipt.ts';
import type { ConsentFormData, RenderedForm } from './render.ts';
import type {
  FinishedUpdate,
  FinishUpdateTask,
  PreparedUpdate,
  PrepareUpdateTask,
  SignaturePdfWork,
} from './signature-update.ts';
import type { Trust } from './trust.ts';
import type { VerificationReport, VerifyOptions } from './verify/index.ts';

export interface PdfWorkerPoolOptions {
  /** Worker threads at most; 0: run the tasks in this thread. */
  threads: number;
  /** A worker with nothing to do for this long stops (default 10 minutes). */
  idleMs?: number;
  /** The worker's module (tests give one that fails on purpose); default pdf-worker.ts. */
  workerUrl?: URL;
}

/**
 * What a worker does: render a consent form or a consent's receipt, verify a signed PDF, or one of the
 * two PDF steps of a signature (signature-update.ts). A worker cannot be sent a `Trust` (it holds pkijs
 * objects): a verify task carries its anchors as DER.
 */
export type PdfTask =
  | { kind: 'form'; data: ConsentFormData }
  | { kind: 'receipt'; data: ReceiptData; options: ReceiptOptions }
  | {
      kind: 'verify';
      pdf: Uint8Array;
      /** The trust anchors' certificates, DER (`Trust.anchorDers`). */
      trust: readonly Uint8Array[];
      /** The TSA anchors' certificates, DER; default `trust`. */
      tsaTrust?: readonly Uint8Array[] | undefined;
      at: Date;
    }
  | { kind: 'sign-prepare'; task: PrepareUpdateTask }
  | { kind: 'sign-finish'; task: FinishUpdateTask };
/** A task's result: plain data, which survives the structured clone between threads. */
type PdfResult = RenderedForm | Uint8Array | VerificationReport | PreparedUpdate | FinishedUpdate;

/** What a worker is sent (pdf-worker.ts). */
export type PdfRequest = PdfTask & { id: number };

/** What a worker answers (pdf-worker.ts). */
export type PdfAnswer =
  | { id: number; ok: true; value: PdfResult }
  | {
      id: number;
      ok: false;
      error: { appError: boolean; code?: string; message: string; extra?: Record<string, unknown> };
    };

/** Runs `task` in this thread: what a worker runs, and the pool itself with `threads: 0`. */
export async function runHere(task: PdfTask): Promise<PdfResult> {
  switch (task.kind) {
    case 'form': {
      const { renderConsentForm } = await import('./render.ts');
      return renderConsentForm(task.data);
    }
    case 'receipt': {
      const { renderReceipt } = await import('./receipt.ts');
      return renderReceipt(task.data, task.options);
    }
    case 'verify': {
      const { verifyPdf } = await import('./verify/index.ts');
      const trust = await trustOf(task.trust);
      const tsaTrust = task.tsaTrust ? await trustOf(task.tsaTrust) : trust;
      return verifyPdf(task.pdf, { trust, tsaTrust, at: task.at });
    }
    case 'sign-prepare': {
      const { prepareSignatureUpdate } = await import('./signature-update.ts');
      return prepareSignatureUpdate(task.task);
    }
    case 'sign-finish': {
      const { finishSignatureUpdate } = await import('./signature-update.ts');
      return finishSignatureUpdate(task.task);
    }
  }
}

// A thread's trust anchors, rebuilt from their DER once: parsing them costs milliseconds, and every
// verification of a process sends the same few sets (the signing trust, the TSA trust).
const trusts = new Map<string, Trust>();
const MAX_TRUSTS = 16;

async function trustOf(ders: readonly Uint8Array[]): Promise<Trust> {
  const hash = createHash('sha256');
  // Each DER's length first: the key is of the list, not only of its concatenated bytes.
  for (const der of ders) hash.update(`${der.length}:`).update(der);
  const key = hash.digest('hex');
  let trust = trusts.get(key);
  if (!trust) {
    const [anchors, pki] = await Promise.all([import('./trust.ts'), import('./pki.ts')]);
    trust = new anchors.Trust(ders.map((der) => pki.parseCertificate(der)));
    if (trusts.size >= MAX_TRUSTS) trusts.delete(trusts.keys().next().value!);
    trusts.set(key, trust);
  }
  return trust;
}

interface Job {
  id: number;
  task: PdfTask;
  resolve: (value: PdfResult) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

const DEFAULT_IDLE_MS = 10 * 60_000;
/** How much nicer a worker thread is than the process (pdf-worker.ts): it yields to the event loop. */
export const PDF_WORKER_NICENESS = 10;
/**
 * A worker's heap: a form or a verification needs a few MB; a runaway one (a hostile upload) stops there
 * instead of growing the process.
 */
const WORKER_HEAP_MB = 128;

// The worker is the compiled .js next to this file under `npm start` (src/cli/run-compiled.js), the .ts
// file under tsx and tap. tap's loaders are in process.execArgv, which a worker inherits; `node --import
// tsx` (scripts, benchmarks) registers its loader in the main thread only, so a .ts worker first registers
// tsx's in its own thread (tsx is a development dependency: only .ts sources ever need it).
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './pdf-worker.ts' : './pdf-worker.js',
  import.meta.url,
);

/** What `new Worker` runs: the worker file, or for a .ts file a bootstrap that can load it. */
function workerEntry(url: URL): { entry: URL | string; eval: boolean } {
  if (!url.pathname.endsWith('.ts')) return { entry: url, eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    entry: `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`,
    eval: true,
  };
}

export class PdfWorkerPool implements SignaturePdfWork {
  readonly threads: number;
  readonly #idleMs: number;
  readonly #workerUrl: URL;
  readonly #workers = new Set<PoolWorker>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: PdfWorkerPoolOptions) {
    this.threads = options.threads;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#workerUrl = options.workerUrl ?? WORKER_URL;
  }

  /** Workers running now (busy or idle). */
  get size(): number {
    return this.#workers.size;
  }

  async renderConsentForm(data: ConsentFormData): Promise<RenderedForm> {
    return (await this.#run({ kind: 'form', data })) as RenderedForm;
  }

  async renderReceipt(data: ReceiptData, options: ReceiptOptions = {}): Promise<Uint8Array> {
    return (await this.#run({ kind: 'receipt', data, options })) as Uint8Array;
  }

  /** verifyPdf's report on `pdf`, made in a worker. Never throws for a bad document; a lost worker does. */
  async verify(pdf: Uint8Array, options: VerifyOptions): Promise<VerificationReport> {
    return (await this.#run({
      kind: 'verify',
      pdf,
      trust: options.trust.anchorDers,
      tsaTrust: options.tsaTrust?.anchorDers,
      at: options.at ?? new Date(),
    })) as VerificationReport;
  }

  /** A signature's first PDF step (sign.ts `SignDeps.pdfWork`). */
  async prepareSignature(task: PrepareUpdateTask): Promise<PreparedUpdate> {
    return (await this.#run({ kind: 'sign-prepare', task })) as PreparedUpdate;
  }

  /** A signature's second PDF step. */
  async finishSignature(task: FinishUpdateTask): Promise<FinishedUpdate> {
    return (await this.#run({ kind: 'sign-finish', task })) as FinishedUpdate;
  }

  async #run(task: PdfTask): Promise<PdfResult> {
    if (this.#closed) throw new Error('the PDF worker pool is closed');
    if (this.threads === 0) return runHere(task);
    return new Promise<PdfResult>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, task, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; tasks still queued or running are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the PDF worker pool is closed'));
    await Promise.all([...this.#workers].map((w) => this.#stop(w)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const free = [...this.#workers].find((w) => !w.job);
      const target = free ?? (this.#workers.size < this.threads ? this.#start() : undefined);
      if (!target) return;
      this.#send(target, this.#queue.shift()!);
    }
  }

  #send(w: PoolWorker, job: Job): void {
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    w.job = job;
    w.worker.ref();
    w.worker.postMessage({ id: job.id, ...job.task } satisfies PdfRequest);
  }

  #start(): PoolWorker {
    const { entry, eval: isCode } = workerEntry(this.#workerUrl);
    const worker = new Worker(entry, {
      eval: isCode,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    const w: PoolWorker = { worker, job: undefined, idleTimer: undefined };
    this.#workers.add(w);
    worker.on('message', (answer: PdfAnswer) => this.#answered(w, answer));
    worker.on('error', (error) => this.#failed(w, error));
    worker.on('exit', (code) => this.#failed(w, new Error(`PDF worker exited with code ${code}`)));
    return w;
  }

  #answered(w: PoolWorker, answer: PdfAnswer): void {
    const job = w.job;
    if (!job || job.id !== answer.id) return;
    w.job = undefined;
    if (answer.ok) job.resolve(answer.value);
    else job.reject(revive(answer.error));
    this.#idle(w);
    this.#dispatch();
  }

  #idle(w: PoolWorker): void {
    if (w.job || !this.#workers.has(w)) return;
    w.worker.unref();
    w.idleTimer = setTimeout(() => void this.#stop(w), this.#idleMs);
    w.idleTimer.unref();
  }

  #failed(w: PoolWorker, error: Error): void {
    if (!this.#workers.delete(w)) return;
    if (w.idleTimer) clearTimeout(w.idleTimer);
    const kind = w.job?.task.kind;
    const what = kind === 'verify' ? 'verified' : kind?.startsWith('sign-') ? 'signed' : 'rendered';
    w.job?.reject(new AppError('internal_error', `the document could not be ${what}`, { cause: error }));
    w.job = undefined;
    if (!this.#closed) this.#dispatch();
  }

  async #stop(w: PoolWorker): Promise<void> {
    if (!this.#workers.delete(w)) return;
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.job?.reject(new Error('the PDF worker pool is closed'));
    await w.worker.terminate();
  }
}

/** The worker's error as the error the task would have thrown in this thread. */
function revive(error: Extract<PdfAnswer, { ok: false }>['error']): Error {
  if (error.appError && error.code)
    return new AppError(error.code as ErrorCode, error.message, error.extra ? { extra: error.extra } : {});
  return new Error(error.message);
}

/** What a worker sends back for an error (pdf-worker.ts). */
export function describeError(e: unknown): Extract<PdfAnswer, { ok: false }>['error'] {
  if (isAppError(e))
    return { appError: true, code: e.code, message: e.message, ...(e.extra ? { extra: e.extra } : {}) };
  return { appError: false, message: e instanceof Error ? e.message : String(e) };
}

let shared: PdfWorkerPool | undefined;

/**
 * The process's pool (made with the first caller's thread count). One per process rather than per app:
 * tests and the CLI make many apps in one process, and a worker costs its own copy of the PDF libraries.
 */
export function pdfWorkers(threads: number): PdfWorkerPool {
  shared ??= new PdfWorkerPool({ threads });
  return shared;
}

/** Stops the process's pool (graceful shutdown). */
export async function closePdfWorkers(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

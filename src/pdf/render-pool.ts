// Renders consent forms and receipts in worker threads, so that the 10–40 ms of CPU a document costs
// (layout, font subsetting, PDF/A, the receipt's QR code) never blocks the event loop that answers status
// checks (issue 15 §6: status p99 rose from ~22 ms to ~39 ms while requests were created; the rendering
// was the difference; issue 14: twenty receipts made at once, at the end of twenty signatures, held the
// event loop and so every signature's row lock).
//
// One pool per process, made at the first form: workers start on demand (up to `threads`), each renders
// one form at a time, and a worker idle for `idleMs` stops, so that a service at rest holds no PDF
// libraries. Idle workers are unref'd: they never keep a process alive. A worker that dies fails only
// the form it was rendering; the next form starts a new one. `threads: 0` renders on the event loop.
//
// The worker (render-worker.ts) runs the same renderConsentForm and renderReceipt (`renderHere`); a
// validation error (text the font cannot print) comes back as the same AppError with the same fields.
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorCode, isAppError } from '../errors.ts';
import type { ReceiptData, ReceiptOptions } from './receipt.ts';
import type { ConsentFormData, RenderedForm } from './render.ts';

export interface RenderPoolOptions {
  /** Worker threads at most; 0: render in this thread. */
  threads: number;
  /** A worker with nothing to do for this long stops (default 10 minutes). */
  idleMs?: number;
  /** The worker's module (tests give one that fails on purpose); default render-worker.ts. */
  workerUrl?: URL;
}

/** What a worker renders: a consent form, or a consent's receipt. */
export type RenderTask =
  { kind: 'form'; data: ConsentFormData } | { kind: 'receipt'; data: ReceiptData; options: ReceiptOptions };
type Rendered = RenderedForm | Uint8Array;

/** What a worker is sent (render-worker.ts). */
export type RenderRequest = RenderTask & { id: number };

/** What a worker answers (render-worker.ts). */
export type RenderAnswer =
  | { id: number; ok: true; value: Rendered }
  | {
      id: number;
      ok: false;
      error: { appError: boolean; code?: string; message: string; extra?: Record<string, unknown> };
    };

/** Renders `task` in this thread: what a worker runs, and the pool itself with `threads: 0`. */
export async function renderHere(task: RenderTask): Promise<Rendered> {
  if (task.kind === 'form') {
    const { renderConsentForm } = await import('./render.ts');
    return renderConsentForm(task.data);
  }
  const { renderReceipt } = await import('./receipt.ts');
  return renderReceipt(task.data, task.options);
}

interface Job {
  id: number;
  task: RenderTask;
  resolve: (value: Rendered) => void;
  reject: (error: unknown) => void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

const DEFAULT_IDLE_MS = 10 * 60_000;
/** A worker's heap: a form needs a few MB; a runaway one stops there instead of growing the process. */
const WORKER_HEAP_MB = 128;

// The worker is the compiled .js next to this file under `npm start` (src/cli/run-compiled.js), the .ts
// file under tsx and tap. tap's loaders are in process.execArgv, which a worker inherits; `node --import
// tsx` (scripts, benchmarks) registers its loader in the main thread only, so a .ts worker first registers
// tsx's in its own thread (tsx is a development dependency: only .ts sources ever need it).
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js',
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

export class RenderPool {
  readonly threads: number;
  readonly #idleMs: number;
  readonly #workerUrl: URL;
  readonly #workers = new Set<PoolWorker>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: RenderPoolOptions) {
    this.threads = options.threads;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#workerUrl = options.workerUrl ?? WORKER_URL;
  }

  /** Workers running now (busy or idle). */
  get size(): number {
    return this.#workers.size;
  }

  async renderConsentForm(data: ConsentFormData): Promise<RenderedForm> {
    return (await this.#render({ kind: 'form', data })) as RenderedForm;
  }

  async renderReceipt(data: ReceiptData, options: ReceiptOptions = {}): Promise<Uint8Array> {
    return (await this.#render({ kind: 'receipt', data, options })) as Uint8Array;
  }

  async #render(task: RenderTask): Promise<Rendered> {
    if (this.#closed) throw new Error('the render pool is closed');
    if (this.threads === 0) return renderHere(task);
    return new Promise<Rendered>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, task, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; documents still queued or rendering are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the render pool is closed'));
    await Promise.all([...this.#workers].map((w) => this.#stop(w)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const free = [...this.#workers].find((w) => !w.job);
      const target = free ?? (this.#workers.size < this.threads ? this.#start() : undefined);
      if (!target) return;
      this.#run(target, this.#queue.shift()!);
    }
  }

  #run(w: PoolWorker, job: Job): void {
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    w.job = job;
    w.worker.ref();
    w.worker.postMessage({ id: job.id, ...job.task } satisfies RenderRequest);
  }

  #start(): PoolWorker {
    const { entry, eval: isCode } = workerEntry(this.#workerUrl);
    const worker = new Worker(entry, {
      eval: isCode,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    const w: PoolWorker = { worker, job: undefined, idleTimer: undefined };
    this.#workers.add(w);
    worker.on('message', (answer: RenderAnswer) => this.#answered(w, answer));
    worker.on('error', (error) => this.#failed(w, error));
    worker.on('exit', (code) => this.#failed(w, new Error(`render worker exited with code ${code}`)));
    return w;
  }

  #answered(w: PoolWorker, answer: RenderAnswer): void {
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
    w.job?.reject(new AppError('internal_error', 'the document could not be rendered', { cause: error }));
    w.job = undefined;
    if (!this.#closed) this.#dispatch();
  }

  async #stop(w: PoolWorker): Promise<void> {
    if (!this.#workers.delete(w)) return;
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.job?.reject(new Error('the render pool is closed'));
    await w.worker.terminate();
  }
}

/** The worker's error as the error rendering would have thrown in this thread. */
function revive(error: Extract<RenderAnswer, { ok: false }>['error']): Error {
  if (error.appError && error.code)
    return new AppError(error.code as ErrorCode, error.message, error.extra ? { extra: error.extra } : {});
  return new Error(error.message);
}

/** What a worker sends back for an error (render-worker.ts). */
export function describeError(e: unknown): Extract<RenderAnswer, { ok: false }>['error'] {
  if (isAppError(e))
    return { appError: true, code: e.code, message: e.message, ...(e.extra ? { extra: e.extra } : {}) };
  return { appError: false, message: e instanceof Error ? e.message : String(e) };
}

let shared: RenderPool | undefined;

/**
 * The process's pool (made with the first caller's thread count). One per process rather than per app:
 * tests and the CLI make many apps in one process, and a worker costs its own copy of the PDF libraries.
 */
export function renderPool(threads: number): RenderPool {
  shared ??= new RenderPool({ threads });
  return shared;
}

/** Stops the process's pool (graceful shutdown). */
export async function closeRenderPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

// A share of the connection pool for one kind of work: at most `size` of its tasks hold connections at
// once; the others wait here, in order, without taking one. Signatures use it (issue 14): twenty guardians
// signing in the same instant each want a connection for their reads and their short transaction, and
// without a share they took the whole pool, so that integrators' status checks waited behind them. With
// it, signatures queue among themselves and the rest of the pool stays free for everything else.
//
// A task must not acquire the same share again while it holds it (it would wait for itself once the
// share is full): each step that reads or writes runs once, on its own.

export class PoolShare {
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('a pool share holds at least one task');
  }

  /** Tasks holding the share now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for it. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` once the share has room; frees its place when the task settles, however it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The place passes straight to the next in line (the count stays), or is given back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/**
 * The share of a pool of `poolSize` connections that signatures may hold at once: a quarter, so that the
 * other three quarters always serve status checks, pages and jobs (a signature holds a connection for a
 * few milliseconds per step; the slow parts, the time-stamping service and the PDF work, hold none).
 */
export const signingShareOf = (poolSize: number): number => Math.max(1, Math.floor(poolSize / 4));

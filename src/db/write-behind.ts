// Write-behind: rows an answer must not go out without, but whose commit it need not wait for. A row is
// written to a PostgreSQL connection before `write` resolves (so before the caller answers) and committed
// behind the answer. Used for the audit rows of status checks (consents/audit.repository.ts `appendAuditEventBehind`):
// waiting for their commit was the second of two sequential round trips on the hottest route.
//
// What it guarantees:
// - `write` resolves only once the row's INSERT is on the wire (db/index.ts `sendQuery`): PostgreSQL
//   executes and commits it even if this process dies the next instant. If it cannot be sent (no
//   connection), `write` rejects and the caller must not answer.
// - A statement that fails for a passing reason (connection lost, server shutting down, deadlock) is sent
//   again, with backoff; one that PostgreSQL refuses outright is split so that only the refused rows are
//   lost, and those are reported (count and SQLSTATE, never their content). A retry after a commit whose
//   acknowledgement was lost can store a row twice: a duplicate audit row is better than a missing one.
// - Bounded: at most `maxInFlight` statements (connections) at once; rows beyond wait unsent, with their
//   callers. With more than `maxUncommitted` rows still uncommitted (PostgreSQL slow or away), `write`
//   refuses with `service_unavailable` rather than queue without end.
// - `settled()` waits until every row written so far is committed or reported; the db plugin calls
//   `settleWriteBehind` before it closes the pool, so a graceful shutdown loses nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import { AppError } from '../errors.ts';
import { type Db, sendQuery } from './index.ts';

export interface WriteBehindOptions<R> {
  /** What is written, for reports (a table name). */
  name: string;
  /** One statement that inserts all the rows. */
  statement: (rows: readonly R[]) => CompiledQuery;
  /** Rows per statement at most (default 32, as the read batches: batch.ts). */
  maxBatch?: number;
  /**
   * Statements under way at once (default 4): connections the writer may hold, so that a slow commit
   * never takes the pool from the reads. Rows beyond wait, unsent, and so do their callers.
   */
  maxInFlight?: number;
  /** Rows not yet committed beyond which `write` refuses (default 2,000). */
  maxUncommitted?: number;
  /** Sends of one statement at most (default 8: about 6 s with the default delay). */
  attempts?: number;
  /** Delay before the first resend, doubled each time (default 50 ms). */
  retryDelayMs?: number;
}

/** Rows that could not be stored: reported to the handler the db plugin installs (the app's log). */
export interface DroppedRows {
  writer: string;
  rows: number;
  /** PostgreSQL's SQLSTATE, or the client's error code. */
  code: string | undefined;
}

type DroppedHandler = (dropped: DroppedRows) => void;

const writersOf = new WeakMap<Db, Set<WriteBehind<unknown>>>();
const droppedHandlers = new WeakMap<Db, DroppedHandler>();

/** Where `db`'s write-behind writers report rows they had to give up (the db plugin: the app's log). */
export function onWriteBehindDropped(db: Db, handler: DroppedHandler): void {
  droppedHandlers.set(db, handler);
}

/** Rows written behind on `db` and not yet committed (or reported), by writer: for /metrics. */
export function writeBehindUncommitted(db: Db): { writer: string; rows: number }[] {
  return [...(writersOf.get(db) ?? [])].map((w) => ({ writer: w.name, rows: w.uncommitted }));
}

/** Waits until every row written behind on `db` so far is committed or reported. */
export async function settleWriteBehind(db: Db): Promise<void> {
  await Promise.all([...(writersOf.get(db) ?? [])].map((w) => w.settled()));
}

// SQLSTATE classes that say "try again" rather than "this row is wrong": connection exception, transaction
// rollback (serialization, deadlock), insufficient resources, operator intervention (admin shutdown,
// cannot connect now), system error. https://www.postgresql.org/docs/15/errcodes-appendix.html
const PASSING_CLASSES = new Set(['08', '40', '53', '57', '58']);

/** Whether sending the same statement again may succeed. Anything but PostgreSQL's own refusal may. */
function isPassing(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return true;
  return PASSING_CLASSES.has((error.code ?? '').slice(0, 2));
}

const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

interface Waiting<R> {
  row: R;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WriteBehind<R> {
  readonly #db: Db;
  readonly #name: string;
  readonly #statement: (rows: readonly R[]) => CompiledQuery;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #maxUncommitted: number;
  readonly #attempts: number;
  readonly #retryDelayMs: number;
  #waiting: Waiting<R>[] = [];
  #scheduled = false;
  /** Rows handed to a batch and neither committed nor reported yet. */
  #uncommitted = 0;
  /** One task per batch, from its send to its commit (they never reject). */
  readonly #tasks = new Set<Promise<void>>();

  constructor(db: Db, options: WriteBehindOptions<R>) {
    this.#db = db;
    this.#name = options.name;
    this.#statement = options.statement;
    this.#maxBatch = options.maxBatch ?? 32;
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#maxUncommitted = options.maxUncommitted ?? 2_000;
    this.#attempts = options.attempts ?? 8;
    this.#retryDelayMs = options.retryDelayMs ?? 50;
    let writers = writersOf.get(db);
    if (!writers) writersOf.set(db, (writers = new Set()));
    writers.add(this as WriteBehind<unknown>);
  }

  /** What is written (a table name). */
  get name(): string {
    return this.#name;
  }

  /** Rows written and not yet committed (or reported). */
  get uncommitted(): number {
    return this.#uncommitted + this.#waiting.length;
  }

  /** Resolves once `row` is sent to PostgreSQL (not committed); rejects when it cannot be sent. */
  write(row: R): Promise<void> {
    if (this.uncommitted >= this.#maxUncommitted) {
      return Promise.reject(
        new AppError('service_unavailable', 'Tjänsten hinner inte med just nu. Försök igen om en stund.'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ row, resolve, reject });
      if (this.#waiting.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // After the poll phase, as batch.ts: every request read in this turn has written by then.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Waits until every row written so far is committed or reported. */
  async settled(): Promise<void> {
    while (this.#waiting.length > 0 || this.#tasks.size > 0) {
      this.#flush();
      await Promise.race([...this.#tasks]);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#waiting.length > 0 && this.#tasks.size < this.#maxInFlight) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
      this.#uncommitted += batch.length;
      const task = this.#run(batch).finally(() => {
        this.#uncommitted -= batch.length;
        this.#tasks.delete(task);
        this.#flush();
      });
      this.#tasks.add(task);
    }
  }

  async #run(batch: readonly Waiting<R>[]): Promise<void> {
    const rows = batch.map((w) => w.row);
    let result: Promise<unknown>;
    try {
      ({ result } = await this.#send(rows));
    } catch (error) {
      // Not sent: the callers hear of it and must not answer; nothing is owed to the database.
      for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) w.resolve();
    await this.#commit(rows, result);
  }

  #send(rows: readonly R[]): Promise<{ result: Promise<unknown> }> {
    // The statement is built here, so a row that cannot even be turned into SQL fails its callers.
    return sendQuery(this.#db, this.#statement(rows));
  }

  /** Sees the rows' statement through: resends on passing failures, splits on refusal. Never rejects. */
  async #commit(rows: readonly R[], result: Promise<unknown>): Promise<void> {
    let error = await failureOf(result);
    for (let attempt = 1; error !== undefined; attempt++) {
      if (!isPassing(error)) {
        if (rows.length === 1) return this.#drop(1, error);
        // Refused outright: each row alone, so that only the rows at fault are lost. One after the
        // other, on this batch's one connection slot (a bug's path, not a hot one).
        for (const row of rows) await this.#commit([row], this.#resend([row]));
        return;
      }
      if (attempt >= this.#attempts) return this.#drop(rows.length, error);
      await sleep(this.#retryDelayMs * 2 ** (attempt - 1));
      error = await failureOf(this.#resend(rows));
    }
  }

  async #resend(rows: readonly R[]): Promise<unknown> {
    const { result } = await this.#send(rows);
    return result;
  }

  #drop(rows: number, error: unknown): void {
    const dropped: DroppedRows = { writer: this.#name, rows, code: errorCode(error) };
    const handler = droppedHandlers.get(this.#db);
    if (handler) handler(dropped);
    else
      process.emitWarning(`write-behind ${dropped.writer}: ${rows} row(s) lost (${dropped.code ?? 'error'})`);
  }
}

/** The error `promise` rejects with, or undefined when it fulfils. */
const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error ?? new Error('rejected without a reason'),
  );

// Many concurrent callers, one query. Calls made in the same turn of the event loop (every request whose
// bytes arrived in one poll) are gathered and answered by one statement: `WHERE id = ANY($1)` for reads,
// one multi-row INSERT for the audit rows of look-ups. A round trip to PostgreSQL costs far more than the
// rows it carries (on loopback TCP the send alone is ~50 µs of CPU), so under load this is what lets a
// status check cost a fraction of a query instead of three.
//
// It changes no answer: a batch is sent after every call in it was made, so each caller sees at least
// everything committed before it asked, exactly as with a query of its own. Callers inside a transaction
// must not be batched (their reads must see their own writes); the modules that batch check
// `db.isTransaction` and run those alone.

import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import { type Db, type DbOrTx, prepareStatement } from './index.ts';

export interface BatcherOptions {
  /**
   * Calls per statement at most; a full batch is sent at once (default 32). Not more: while PostgreSQL
   * answers one batch, Node works on the requests of the next, and measured on the status check 32 gave
   * more throughput than batches of everything waiting (14k against 12k requests/s).
   */
  maxBatch?: number;
}

interface Waiting<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
}

/** A value `run` gives for one key whose caller must get an error while the rest of the batch goes on. */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}

/**
 * Gathers `load(key)` calls and answers them with one `run(keys)`, which must give one value per key, in
 * order (or a `BatchItemError` for that key). When `run` fails, every caller of that batch gets the error.
 */
export class Batcher<K, V> {
  readonly #run: (keys: readonly K[]) => Promise<readonly (V | BatchItemError)[]>;
  readonly #maxBatch: number;
  #waiting: Waiting<K, V>[] = [];
  #scheduled = false;

  constructor(
    run: (keys: readonly K[]) => Promise<readonly (V | BatchItemError)[]>,
    options: BatcherOptions = {},
  ) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 32;
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.#waiting.push({ key, resolve, reject });
      if (this.#waiting.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // After the poll phase: every request read in this turn has made its call by then.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    let answer: Promise<readonly (V | BatchItemError)[]>;
    try {
      answer = this.#run(batch.map((w) => w.key));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (values) => {
        if (values.length !== batch.length) {
          const error = new Error(`batch answered ${values.length} values for ${batch.length} keys`);
          for (const w of batch) w.reject(error);
          return;
        }
        batch.forEach((w, i) => {
          const value = values[i] as V | BatchItemError;
          if (value instanceof BatchItemError) w.reject(value.error);
          else w.resolve(value);
        });
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}

/**
 * One batcher per owner (a database handle), made on first use: `const reads = perOwner((db) => new
 * Batcher(…))` in a module, then `reads(db).load(key)`. Each module keeps its own, so statements never mix.
 */
export function perOwner<O extends object, B>(make: (owner: O) => B): (owner: O) => B {
  const made = new WeakMap<O, B>();
  return (owner) => {
    let b = made.get(owner);
    if (!b) {
      b = make(owner);
      made.set(owner, b);
    }
    return b;
  };
}

/**
 * One row per id, for many callers at once: `readRows(db, ids)` gives the rows of the (distinct) ids, in
 * any order. Outside a transaction the calls of one turn share one read; inside one, each reads alone (it
 * must see its own writes). Answers `undefined` for an id with no row.
 */
export function loaderById<R>(
  readRows: (db: DbOrTx, ids: string[]) => Promise<readonly R[]>,
  idOf: (row: R) => string,
): (db: DbOrTx, id: string) => Promise<R | undefined> {
  const read = async (db: DbOrTx, ids: readonly string[]) => {
    const rows = await readRows(db, [...new Set(ids)]);
    const byId = new Map(rows.map((row) => [idOf(row), row]));
    return ids.map((id) => byId.get(id));
  };
  const batchers = perOwner((db: Db) => new Batcher((ids: readonly string[]) => read(db, ids)));
  return async (db, id) => (db.isTransaction ? (await read(db, [id]))[0] : batchers(db as Db).load(id));
}

/**
 * A query built and compiled once, then run with new parameters: for the few statements on the hot path
 * (a status check's reads and its audit row), where building and compiling a query with the query builder
 * costs more CPU than PostgreSQL spends running it. It also runs as a named prepared statement (planned once
 * per connection). `build` gets one placeholder per parameter and must use each exactly once, in order;
 * that is checked when it is compiled.
 */
export function compiledOnce<P extends unknown[], R>(
  build: (db: Db, ...params: P) => Compilable<R>,
  placeholders: P,
): ((db: DbOrTx, ...params: P) => Promise<QueryResult<R>>) & {
  /** The statement with these parameters, to send some other way (write-behind.ts). */
  compile: (db: DbOrTx, ...params: P) => CompiledQuery<R>;
} {
  let compiled: CompiledQuery<R> | undefined;
  const compile = (db: DbOrTx, ...params: P): CompiledQuery<R> => {
    if (!compiled) {
      const made = build(db as Db, ...placeholders).compile();
      const same =
        made.parameters.length === placeholders.length &&
        made.parameters.every((p, i) => p === placeholders[i]);
      if (!same) throw new Error('compiledOnce: the query must use each placeholder once, in order');
      prepareStatement(made.sql);
      compiled = made;
    }
    return { ...compiled, parameters: params };
  };
  const run = async (db: DbOrTx, ...params: P) => db.executeQuery<R>(compile(db, ...params));
  return Object.assign(run, { compile });
}

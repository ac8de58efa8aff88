// `npm run keys -- …`: the keys of encryption at rest (issue 16 §1, src/db/encryption.ts).
//   generate [--id <key id>]          a fresh random key setting (id:base64) and how to rotate with it
//   status                            how many values are under each key id, per table and column
//   rotate [--batch-size N] [--dry-run]
//                                     re-encrypt under the current key, in batches, while the service runs
// Uses ENCRYPTION_KEYS and BLIND_INDEX_KEY (the development keys in development) and DATABASE_URL, or the
// embedded database in development; `generate` needs neither. Output names tables, columns, key ids and
// counts only, never personal data. Exit code: 0 done, 1 values that cannot be read (or an interrupted
// run), 2 bad arguments.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { localDateOf } from '../domain/dates.ts';
import { KeyRingError, LocalKeyRing, parseKeys } from '../db/encryption.ts';
import { type KeyUsage, keyUsage } from '../db/key-usage.ts';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_BYTES_BATCH_SIZE,
  type IndexFigures,
  rotateKeys,
  type Rotation,
  type ValueFigures,
} from '../db/key-rotation.ts';
import { type Cli, CliError, isMain, parseCommand, runCli, UsageError, validate } from './org.ts';

type KeysCommand =
  | { command: 'generate'; id: string }
  | { command: 'status' }
  | { command: 'rotate'; batchSize: number; dryRun: boolean };

const USAGE = `usage:
  npm run keys -- generate [--id <key id>]     a new random key (id:base64) and how to rotate with it
  npm run keys -- status                       values per key id, per table and column
  npm run keys -- rotate [--batch-size N] [--dry-run]
      re-encrypt every value under the first key of ENCRYPTION_KEYS and recompute the blind indexes
      under BLIND_INDEX_KEY, N rows per batch (default ${DEFAULT_BATCH_SIZE}; documents at most ${DEFAULT_BYTES_BATCH_SIZE});
      --dry-run counts what would change and writes nothing`;

const rotateSchema = z.object({
  batchSize: z.coerce
    .number()
    .int()
    .min(1, 'must be 1–10000')
    .max(10_000, 'must be 1–10000')
    .default(DEFAULT_BATCH_SIZE),
});

const HOW_TO = (id: string) =>
  `A new key of 32 random bytes with the id ${id}, for ENCRYPTION_KEYS or BLIND_INDEX_KEY. Keep it as secret as the data. ` +
  `To rotate ENCRYPTION_KEYS: put the new key first and keep the old ones after it (ENCRYPTION_KEYS=${id}:…,<old id>:…), ` +
  `restart every instance so that all of them write under the new key, run \`npm run keys -- rotate\` (in batches, while the ` +
  `service runs; run it again if it reports values skipped), and check \`npm run keys -- status\`: once no value is under ` +
  `the old key, drop it from ENCRYPTION_KEYS and restart. To change BLIND_INDEX_KEY: set the new key, restart and run ` +
  `rotate at once; until it has finished, look-ups by personal number miss what is indexed under the old key.`;

export const keysCli: Cli<KeysCommand> = {
  name: 'keys',
  usage: USAGE,
  parse(args) {
    const { command, values } = parseCommand(args, {
      generate: { id: { type: 'string' } },
      status: {},
      rotate: { 'batch-size': { type: 'string' }, 'dry-run': { type: 'boolean' } },
    });
    if (command === 'generate') {
      const id = values.id ?? `k${localDateOf(new Date())}`;
      try {
        parseKeys(`${id}:${Buffer.alloc(32).toString('base64')}`, '--id', { single: true });
      } catch (e) {
        if (e instanceof KeyRingError) throw new UsageError('--id: 1–32 letters, digits, . _ -');
        throw e;
      }
      return { command, id };
    }
    if (command === 'status') return { command };
    const { batchSize } = validate(rotateSchema, { 'batch-size': values['batch-size'] });
    return { command: 'rotate', batchSize, dryRun: Boolean(values['dry-run']) };
  },
  async run(cmd, { db, config, out }) {
    if (cmd.command === 'generate') {
      generate(cmd.id, out);
      return;
    }
    const keys = LocalKeyRing.fromConfig(config.encryption);
    if (cmd.command === 'status') {
      status(keys, await keyUsage(db), out);
      return;
    }
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let reported = Date.now();
    try {
      out(
        `Rotating to key ${keys.currentKeyId}, blind index key ${keys.blindKeyId}: batches of ${cmd.batchSize} rows ` +
          `(${Math.min(cmd.batchSize, DEFAULT_BYTES_BATCH_SIZE)} with documents)` +
          (cmd.dryRun ? '. Dry run: the figures say what would change; nothing is written.' : '.'),
      );
      const rotation = await rotateKeys(db, keys, {
        batchSize: cmd.batchSize,
        bytesBatchSize: Math.min(cmd.batchSize, DEFAULT_BYTES_BATCH_SIZE),
        dryRun: cmd.dryRun,
        signal: controller.signal,
        onProgress: ({ table, rows }) => {
          if (Date.now() - reported < 5000) return;
          reported = Date.now();
          process.stderr.write(`keys: ${table}: ${rows} rows…\n`);
        },
      });
      report(rotation, out);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

function generate(id: string, out: (line: string) => void) {
  out(`${id}:${randomBytes(32).toString('base64')}`);
  process.stderr.write(`\n${HOW_TO(id)}\n`);
}

function status(keys: LocalKeyRing, usage: KeyUsage, out: (line: string) => void) {
  const blindKeyId = keys.blindKeyId;
  out(
    `Key ring: ${keys.keyIds.map((id) => (id === keys.currentKeyId ? `${id} (current)` : id)).join(', ')}; blind index key: ${blindKeyId}.`,
  );
  const counts = (byKey: Record<string, number>, extra: [string, number]) => {
    const parts = Object.entries(byKey).map(([id, n]) => `${id} ${n}`);
    if (extra[1] > 0) parts.push(`${extra[0]} ${extra[1]}`);
    return parts.length ? parts.join(', ') : 'no values';
  };
  const width = Math.max(
    ...usage.columns.map((c) => c.table.length + c.column.length + 1),
    ...usage.indexes.map((i) => i.table.length + i.index.length + 1),
  );
  for (const c of usage.columns)
    out(`  ${`${c.table}.${c.column}`.padEnd(width)}  ${counts(c.byKey, ['plain', c.plain])}`);
  for (const i of usage.indexes)
    out(`  ${`${i.table}.${i.index}`.padEnd(width)}  ${counts(i.byKey, ['missing', i.missing])}`);

  const perKey = new Map<string, number>();
  for (const c of usage.columns)
    for (const [id, n] of Object.entries(c.byKey)) perKey.set(id, (perKey.get(id) ?? 0) + n);
  for (const id of keys.keyIds) {
    const n = perKey.get(id) ?? 0;
    if (id === keys.currentKeyId) out(`${id}: the current key, ${plural(n, 'value')}.`);
    else if (n > 0) out(`${id}: ${plural(n, 'value')} still under it: run \`npm run keys -- rotate\`.`);
    else out(`${id}: no value under it: it can be dropped from ENCRYPTION_KEYS.`);
  }
  const plain = sum(usage.columns.map((c) => c.plain));
  if (plain > 0) out(`${plural(plain, 'value')} not encrypted: run \`npm run keys -- rotate\`.`);
  const staleIndexes = sum(
    usage.indexes.flatMap((i) => [
      i.missing,
      ...Object.entries(i.byKey)
        .filter(([id]) => id !== blindKeyId)
        .map(([, n]) => n),
    ]),
  );
  if (staleIndexes > 0)
    out(
      `${plural(staleIndexes, 'blind index', 'blind indexes')} not under ${blindKeyId}: run \`npm run keys -- rotate\` ` +
        `(until then, look-ups by personal number miss them).`,
    );
  const unknown = [...perKey].filter(([id]) => !keys.keyIds.includes(id));
  if (unknown.length > 0)
    throw new CliError(
      `${unknown.map(([id, n]) => `${plural(n, 'value')} under ${id}`).join(', ')}, a key not in ENCRYPTION_KEYS: ` +
        `they cannot be read until it is put back (after the current key).`,
    );
}

function report(rotation: Rotation, out: (line: string) => void) {
  const valueLine = (f: ValueFigures) =>
    `re-encrypted ${f.reencrypted}, sealed ${f.sealed}, current ${f.current}, skipped ${f.skipped}` +
    (f.unreadable ? `, UNREADABLE ${f.unreadable}` : '');
  const indexLine = (f: IndexFigures) =>
    `recomputed ${f.recomputed}, current ${f.current}, skipped ${f.skipped}` +
    (f.unreadable ? `, UNREADABLE ${f.unreadable}` : '');
  const values: ValueFigures[] = [];
  const indexes: IndexFigures[] = [];
  for (const t of rotation.tables) {
    out(`${t.table}: ${plural(t.rows, 'row')} in ${seconds(t.ms)}`);
    const width = Math.max(...[...Object.keys(t.columns), ...Object.keys(t.indexes)].map((n) => n.length));
    for (const [column, f] of Object.entries(t.columns)) {
      out(`  ${column.padEnd(width)}  ${valueLine(f)}`);
      values.push(f);
    }
    for (const [index, f] of Object.entries(t.indexes)) {
      out(`  ${index.padEnd(width)}  ${indexLine(f)}`);
      indexes.push(f);
    }
  }
  const total = (pick: (f: ValueFigures) => number) => sum(values.map(pick));
  const skipped = total((f) => f.skipped) + sum(indexes.map((f) => f.skipped));
  const unreadable = total((f) => f.unreadable) + sum(indexes.map((f) => f.unreadable));
  out(
    `${rotation.dryRun ? 'Dry run: would have ' : ''}re-encrypted ${plural(
      total((f) => f.reencrypted),
      'value',
    )}, ` +
      `sealed ${plural(
        total((f) => f.sealed),
        'plain value',
      )}, recomputed ${plural(sum(indexes.map((f) => f.recomputed)), 'blind index', 'blind indexes')}; ` +
      `${total((f) => f.current)} already current; ${plural(sum(rotation.tables.map((t) => t.rows)), 'row')} in ${seconds(rotation.ms)}.`,
  );
  if (skipped > 0)
    out(
      `${plural(skipped, 'value')} changed meanwhile and left as written: run \`npm run keys -- rotate\` again.`,
    );
  if (rotation.aborted) throw new CliError('interrupted: run `npm run keys -- rotate` again to finish');
  if (unreadable > 0)
    throw new CliError(
      `${plural(unreadable, 'value')} could not be read (a key not in ENCRYPTION_KEYS, or not decrypting in its place): see \`npm run keys -- status\``,
    );
}

/** `generate` needs neither settings nor a database: it runs without the shared runner. */
async function main(args: string[]) {
  let command: KeysCommand;
  try {
    command = keysCli.parse(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`keys: ${e.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (command.command === 'generate') generate(command.id, (line) => process.stdout.write(`${line}\n`));
  else await runCli(keysCli, args);
}

if (isMain(import.meta.url)) await main(process.argv.slice(2));

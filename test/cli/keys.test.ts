// `npm run keys` (issue 16 §1) as an operator runs it: generate prints a key setting and how to rotate;
// status shows the values per key id and says when an old key can go; rotate --dry-run writes nothing and
// rotate re-encrypts (exit 1 while a key is missing from the ring); bad arguments are a usage error (exit
// 2). No output holds personal data. The commands run in this process through the runner's interface, and
// a few as the operator's process (runCli) for the exit codes and the runner's database and settings.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import { createConsentRequest } from '../../src/consents/index.ts';
import { parseKeys } from '../../src/db/encryption.ts';
import { keysCli } from '../../src/cli/keys.ts';
import { CliError, UsageError } from '../../src/cli/org.ts';
import { keyUsage } from '../../src/db/key-usage.ts';
import { nguyenRequest, setup } from '../fixtures/consents.ts';
import { personalDataIn } from '../fixtures/people.ts';
import { runCli, testConfig } from '../helper.ts';

const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const K1 = newKey('k1');
const K2 = newKey('k2');
const B1 = newKey('b1');

t.test('generate: a fresh key setting on stdout, how to rotate on stderr', async (t) => {
  const run = runCli('keys.ts', ['generate']);
  t.equal(run.status, 0, run.stderr);
  const line = run.stdout.trim();
  t.match(line, /^k\d{4}-\d{2}-\d{2}:[A-Za-z0-9+/]{43}=$/, 'id from the date, 32 bytes');
  t.equal(parseKeys(line, 'ENCRYPTION_KEYS')[0]!.key.length, 32, 'ENCRYPTION_KEYS takes it');
  t.equal(parseKeys(line, 'BLIND_INDEX_KEY', { single: true }).length, 1, 'BLIND_INDEX_KEY takes it');
  t.match(run.stderr, /put the new key first and keep the old ones after it/);
  t.match(run.stderr, /npm run keys -- rotate/);
  t.not(runCli('keys.ts', ['generate']).stdout, run.stdout, 'random each time');
  const named = runCli('keys.ts', ['generate', '--id', 'b2026-12-08']);
  t.match(named.stdout, /^b2026-12-08:/);
});

t.test('bad arguments: the usage, exit 2', async (t) => {
  for (const args of [
    [],
    ['what'],
    ['status', 'extra'],
    ['rotate', '--batch-size', '0'],
    ['rotate', '--batch-size', 'many'],
    ['rotate', '--nope'],
    ['generate', '--id', 'no spaces'],
  ])
    t.throws(() => keysCli.parse(args), UsageError, `${args.join(' ') || '(none)'}: usage error`);
  t.same(keysCli.parse(['rotate']), { command: 'rotate', batchSize: 200, dryRun: false });
  t.same(keysCli.parse(['rotate', '--dry-run', '--batch-size', '50']), {
    command: 'rotate',
    batchSize: 50,
    dryRun: true,
  });
  t.same(keysCli.parse(['generate', '--id', 'b2']), { command: 'generate', id: 'b2' });

  const bad = runCli('keys.ts', ['rotate', '--batch-size', '0']);
  t.equal(bad.status, 2, 'as a process: exit 2');
  t.match(bad.stderr, /^keys: --batch-size must be 1–10000\n\nusage:\n {2}npm run keys -- generate/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

t.test('status, a rotation too early, dry run, rotate, status again', async (t) => {
  const s = await setup(t, { env: { ENCRYPTION_KEYS: K1, BLIND_INDEX_KEY: B1 }, jobs: false });
  await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const outputs: string[] = [];
  /** The command as the runner runs it (in this process), with `keys` as ENCRYPTION_KEYS. */
  const cli = async (keys: string, ...args: string[]) => {
    const lines: string[] = [];
    let error: Error | undefined;
    try {
      await keysCli.run(keysCli.parse(args), {
        db: s.db,
        config: testConfig(s.databaseUrl, { ENCRYPTION_KEYS: keys, BLIND_INDEX_KEY: B1 }),
        clock: s.clock,
        out: (line) => lines.push(line),
      });
    } catch (e) {
      error = e as Error;
    }
    const out = lines.join('\n');
    outputs.push(out, error?.message ?? '');
    return { out, error };
  };
  const ok = async (keys: string, ...args: string[]) => {
    const { out, error } = await cli(keys, ...args);
    t.equal(error, undefined, `${args.join(' ')}: no error`);
    return out;
  };

  const k1Values = (await keyUsage(s.db)).columns.reduce((n, c) => n + (c.byKey.k1 ?? 0), 0);
  let out = await ok(`${K2},${K1}`, 'status');
  t.match(out, /^Key ring: k2 \(current\), k1; blind index key: b1\.$/m);
  t.match(out, /^ {2}consents\.child_name +k1 1$/m);
  t.match(out, /^ {2}consent_signers\.personal_number_index +b1 2$/m);
  t.match(out, /^ {2}consents\.withdrawal_note +no values$/m);
  t.match(out, /^k2: the current key, 0 values\.$/m);
  t.match(out, new RegExp(`^k1: ${k1Values} values still under it: run \`npm run keys -- rotate\`\\.$`, 'm'));

  // k1 dropped before the rotation: status and rotate say so (exit 1), and nothing is lost.
  let failed = await cli(K2, 'status');
  t.type(failed.error, CliError);
  t.match(failed.out, /^k2: the current key/m);
  t.match(failed.error?.message, `${k1Values} values under k1, a key not in ENCRYPTION_KEYS`);
  failed = await cli(K2, 'rotate');
  t.type(failed.error, CliError);
  t.match(failed.out, /^ {2}child_name +re-encrypted 0, sealed 0, current 0, skipped 0, UNREADABLE 1$/m);
  t.match(failed.error?.message, /^\d+ values could not be read/);

  out = await ok(`${K2},${K1}`, 'rotate', '--dry-run');
  t.match(out, /Dry run: the figures say what would change; nothing is written\./);
  t.match(
    out,
    new RegExp(`^Dry run: would have re-encrypted ${k1Values} values, sealed 0 plain values`, 'm'),
  );
  t.equal(
    (await keyUsage(s.db)).columns.reduce((n, c) => n + (c.byKey.k1 ?? 0), 0),
    k1Values,
    'unchanged',
  );

  out = await ok(`${K2},${K1}`, 'rotate', '--batch-size', '1');
  t.match(out, /^Rotating to key k2, blind index key b1: batches of 1 rows \(1 with documents\)\.$/m);
  t.match(out, /^consent_signers: 2 rows in \d+\.\d s$/m);
  t.match(out, /^ {2}personal_number_index +recomputed 0, current 2, skipped 0$/m);
  t.match(out, /^ {2}pdf +re-encrypted 1, sealed 0, current 0, skipped 0$/m);
  t.match(
    out,
    new RegExp(
      `^re-encrypted ${k1Values} values, sealed 0 plain values, recomputed 0 blind indexes; 0 already current; \\d+ rows in \\d+\\.\\d s\\.$`,
      'm',
    ),
  );

  out = await ok(`${K2},${K1}`, 'status');
  t.match(out, new RegExp(`^k2: the current key, ${k1Values} values\\.$`, 'm'));
  t.match(out, /^k1: no value under it: it can be dropped from ENCRYPTION_KEYS\.$/m);

  // As a process, with the old key dropped: exit 0; and a plain value, a stale index: status says so.
  await sql`UPDATE consents SET end_note = 'plain', child_personal_number_index = 'b0:x'`.execute(s.db);
  const keysCommand = (command: string) =>
    runCli('keys.ts', [command], {
      DATABASE_URL: s.databaseUrl,
      SAMTYCKE_ENV: 'development',
      ENCRYPTION_KEYS: K2,
      BLIND_INDEX_KEY: B1,
    });
  const run = keysCommand('status');
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /^ {2}consents\.end_note +plain 1$/m);
  t.match(run.stdout, /^1 value not encrypted: run `npm run keys -- rotate`\.$/m);
  t.match(run.stdout, /^1 blind index not under b1: run `npm run keys -- rotate` \(until then/m);
  outputs.push(run.stdout, run.stderr);
  const rotated = keysCommand('rotate');
  t.equal(rotated.status, 0, rotated.stderr);
  t.match(rotated.stdout, /sealed 1 plain value, recomputed 1 blind index;/);
  outputs.push(rotated.stdout, rotated.stderr);

  for (const text of outputs) {
    t.same(personalDataIn(text, s.people), [], 'no personal data in the output');
    t.notMatch(text, /enc:v1:|\n\s+at /, 'no stored value, no stack trace');
  }
});

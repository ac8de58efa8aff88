// `npm run audit -- verify` and `-- checkpoint` (issue 16 §2): exit codes and plain-English output
// without personal data.
import { spawn } from 'node:child_process';
import t from 'tap';
import { projectRoot } from '../../src/paths.ts';
import { chainIds, setup, tamper, writeEvents, writeLookup } from '../consents/audit-chain-helpers.ts';
import { childEnv } from '../helper.ts';

function run(
  url: string,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/audit.ts', ...args], {
      cwd: projectRoot,
      env: childEnv({ DATABASE_URL: url }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

t.test('verify: 0 when intact, 1 with findings that name ids only; checkpoint seals', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 3);
  await writeLookup(s, 1);

  const sealed = await run(s.url, 'checkpoint');
  t.equal(sealed.status, 0, sealed.stderr);
  t.match(sealed.stdout, /^Checkpoint 1 sealed: 2 chain\(s\), time-stamped\.$/m);

  const clean = await run(s.url, 'verify');
  t.equal(clean.status, 0, clean.stderr);
  t.match(
    clean.stdout,
    /Checked 4 event\(s\) in 2 chain\(s\) and 1 checkpoint\(s\)\.\nThe audit trail is intact\./,
  );

  const ids = await chainIds(s, s.consents[0]!);
  await tamper(s.url, `UPDATE audit_events SET actor_id = 'someone else' WHERE id = $1`, [ids[0]]);
  await tamper(s.url, `DELETE FROM audit_events WHERE id = $1`, [ids[2]]);
  await tamper(s.url, `UPDATE audit_checkpoints SET made_at = made_at - interval '1 day'`);
  const found = await run(s.url, 'verify');
  t.equal(found.status, 1);
  t.match(
    found.stdout,
    new RegExp(`- changed: audit_events:${s.consents[0]}: event ${ids[0]} \\(place 1\\)`),
  );
  t.match(found.stdout, /- removed: .*removed from the end/);
  t.match(found.stdout, /- seal_invalid: checkpoint 1: its statement was changed/);
  // Nothing from the rows themselves: the seeded names and numbers, the request ids, the details.
  const people = await s.db.selectFrom('consent_signers').select(['name', 'personal_number']).execute();
  for (const p of people) {
    t.notMatch(found.stdout, p.name);
    t.notMatch(found.stdout, p.personal_number);
  }
  t.notMatch(found.stdout, /someone else|req-|åäö/);
});

t.test('usage errors exit 2', async (t) => {
  const s = await setup(t, 1);
  const bad = await run(s.url, 'frobnicate');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /usage: npm run audit -- verify \| checkpoint/);
});

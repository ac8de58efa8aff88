// `npm run retention` (issue 16 §4) as an operator runs it: --dry-run lists what would go (ids, outcome,
// dates; no personal data) and changes nothing; without it the consents go; --org/--months set an
// organisation's time; bad arguments are a usage error (exit 2).
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { cancelConsent, createConsentRequest } from '../../src/consents/index.ts';
import { nguyenRequest, setup } from '../fixtures/consents.ts';
import { runCli } from '../helper.ts';

t.test('dry run, delete, set the time', async (t) => {
  // Cancelled on 10 January 2024: with 1 month it has long been due (the CLI runs at the real now).
  const s = await setup(t, { clock: fixedClock('2024-01-10T10:00:00Z'), jobs: false });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    await cancelConsent(s.ctx, s.staff, { consentId: made.id });
    ids.push(made.id);
  }
  const cli = (...args: string[]) =>
    runCli('retention.ts', args, { DATABASE_URL: s.databaseUrl, SAMTYCKE_ENV: 'development' });

  const set = cli('--org', s.organisationId, '--months', '1');
  t.equal(set.status, 0, set.stderr);
  t.match(set.stdout, `organisation ${s.organisationId}: 1 months`);

  const dry = cli('--dry-run');
  t.equal(dry.status, 0, dry.stderr);
  for (const id of ids)
    t.match(
      dry.stdout,
      new RegExp(`^${id}  organisation .* cancelled +ended 2024-01-10  due 2024-02-11 \\(1 months\\)$`, 'm'),
    );
  t.match(dry.stdout, /^2 consents would be deleted \(dry run: nothing changed\)$/m);
  const minh = s.person('minh-nguyen');
  for (const value of [minh.name, minh.personalNumber, s.person('mai-nguyen').name])
    t.notOk(dry.stdout.includes(value), 'no personal data in the list');
  t.equal((await s.db.selectFrom('consents').select('id').execute()).length, 2, 'nothing changed');

  const run = cli();
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /^2 consents deleted \(cancelled 2\); their tombstones and audit events stay$/m);
  t.equal((await s.db.selectFrom('consents').select('id').execute()).length, 0);
  t.equal((await s.db.selectFrom('consent_tombstones').select('consent_id').execute()).length, 2);
  t.match(cli().stdout, /^0 consents deleted;/m, 'a second run finds nothing');

  const back = cli('--org', s.organisationId, '--months', 'default');
  t.match(back.stdout, `organisation ${s.organisationId}: 24 months (the default)`);
  const unknown = cli('--org', '00000000-0000-4000-8000-000000000000', '--months', '12');
  t.equal(unknown.status, 1);
  t.match(unknown.stderr, 'retention: no such organisation');
  for (const args of [
    ['--months', '0', '--org', s.organisationId],
    ['--dry-run', '--org', s.organisationId],
    ['--what'],
  ]) {
    const bad = cli(...args);
    t.equal(bad.status, 2, `${args.join(' ')}: usage error`);
    t.match(bad.stderr, /usage:/);
  }
});

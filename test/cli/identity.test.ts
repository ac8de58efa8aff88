// The identity CLIs (`npm run org`, `client`, `seed:dev`) as child processes against a fresh database.
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { DEV_CLIENT_SECRET_HMAC_KEY } from '../../src/config.ts';
import { localDateOf } from '../../src/domain/dates.ts';
import { authenticateClient } from '../../src/identity/api-clients.ts';
import { createTestPeople, TEST_ORGANISATIONS } from '../../src/dev/people.ts';
import { listOrganisations, teamMembershipsOf } from '../../src/identity/organisations.ts';
import { activeMemberships, findStaffByEmail } from '../../src/identity/staff.ts';
import { projectRoot } from '../../src/paths.ts';
import { childEnv, freshDatabase, openDb } from '../helper.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(
  databaseUrl: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(projectRoot, 'src', 'cli', script), ...args],
      {
        cwd: projectRoot,
        // A clean environment: only what the CLI needs (the test runner's own SAMTYCKE_TEST_* would be
        // refused as unknown settings).
        env: childEnv({ DATABASE_URL: databaseUrl, SAMTYCKE_ENV: 'development', ...env }),
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function database(t: Test) {
  const url = await freshDatabase(t);
  return { url, db: openDb(t, url) };
}

const ORG_ARGS = [
  'create',
  '--name',
  'Ekskolan',
  '--type',
  'school',
  '--municipality',
  'Testby kommun',
  '--area',
  'HLT Testby',
  '--team',
  'HLT-team Testby',
  '--admin-email',
  'Rektor@Ekskolan.example',
  '--admin-name',
  'Rut Rektor',
];

t.test('org create: the organisation, its team membership and its first admin', async (t) => {
  const { url, db } = await database(t);
  const run = await cli(url, 'org.ts', ORG_ARGS);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^organisation [0-9a-f-]{36} created: Ekskolan \(school\)$/m);
  t.match(run.stdout, /^team [0-9a-f-]{36}: HLT-team Testby \(member\)$/m);
  t.notMatch(run.stdout + run.stderr, /rektor@/i, 'no e-mail address printed');
  const [org] = await listOrganisations(db);
  t.match(org, { name: 'Ekskolan', type: 'school', municipality: 'Testby kommun', hltArea: 'HLT Testby' });
  t.equal((await teamMembershipsOf(db, [org!.id])).length, 1);
  const admin = await findStaffByEmail(db, 'rektor@ekskolan.example');
  t.same(await activeMemberships(db, admin!.id), [{ organisationId: org!.id, role: 'admin' }]);

  const dup = await cli(url, 'org.ts', ORG_ARGS);
  t.equal(dup.code, 1);
  t.match(dup.stderr, /org: an organisation named 'Ekskolan' already exists in Testby kommun/);

  const invite = await cli(url, 'org.ts', [
    'invite',
    '--org',
    org!.id,
    '--email',
    'kurator@ekskolan.example',
    '--name',
    'Kim Kurator',
  ]);
  t.equal(invite.code, 0, invite.stderr);
  t.match(invite.stdout, /invited as staff/);
  const list = await cli(url, 'org.ts', ['list']);
  t.match(list.stdout, new RegExp(`^${org!.id}\\s+school\\s+Testby kommun\\s+Ekskolan$`, 'm'));
});

t.test('org: bad arguments exit 2 with a clear message and the usage', async (t) => {
  const { url } = await database(t);
  const without = (name: string) => {
    const i = ORG_ARGS.indexOf(name);
    return [...ORG_ARGS.slice(0, i), ...ORG_ARGS.slice(i + 2)];
  };
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /missing command/],
    ['unknown command', ['destroy'], /unknown command 'destroy'/],
    ['missing option', without('--admin-email'), /--admin-email is required/],
    [
      'bad type',
      ORG_ARGS.map((a) => (a === 'school' ? 'hospital' : a)),
      /--type must be one of school, social_services, health_care/,
    ],
    [
      'bad e-mail',
      ORG_ARGS.map((a) => (a.includes('@') ? 'nope' : a)),
      /--admin-email must be an e-mail address/,
    ],
    ['unknown option', [...ORG_ARGS, '--colour', 'blue'], /Unknown option '--colour'/],
    ['stray argument', [...ORG_ARGS, 'extra'], /unexpected argument 'extra'/],
    [
      'bad org id',
      ['invite', '--org', '42', '--email', 'a@b.example', '--name', 'X'],
      /--org must be an organisation id/,
    ],
  ];
  for (const [label, args, message] of cases) {
    const run = await cli(url, 'org.ts', args);
    t.equal(run.code, 2, label);
    t.match(run.stderr, message, label);
    t.match(run.stderr, /usage:\n\s+npm run org -- create/, `${label}: usage`);
    t.equal(run.stdout, '', `${label}: nothing done`);
  }
  const config = await cli(url, 'org.ts', ['list'], { SAMTYCKE_COLOUR: 'blue' });
  t.equal(config.code, 1, 'bad configuration');
  t.match(config.stderr, /SAMTYCKE_COLOUR: unknown setting/);
});

t.test('client create, rotate, revoke-secret, disable', async (t) => {
  const { url, db } = await database(t);
  t.equal((await cli(url, 'org.ts', ORG_ARGS)).code, 0);
  const [org] = await listOrganisations(db);
  const orgId = org!.id;

  const created = await cli(url, 'client.ts', [
    'create',
    '--org',
    orgId,
    '--name',
    'Elevhälsa',
    '--scopes',
    'consent:status,consent:read',
    '--contact-name',
    'Kim Kontakt',
  ]);
  t.equal(created.code, 0, created.stderr);
  const clientId = /^client_id:\s+(\S+)$/m.exec(created.stdout)?.[1] as string;
  const secret = /^client_secret:\s+(\S+)$/m.exec(created.stdout)?.[1] as string;
  t.match(clientId, /^hlt-/);
  t.match(secret, /^[A-Za-z0-9_-]{43}$/);
  t.match(created.stdout, /shown only now/);
  t.same((await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, secret))?.scopes, [
    'consent:status',
    'consent:read',
  ]);

  const rotated = await cli(url, 'client.ts', ['rotate', '--client', clientId]);
  t.equal(rotated.code, 0, rotated.stderr);
  const second = /^client_secret:\s+(\S+)$/m.exec(rotated.stdout)?.[1] as string;
  t.ok(await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, second), 'the new secret works');
  t.ok(
    await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, secret),
    'and the old one still does',
  );
  const third = await cli(url, 'client.ts', ['rotate', '--client', clientId]);
  t.equal(third.code, 1);
  t.match(third.stderr, /två aktiva hemligheter/);

  const listed = await cli(url, 'client.ts', ['list', '--org', orgId]);
  const secretIds = /secrets: (.+)$/m.exec(listed.stdout)?.[1]?.split(', ') ?? [];
  t.equal(secretIds.length, 2);
  const oldId = (
    await db.selectFrom('api_client_secrets').select('id').orderBy('created_at').executeTakeFirstOrThrow()
  ).id;
  const revoked = await cli(url, 'client.ts', ['revoke-secret', '--client', clientId, '--secret', oldId]);
  t.equal(revoked.code, 0, revoked.stderr);
  t.notOk(
    await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, secret),
    'the revoked secret fails',
  );
  t.ok(await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, second));

  const disabled = await cli(url, 'client.ts', ['disable', '--client', clientId]);
  t.equal(disabled.code, 0, disabled.stderr);
  t.notOk(
    await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, second),
    'a disabled client cannot authenticate',
  );

  const failures: [string, string[], number, RegExp][] = [
    [
      'unknown scope',
      ['create', '--org', orgId, '--name', 'X', '--scopes', 'consent:all'],
      2,
      /--scopes must be from consent:status/,
    ],
    [
      'no scopes',
      ['create', '--org', orgId, '--name', 'X', '--scopes', ','],
      2,
      /--scopes must name at least one scope/,
    ],
    [
      'write without contact',
      ['create', '--org', orgId, '--name', 'X', '--scopes', 'consent:write'],
      2,
      /--contact-name is required with consent:write/,
    ],
    ['missing org', ['create', '--name', 'X', '--scopes', 'consent:read'], 2, /--org is required/],
    [
      'unknown org',
      ['create', '--org', '00000000-0000-4000-8000-000000000000', '--name', 'X', '--scopes', 'consent:read'],
      1,
      /no organisation with that id/,
    ],
    ['unknown client', ['rotate', '--client', 'hlt-nope'], 1, /no API client with that client_id/],
    [
      'bad secret id',
      ['revoke-secret', '--client', clientId, '--secret', 'x'],
      2,
      /--secret must be a secret id/,
    ],
  ];
  for (const [label, args, code, message] of failures) {
    const run = await cli(url, 'client.ts', args);
    t.equal(run.code, code, label);
    t.match(run.stderr, message, label);
  }
});

t.test('seed:dev loads the development organisations, and twice changes nothing', async (t) => {
  const { url, db } = await database(t);
  const first = await cli(url, 'seed-dev.ts', []);
  t.equal(first.code, 0, first.stderr);
  const count = async () => ({
    organisations: (await db.selectFrom('organisations').select('id').execute()).length,
    teams: (await db.selectFrom('hlt_teams').select('id').execute()).length,
    members: (await db.selectFrom('team_members').select('team_id').execute()).length,
    staff: (await db.selectFrom('staff_users').select('id').execute()).length,
    memberships: (await db.selectFrom('staff_memberships').select('staff_id').execute()).length,
    clients: (await db.selectFrom('api_clients').select('id').execute()).length,
    secrets: (await db.selectFrom('api_client_secrets').select('id').execute()).length,
  });
  const after = await count();
  t.same(after, { organisations: 3, teams: 1, members: 3, staff: 3, memberships: 3, clients: 3, secrets: 3 });
  t.same((await listOrganisations(db)).map((o) => o.name).sort(), Object.values(TEST_ORGANISATIONS).sort());

  // The development IdP's staff people can log in as their organisation's staff.
  const staffPeople = createTestPeople(localDateOf(new Date())).people.filter((p) => p.role === 'staff');
  for (const person of staffPeople) {
    const user = await findStaffByEmail(db, person.email as string);
    const org = (await listOrganisations(db)).find((o) => o.name === person.organisation?.name);
    t.same(await activeMemberships(db, user!.id), [{ organisationId: org!.id, role: 'admin' }], person.key);
  }

  // The printed development credentials work.
  const printed = [...first.stdout.matchAll(/^\s+(dev-\S+)\s+(\S+)/gm)].map(
    (m) => [m[1], m[2]] as [string, string],
  );
  t.equal(printed.length, 3);
  for (const [clientId, secret] of printed)
    t.ok(await authenticateClient(db, DEV_CLIENT_SECRET_HMAC_KEY, clientId, secret), clientId);

  const second = await cli(url, 'seed-dev.ts', []);
  t.equal(second.code, 0, second.stderr);
  t.same(await count(), after, 'idempotent');
  t.match(second.stdout, /\(existed\)/);

  const args = await cli(url, 'seed-dev.ts', ['--force']);
  t.equal(args.code, 2);
  t.match(args.stderr, /Unknown option '--force'|unexpected argument '--force'/);
  const production = await cli(url, 'seed-dev.ts', [], { SAMTYCKE_ENV: 'production' });
  t.equal(production.code, 1, 'refused in production');
  t.match(production.stderr, /seed:dev: /);
});

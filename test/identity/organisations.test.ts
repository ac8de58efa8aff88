// Repositories for organisations, HLT teams, staff and API clients on a fresh database.
import t from 'tap';
import {
  activeClientAccess,
  createApiClient,
  disableApiClient,
  findApiClientByClientId,
  getApiClient,
  listApiClients,
  listClientSecrets,
} from '../../src/identity/api-clients.ts';
import {
  addTeamMember,
  createOrganisation,
  ensureOrganisation,
  ensureTeam,
  getOrganisation,
  getOrganisations,
  getTeam,
  listOrganisations,
  removeTeamMember,
  teamMembershipsOf,
  teamOrganisations,
} from '../../src/identity/organisations.ts';
import {
  activeMemberships,
  disableMembership,
  disableStaff,
  findStaffByEmail,
  getOrganisationStaff,
  getStaff,
  inviteStaff,
  listOrganisationStaff,
} from '../../src/identity/staff.ts';
import { build } from '../helper.ts';

const AREA = 'HLT Testby';
const TOWN = 'Testby kommun';

t.test('organisations and teams', async (t) => {
  const { db } = await build(t);
  const school = await createOrganisation(db, {
    name: 'Skolan',
    type: 'school',
    municipality: TOWN,
    hltArea: AREA,
  });
  t.match(school, { name: 'Skolan', type: 'school', municipality: TOWN, hltArea: AREA });
  t.type(school.createdAt, Date);
  t.same(await getOrganisation(db, school.id), school);
  t.equal(await getOrganisation(db, '00000000-0000-4000-8000-000000000000'), undefined);
  await t.rejects(
    createOrganisation(db, { name: 'Skolan', type: 'school', municipality: TOWN, hltArea: AREA }),
    { code: '23505' },
    'one name per municipality',
  );
  await t.rejects(
    createOrganisation(db, { name: 'X', type: 'hospital' as 'school', municipality: TOWN, hltArea: AREA }),
    { code: '23514' },
    'the type is checked by the database too',
  );
  const again = await ensureOrganisation(db, {
    name: 'Skolan',
    type: 'school',
    municipality: TOWN,
    hltArea: AREA,
  });
  t.equal(again.id, school.id, 'ensure finds the existing one');
  const health = await ensureOrganisation(db, {
    name: 'Hälsocentralen',
    type: 'health_care',
    municipality: TOWN,
    hltArea: AREA,
  });
  t.same(
    (await listOrganisations(db)).map((o) => o.name),
    ['Hälsocentralen', 'Skolan'],
  );
  t.same(
    (await getOrganisations(db, [school.id, health.id])).map((o) => o.id),
    [health.id, school.id],
  );
  t.same(await getOrganisations(db, []), []);

  const team = await ensureTeam(db, { name: 'Team', hltArea: AREA, municipality: TOWN });
  t.equal((await ensureTeam(db, { name: 'Team', hltArea: AREA, municipality: TOWN })).id, team.id);
  t.same(await getTeam(db, team.id), team);
  await addTeamMember(db, team.id, school.id);
  await addTeamMember(db, team.id, school.id); // twice: nothing happens
  await addTeamMember(db, team.id, health.id);
  t.same(
    (await teamOrganisations(db, team.id)).map((o) => o.id),
    [health.id, school.id],
  );
  t.same(await teamMembershipsOf(db, [school.id]), [{ teamId: team.id, organisationId: school.id }]);
  t.same(await teamMembershipsOf(db, []), []);
  await removeTeamMember(db, team.id, school.id);
  t.same(await teamMembershipsOf(db, [school.id]), []);
});

t.test('staff: invitations by e-mail, memberships, disabling', async (t) => {
  const { db } = await build(t);
  const a = await createOrganisation(db, { name: 'A', type: 'school', municipality: TOWN, hltArea: AREA });
  const b = await createOrganisation(db, {
    name: 'B',
    type: 'health_care',
    municipality: TOWN,
    hltArea: AREA,
  });

  const first = await inviteStaff(db, {
    email: '  Karin.Holm@Exempelby.example ',
    name: 'Karin Holm',
    title: 'Rektor',
    organisationId: a.id,
    role: 'admin',
  });
  t.equal(first.outcome, 'invited');
  t.match(first.staff, {
    email: 'karin.holm@exempelby.example',
    name: 'Karin Holm',
    title: 'Rektor',
    loginBound: false,
  });
  t.same(
    await findStaffByEmail(db, 'KARIN.HOLM@exempelby.example'),
    first.staff,
    'matched case-insensitively',
  );
  t.same(await getStaff(db, first.staff.id), first.staff);

  const again = await inviteStaff(db, {
    email: 'karin.holm@exempelby.example',
    name: 'X',
    organisationId: a.id,
    role: 'staff',
  });
  t.equal(again.outcome, 'already_member');
  const other = await inviteStaff(db, {
    email: 'karin.holm@exempelby.example',
    name: 'X',
    organisationId: b.id,
    role: 'staff',
  });
  t.equal(other.outcome, 'added');
  t.equal(other.staff.name, 'Karin Holm', 'an existing user keeps their details');
  t.same(
    await activeMemberships(db, first.staff.id),
    [
      { organisationId: a.id, role: 'admin' },
      { organisationId: b.id, role: 'staff' },
    ].sort((x, y) => x.organisationId.localeCompare(y.organisationId)),
  );

  const at = new Date('2026-11-23T10:00:00Z');
  await disableMembership(db, b.id, first.staff.id, at);
  t.same(await activeMemberships(db, first.staff.id), [{ organisationId: a.id, role: 'admin' }]);
  t.same((await getOrganisationStaff(db, b.id, first.staff.id))?.membershipDisabledAt, at);
  t.equal((await getOrganisationStaff(db, a.id, first.staff.id))?.membershipDisabledAt, null);
  t.equal(await getOrganisationStaff(db, a.id, '00000000-0000-4000-8000-000000000000'), undefined);
  const back = await inviteStaff(db, {
    email: 'karin.holm@exempelby.example',
    name: 'X',
    organisationId: b.id,
    role: 'admin',
  });
  t.equal(back.outcome, 'reactivated');
  t.equal((await activeMemberships(db, first.staff.id)).length, 2);

  await inviteStaff(db, {
    email: 'anna@exempelby.example',
    name: 'Anna Berg',
    organisationId: a.id,
    role: 'staff',
  });
  t.same(
    (await listOrganisationStaff(db, a.id)).map((s) => [s.name, s.role]),
    [
      ['Anna Berg', 'staff'],
      ['Karin Holm', 'admin'],
    ],
  );

  await disableStaff(db, first.staff.id, at);
  t.same(await activeMemberships(db, first.staff.id), [], 'a disabled user has no memberships');
  t.same(
    (await getOrganisationStaff(db, a.id, first.staff.id))?.membershipDisabledAt,
    at,
    'shown as disabled',
  );
});

t.test('API clients: registration, secrets listing, access for a bearer token', async (t) => {
  const { db, config } = await build(t);
  const a = await createOrganisation(db, { name: 'A', type: 'school', municipality: TOWN, hltArea: AREA });
  const team = await ensureTeam(db, { name: 'Team', hltArea: AREA, municipality: TOWN });
  const team2 = await ensureTeam(db, { name: 'Team 2', hltArea: AREA, municipality: TOWN });

  const { client, secret, secretId } = await createApiClient(db, config.clientSecretHmacKey, {
    organisationId: a.id,
    name: 'System',
    scopes: ['consent:read', 'consent:status', 'consent:read'],
    contactName: 'Kontakt',
  });
  t.match(client.clientId, /^hlt-[0-9a-f]{24}$/);
  t.same(client.scopes, ['consent:read', 'consent:status'], 'duplicates dropped');
  t.match(secret, /^[A-Za-z0-9_-]{43}$/);
  t.same(await getApiClient(db, client.id), client);
  t.same(await findApiClientByClientId(db, client.clientId), client);
  t.same(
    (await listApiClients(db, a.id)).map((c) => c.id),
    [client.id],
  );
  const secrets = await listClientSecrets(db, [client.id, '00000000-0000-4000-8000-000000000000']);
  t.same(
    secrets.get(client.id)?.map((s) => s.id),
    [secretId],
  );
  t.same(secrets.get('00000000-0000-4000-8000-000000000000'), []);
  const stored = await db.selectFrom('api_client_secrets').select('secret_hash').executeTakeFirstOrThrow();
  t.notMatch(stored.secret_hash, secret, 'only the hash is stored');

  t.same((await activeClientAccess(db, client.id))?.teams, [], 'no teams yet');
  await addTeamMember(db, team.id, a.id);
  await addTeamMember(db, team2.id, a.id);
  const access = await activeClientAccess(db, client.id);
  t.same(access?.client, client);
  t.same(access?.teams.map((x) => x.teamId).sort(), [team.id, team2.id].sort());
  t.ok(access?.teams.every((x) => x.organisationId === a.id));

  // A scope this version does not know (e.g. written by a newer one) is never granted.
  await db
    .updateTable('api_clients')
    .set({ scopes: ['consent:read', 'consent:everything'] })
    .where('id', '=', client.id)
    .execute();
  t.same((await getApiClient(db, client.id))?.scopes, ['consent:read']);

  await disableApiClient(db, client.id, new Date('2026-11-23T10:00:00Z'));
  t.equal(await activeClientAccess(db, client.id), undefined, 'a disabled client has no access');
  t.ok((await getApiClient(db, client.id))?.disabledAt);
});

// The development seed (`npm run seed:dev`, src/cli/seed-dev.ts): the fictional development organisations —
// one HLT area in one municipality, a school, a health centre and social services, one HLT team with all
// three, the development IdP's staff people as admins of their organisations, and an API client per
// organisation with a fixed, printed development secret. Idempotent: running it again changes nothing.
import { DEV_CLIENT_SECRET_HMAC_KEY } from '../config.ts';
import type { Db } from '../db/index.ts';
import { localDateOf } from '../domain/dates.ts';
import { CONSENT_SCOPES, createApiClient, findApiClientByClientId } from '../identity/api-clients.ts';
import {
  addTeamMember,
  ensureOrganisation,
  ensureTeam,
  ORGANISATION_TYPES,
  type Organisation,
} from '../identity/organisations.ts';
import { inviteStaff } from '../identity/staff.ts';
import { createTestPeople, TEST_MUNICIPALITY, TEST_ORGANISATIONS } from './people.ts';

export { TEST_MUNICIPALITY };

export const DEV_HLT_AREA = 'HLT Exempelby';
export const DEV_TEAM = 'HLT-team Norrby';

/** Fixed development credentials, printed on every run. Never valid outside development. */
export const devClientId = (type: Organisation['type']) => `dev-${type.replace(/_/g, '-')}`;
export const devClientSecret = (type: Organisation['type']) =>
  `dev-secret-${type.replace(/_/g, '-')}-not-for-production`;

export interface SeedResult {
  organisations: Organisation[];
  teamId: string;
  staffIds: string[];
  clients: { organisation: string; clientId: string; secret: string; created: boolean }[];
}

/** `clientSecretHmacKey`: the configured CLIENT_SECRET_HMAC_KEY (the development key by default). */
export async function seedDevelopment(
  db: Db,
  now: Date,
  clientSecretHmacKey: string = DEV_CLIENT_SECRET_HMAC_KEY,
): Promise<SeedResult> {
  const people = createTestPeople(localDateOf(now)).people.filter((p) => p.role === 'staff');
  return db.transaction().execute(async (tx) => {
    const team = await ensureTeam(tx, {
      name: DEV_TEAM,
      hltArea: DEV_HLT_AREA,
      municipality: TEST_MUNICIPALITY,
    });
    const result: SeedResult = { organisations: [], teamId: team.id, staffIds: [], clients: [] };
    for (const type of ORGANISATION_TYPES) {
      const org = await ensureOrganisation(tx, {
        name: TEST_ORGANISATIONS[type],
        type,
        municipality: TEST_MUNICIPALITY,
        hltArea: DEV_HLT_AREA,
      });
      result.organisations.push(org);
      await addTeamMember(tx, team.id, org.id);
      const staff = people.filter((p) => p.organisation?.type === type && p.email);
      for (const person of staff) {
        const { staff: user } = await inviteStaff(tx, {
          email: person.email as string,
          name: person.name,
          title: person.title,
          organisationId: org.id,
          role: 'admin',
        });
        result.staffIds.push(user.id);
      }
      const clientId = devClientId(type);
      const secret = devClientSecret(type);
      const existing = await findApiClientByClientId(tx, clientId);
      if (!existing) {
        await createApiClient(
          tx,
          clientSecretHmacKey,
          {
            organisationId: org.id,
            name: `${org.name} (utvecklingsklient)`,
            scopes: CONSENT_SCOPES,
            contactName: staff[0]?.name ?? org.name,
          },
          { clientId, secret },
        );
      }
      result.clients.push({ organisation: org.name, clientId, secret, created: !existing });
    }
    return result;
  });
}

/** The names of the development IdP's staff people (the seed makes them admins). */
export const devStaffNames = (now: Date): string[] =>
  createTestPeople(localDateOf(now))
    .people.filter((p) => p.role === 'staff')
    .map((p) => p.name);

// The facts the status of one consent is computed from, for status checks by id: one statement for the
// consent and its signatures, shared by the checks made in the same turn (db/batch.ts).
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { compiledOnce, loaderById } from '../db/batch.ts';
import type { Db } from '../db/index.ts';
import type { ConsentFacts } from '../domain/consent.ts';
import { localDate } from '../domain/dates.ts';
import { requiredRoles, type SignerRole } from '../domain/roles.ts';
import { dateText } from './consent.repository.ts';

export interface ConsentStatusFacts {
  id: string;
  organisationId: string;
  teamId: string;
  facts: ConsentFacts;
}

const statusFactsQuery = compiledOnce(
  (db: Db, ids: readonly string[]) =>
    db
      .selectFrom('consents')
      .select((eb) => [
        'consents.id',
        'consents.organisation_id',
        'consents.team_id',
        'consents.requested_at',
        'consents.request_expires_at',
        dateText('child_birth_date'),
        'consents.sole_guardian',
        'consents.youth_signs',
        'consents.declined_at',
        'consents.cancelled_at',
        'consents.withdrawn_at',
        'consents.ended_at',
        jsonArrayFrom(
          eb
            .selectFrom('consent_signers')
            .select(['consent_signers.role', 'consent_signers.signed_at'])
            .whereRef('consent_signers.consent_id', '=', 'consents.id')
            .where('consent_signers.signed_at', 'is not', null),
        ).as('signatures'),
      ])
      .where(sql<boolean>`consents.id = any(${ids}::uuid[])`),
  [[]],
);

// Status checks come many at a time from other systems: those made in the same turn share one query.
const statusFacts = loaderById(
  async (db, ids) => (await statusFactsQuery(db, ids)).rows,
  (row) => row.id,
);

/** The status facts of the consent `id` (a uuid); undefined when there is none. */
export async function consentStatusFacts(db: Db, id: string): Promise<ConsentStatusFacts | undefined> {
  const row = await statusFacts(db, id);
  if (!row) return undefined;
  return {
    id: row.id,
    organisationId: row.organisation_id,
    teamId: row.team_id,
    facts: {
      requestedAt: row.requested_at,
      requestExpiresAt: row.request_expires_at,
      childBirthDate: localDate(row.child_birth_date),
      requiredRoles: requiredRoles({ soleGuardian: row.sole_guardian, youthSigns: row.youth_signs }),
      // JSON carries timestamps as text.
      signatures: row.signatures.map((s) => ({
        role: s.role as SignerRole,
        signedAt: new Date(s.signed_at as unknown as string),
      })),
      declinedAt: row.declined_at,
      cancelledAt: row.cancelled_at,
      withdrawnAt: row.withdrawn_at,
      endedAt: row.ended_at,
    },
  };
}

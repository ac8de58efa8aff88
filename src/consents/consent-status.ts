// Read: the status of one consent for other HLT systems, computed at the moment of asking from the stored
// facts (`statusAt`), so it is right the instant after a withdrawal or at 00:00 on the expiry day even
// if no job ran. One query, shared by the checks made in the same turn. `recordStatusCheck` puts the
// look-up in the audit trail.
import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { compiledOnce, loaderById } from '../db/batch.ts';
import type { Db } from '../db/index.ts';
import { type ConsentStatus, type ConsentStatusAt, type StatusReason, statusAt } from '../domain/consent.ts';
import { localDate } from '../domain/dates.ts';
import { requiredRoles, type SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { appendAuditEventBehind } from './audit.ts';
import { isUuid } from '../db/uuid.ts';
import { dateText } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';

export interface ConsentStatusView {
  id: string;
  status: ConsentStatus;
  reason: StatusReason;
  validFrom: Date | null;
  validUntil: Date | null;
  checkedAt: Date;
}

/** The view plus whose consent it is, for the policy check (not part of the answer). */
export interface ConsentStatusResult extends ConsentStatusView {
  organisationId: string;
  teamId: string;
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

export async function getConsentStatus(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  consentId: string,
): Promise<ConsentStatusResult> {
  if (!isUuid(consentId)) throw new AppError('not_found', 'Samtycket finns inte.');
  const row = await statusFacts(ctx.db, consentId);
  if (!row) throw new AppError('not_found', 'Samtycket finns inte.');
  const now = ctx.clock.now();
  const status = statusAt(
    {
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
    now,
  );
  return statusResult({ id: row.id, organisationId: row.organisation_id, teamId: row.team_id }, status, now);
}

/**
 * The audit event of a status check by id, for an authorized caller, before the answer goes out. Written
 * behind the answer (audit.ts `appendAuditEventBehind`): the answer carries no personal data, and waiting
 * for this commit cost a fifth of the route's throughput (README "Status checks under load").
 */
export function recordStatusCheck(
  db: Db,
  checked: ConsentStatusView,
  actor: OrganisationActor,
  requestId: string,
): Promise<void> {
  return appendAuditEventBehind(db, {
    consentId: checked.id,
    action: 'status_checked',
    actor,
    at: checked.checkedAt,
    requestId,
    details: { status: checked.status },
  });
}

/** The status answer for one consent, as both the status check and the search by child give it. */
export function statusResult(
  consent: { id: string; organisationId: string; teamId: string },
  status: ConsentStatusAt,
  checkedAt: Date,
): ConsentStatusResult {
  return {
    id: consent.id,
    status: status.status,
    reason: status.reason,
    validFrom: status.validFrom ?? null,
    validUntil: status.validUntil ?? null,
    checkedAt,
    organisationId: consent.organisationId,
    teamId: consent.teamId,
  };
}

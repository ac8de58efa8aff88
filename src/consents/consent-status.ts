// Read: the status of one consent for other HLT systems, computed at the moment of asking from the stored
// facts (`statusAt`), so it is right the instant after a withdrawal or at 00:00 on the expiry day even
// if no job ran. One query, shared by the checks made in the same turn (consent-status.repository.ts).
// `recordStatusCheck` puts the look-up in the audit trail.
import type { Db } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import { type ConsentStatus, type ConsentStatusAt, type StatusReason, statusAt } from '../domain/consent.ts';
import { AppError } from '../errors.ts';
import { appendAuditEventBehind } from './audit.repository.ts';
import { consentStatusFacts } from './consent-status.repository.ts';
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

export async function getConsentStatus(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  consentId: string,
): Promise<ConsentStatusResult> {
  if (!isUuid(consentId)) throw new AppError('not_found', 'Samtycket finns inte.');
  const found = await consentStatusFacts(ctx.db, consentId);
  if (!found) throw new AppError('not_found', 'Samtycket finns inte.');
  const now = ctx.clock.now();
  const status = statusAt(found.facts, now);
  return statusResult(found, status, now);
}

/**
 * The audit event of a status check by id, for an authorized caller, before the answer goes out. Written
 * behind the answer (audit.repository.ts `appendAuditEventBehind`): the answer carries no personal data, and waiting
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

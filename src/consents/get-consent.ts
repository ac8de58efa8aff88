// Read: one consent in detail, for the requesting organisation (the policy decides who may call this).
// Status is computed now from the stored facts. Signers with their state, never their numbers; the
// child without number or birth date; validity; the timeline from the audit trail. `recordConsentView`
// puts a read of the details by a staff member or system in the audit trail, once the caller is
// authorized: the guardians see it in their access log (access-log.ts, issue 16 §3).
import type { ObtainedBy, WithdrawalChannel } from '../db/schema.ts';
import { type ConsentStatus, type StatusReason, statusAt } from '../domain/consent.ts';
import type { LocalDate } from '../domain/dates.ts';
import type { SignerRole } from '../domain/roles.ts';
import { appendAuditEvent, type AuditEvent, listAuditEvents } from './audit.repository.ts';
import { renewalIds } from './consent-lists.repository.ts';
import { getLoadedConsent, type SignerState, signerState } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { documentSummary } from './documents.repository.ts';

export interface ConsentSignerView {
  role: SignerRole;
  name: string;
  state: SignerState;
  signedAt: Date | null;
  place: string | null;
  /** How they identified when signing. */
  identifiedBy: { issuer: string; acr: string | null } | null;
  declinedAt: Date | null;
  lastRemindedAt: Date | null;
  /**
   * Where invitations go. A protected person's (`protectedIdentity`) for the requester only: the
   * presenters and pages decide (issue 16 §5).
   */
  contact: { phone: string | null; email: string | null };
  /** Skyddade personuppgifter: phone and e-mail shown to no one but the requester, never printed. */
  protectedIdentity: boolean;
}

export interface ConsentDetails {
  id: string;
  organisationId: string;
  teamId: string;
  status: ConsentStatus;
  reason: StatusReason;
  statusSince: Date;
  checkedAt: Date;
  validFrom: Date | null;
  validUntil: Date | null;
  requestedAt: Date;
  requestExpiresAt: Date;
  completedAt: Date | null;
  awaitingRoles: SignerRole[];
  child: { name: string; healthCentre: string | null; school: string | null; protectedIdentity: boolean };
  soleGuardian: boolean;
  youthSigns: boolean;
  obtainedBy: ObtainedBy;
  requestedBy: { type: 'staff'; staffId: string } | { type: 'api_client'; clientId: string };
  signers: ConsentSignerView[];
  /** Free text the signer may have given: show it to the requesting organisation only. */
  declined: { role: SignerRole; at: Date; reason: string | null } | null;
  withdrawal: {
    role: SignerRole;
    at: Date;
    channel: WithdrawalChannel;
    date: LocalDate | null;
    note: string | null;
  } | null;
  ended: { at: Date; date: LocalDate | null; note: string | null } | null;
  cancelledAt: Date | null;
  renewedFrom: string | null;
  renewedBy: string[];
  documents: { formRevision: number; formSha256: string; receipt: boolean };
  /** Acts and messages, oldest first (look-ups and views left out: see listAuditEvents for all). */
  timeline: AuditEvent[];
  /**
   * The look-ups left out of the timeline, summed up: checks of the status by id, searches by child, and
   * views of the details by staff and systems.
   */
  lookups: { statusChecks: LookupSummary; byChild: LookupSummary; views: LookupSummary };
}

export interface LookupSummary {
  count: number;
  lastAt: Date | null;
}

function summarise(events: AuditEvent[], action: string): LookupSummary {
  const matching = events.filter((e) => e.action === action);
  return { count: matching.length, lastAt: matching.at(-1)?.at ?? null };
}

const NOT_IN_TIMELINE = new Set(['status_checked', 'looked_up_by_child', 'consent_viewed']);

export async function getConsent(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  consentId: string,
): Promise<ConsentDetails> {
  const { consent, signers, facts } = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  const now = ctx.clock.now();
  const status = statusAt(facts, now);
  const [documents, events, renewedBy] = await Promise.all([
    documentSummary(ctx.db, consentId),
    listAuditEvents(ctx.db, consentId),
    renewalIds(ctx.db, consentId),
  ]);
  const decliner = signers.find((s) => s.declinedAt);
  return {
    id: consent.id,
    organisationId: consent.organisationId,
    teamId: consent.teamId,
    status: status.status,
    reason: status.reason,
    statusSince: status.since,
    checkedAt: now,
    validFrom: status.validFrom ?? null,
    validUntil: status.validUntil ?? null,
    requestedAt: consent.requestedAt,
    requestExpiresAt: consent.requestExpiresAt,
    completedAt: status.completedAt ?? null,
    awaitingRoles: status.awaitingRoles ?? [],
    child: {
      name: consent.child.name,
      healthCentre: consent.child.healthCentre,
      school: consent.child.school,
      protectedIdentity: consent.childProtectedIdentity,
    },
    soleGuardian: consent.soleGuardian,
    youthSigns: consent.youthSigns,
    obtainedBy: consent.obtainedBy,
    requestedBy: consent.requestedByStaffId
      ? { type: 'staff', staffId: consent.requestedByStaffId }
      : { type: 'api_client', clientId: consent.requestedByClientId! },
    signers: signers.map((s) => ({
      role: s.role,
      name: s.name,
      state: signerState(s),
      signedAt: s.signedAt,
      place: s.signedPlace,
      identifiedBy: s.identityIssuer ? { issuer: s.identityIssuer, acr: s.identityAcr } : null,
      declinedAt: s.declinedAt,
      lastRemindedAt: s.lastRemindedAt,
      contact: { phone: s.phone, email: s.email },
      protectedIdentity: s.protectedIdentity,
    })),
    declined:
      consent.declinedAt && decliner
        ? { role: decliner.role, at: consent.declinedAt, reason: decliner.declineReason }
        : null,
    withdrawal:
      consent.withdrawnAt && consent.withdrawnByRole && consent.withdrawalChannel
        ? {
            role: consent.withdrawnByRole,
            at: consent.withdrawnAt,
            channel: consent.withdrawalChannel,
            date: consent.withdrawalDate,
            note: consent.withdrawalNote,
          }
        : null,
    ended: consent.endedAt ? { at: consent.endedAt, date: consent.endDate, note: consent.endNote } : null,
    cancelledAt: consent.cancelledAt,
    renewedFrom: consent.renewedFrom,
    renewedBy,
    documents,
    timeline: events.filter((e) => !NOT_IN_TIMELINE.has(e.action)),
    lookups: {
      statusChecks: summarise(events, 'status_checked'),
      byChild: summarise(events, 'looked_up_by_child'),
      views: summarise(events, 'consent_viewed'),
    },
  };
}

/**
 * The audit event of a staff member or system reading the consent's details (the staff page, the API),
 * after the caller was authorized and before the answer goes out. `scope` is what the caller was shown:
 * the content, or only the status (another organisation of the team while the consent is not in force).
 * The details carry personal data, so the answer waits for this commit (audit.repository.ts
 * `appendAuditEvent`, batched with the other look-ups of the same turn), unlike a status check's.
 */
export function recordConsentView(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  actor: OrganisationActor,
  input: { consentId: string; scope: 'content' | 'status'; via: 'page' | 'api'; requestId?: string },
): Promise<void> {
  return appendAuditEvent(ctx.db, {
    consentId: input.consentId,
    action: 'consent_viewed',
    actor,
    at: ctx.clock.now(),
    requestId: input.requestId,
    details: { scope: input.scope, via: input.via },
  });
}

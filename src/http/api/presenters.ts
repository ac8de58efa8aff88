// The consent API's answers: the use cases' results as the documented schemas (./schemas.ts) describe
// them — dates as ISO strings, and for the other organisations of the team no contact details, free text
// or timeline. A person with skyddade personuppgifter (issue 16 §5): their phone and e-mail go to the
// requester only (the API client or staff member who made the request), never to the rest of the
// organisation; everyone who sees the details sees the mark.
import type { z } from 'zod';
import type { AuditEvent } from '../../consents/audit.repository.ts';
import type { ConsentRequestResult } from '../../consents/create-consent-request.ts';
import type { ConsentDetails } from '../../consents/get-consent.ts';
import type { Caller } from '../../identity/caller.ts';
import type { consentDetailsSchema, consentRequestResultSchema, consentStatusSchema } from './schemas.ts';

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** One audit event of a consent's timeline. */
export function eventOut(e: AuditEvent) {
  return {
    id: e.id,
    at: e.at.toISOString(),
    action: e.action,
    actor: e.actor,
    requestId: e.requestId,
    details: e.details,
  };
}

type StatusLike = {
  id: string;
  status: z.infer<typeof consentStatusSchema>['status'];
  reason: z.infer<typeof consentStatusSchema>['reason'];
  validFrom: Date | null;
  validUntil: Date | null;
  checkedAt: Date;
};

export function statusOut(s: StatusLike): z.infer<typeof consentStatusSchema> {
  return {
    id: s.id,
    status: s.status,
    reason: s.reason,
    validFrom: iso(s.validFrom),
    validUntil: iso(s.validUntil),
    checkedAt: s.checkedAt.toISOString(),
  };
}

export function signerOut(s: ConsentRequestResult['signers'][number]) {
  return {
    role: s.role,
    name: s.name,
    state: s.state,
    ...(s.invitation
      ? { invitation: { url: s.invitation.url, expiresAt: s.invitation.expiresAt.toISOString() } }
      : {}),
  };
}

export function requestResultOut(r: ConsentRequestResult): z.infer<typeof consentRequestResultSchema> {
  return {
    id: r.id,
    status: r.status,
    requestedAt: r.requestedAt.toISOString(),
    requestExpiresAt: r.requestExpiresAt.toISOString(),
    renewedFrom: r.renewedFrom,
    replayed: r.replayed,
    signers: r.signers.map(signerOut),
  };
}

/** Whether the caller is the one who made the request (staff member or API client). */
export function isRequester(d: Pick<ConsentDetails, 'requestedBy'>, caller: Caller): boolean {
  const by = d.requestedBy;
  return by.type === 'staff'
    ? caller.kind === 'staff' && caller.staffId === by.staffId
    : caller.kind === 'api_client' && caller.clientId === by.clientId;
}

/** A signer's contact as this caller may see it: a protected person's for the requester only. */
function contactFor(
  s: ConsentDetails['signers'][number],
  requester: boolean,
): ConsentDetails['signers'][number]['contact'] {
  return s.protectedIdentity && !requester ? { phone: null, email: null } : s.contact;
}

/**
 * Details; for the other organisations of the team without contact details, free text or timeline.
 * `requester`: the caller made the request (isRequester) and may see a protected person's contacts.
 */
export function detailsOut(
  d: ConsentDetails,
  requesting: boolean,
  requester = false,
): z.infer<typeof consentDetailsSchema> {
  return {
    id: d.id,
    organisationId: d.organisationId,
    teamId: d.teamId,
    relation: requesting ? 'requesting' : 'team',
    status: d.status,
    reason: d.reason,
    statusSince: d.statusSince.toISOString(),
    checkedAt: d.checkedAt.toISOString(),
    validFrom: iso(d.validFrom),
    validUntil: iso(d.validUntil),
    requestedAt: d.requestedAt.toISOString(),
    requestExpiresAt: d.requestExpiresAt.toISOString(),
    completedAt: iso(d.completedAt),
    awaitingRoles: d.awaitingRoles,
    child: d.child,
    soleGuardian: d.soleGuardian,
    youthSigns: d.youthSigns,
    obtainedBy: d.obtainedBy,
    requestedBy: d.requestedBy,
    signers: d.signers.map((s) => ({
      role: s.role,
      name: s.name,
      state: s.state,
      signedAt: iso(s.signedAt),
      place: s.place,
      identifiedBy: s.identifiedBy,
      declinedAt: iso(s.declinedAt),
      lastRemindedAt: iso(s.lastRemindedAt),
      protectedIdentity: s.protectedIdentity,
      ...(requesting ? { contact: contactFor(s, requester) } : {}),
    })),
    declined: d.declined
      ? {
          role: d.declined.role,
          at: d.declined.at.toISOString(),
          ...(requesting ? { reason: d.declined.reason } : {}),
        }
      : null,
    withdrawal: d.withdrawal
      ? {
          role: d.withdrawal.role,
          at: d.withdrawal.at.toISOString(),
          channel: d.withdrawal.channel,
          date: d.withdrawal.date,
          ...(requesting ? { note: d.withdrawal.note } : {}),
        }
      : null,
    ended: d.ended
      ? { at: d.ended.at.toISOString(), date: d.ended.date, ...(requesting ? { note: d.ended.note } : {}) }
      : null,
    cancelledAt: iso(d.cancelledAt),
    renewedFrom: d.renewedFrom,
    renewedBy: d.renewedBy,
    documents: d.documents,
    timeline: requesting ? d.timeline.map(eventOut) : [],
  };
}

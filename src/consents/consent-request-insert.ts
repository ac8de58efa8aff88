// The insert of a consent request, in the caller's transaction: the consent, its signers, the form's
// revision 0, one invitation link per signer for staff to show (QR / copy), the audit event, and the
// invitation messages queued.
import type { Tx } from '../db/index.ts';
import { type ConsentStatus, requestExpiry } from '../domain/consent.ts';
import type { ConsentPeople, SignerRole } from '../domain/roles.ts';
import { invitationLink } from '../notify/links.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toSigners } from './notifications/recipients.ts';
import type { RenderedForm } from '../pdf/render.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { insertConsent, insertSigners, type NewSigner } from './consent-changes.repository.ts';
import type { SignerState } from './consent.repository.ts';
import type { RequestData } from './consent-request-input.ts';
import type { Requester } from './consent-request-requester.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { storeFormRevision } from './documents.repository.ts';
import { issueInvitation } from './invitations.repository.ts';

export interface RequestedSigner {
  role: SignerRole;
  name: string;
  state: SignerState;
  /** The link for staff to show as a QR code or copy. Only in the first answer, never on a replay. */
  invitation?: { url: string; expiresAt: Date };
}

export interface ConsentRequestResult {
  id: string;
  status: ConsentStatus;
  requestedAt: Date;
  requestExpiresAt: Date;
  renewedFrom: string | null;
  signers: RequestedSigner[];
  /** True when an Idempotency-Key replay answered with the first request's consent. */
  replayed: boolean;
}

export async function insertRequest(
  tx: Tx,
  ctx: ConsentContext,
  actor: OrganisationActor,
  r: {
    id: string;
    data: RequestData;
    people: ConsentPeople;
    requester: Requester;
    form: RenderedForm;
    now: Date;
    requestId: string | undefined;
    renewedFrom: string | undefined;
  },
): Promise<ConsentRequestResult> {
  const { id, data, people, now } = r;
  const requestExpiresAt = requestExpiry(now, ctx.config.rules.requestLifetimeDays);
  const renewedFrom = r.renewedFrom ?? null;
  await insertConsent(tx, ctx.keys, {
    id,
    organisationId: r.requester.organisation.id,
    teamId: data.teamId,
    templateVersion: r.form.templateVersion,
    area: r.requester.organisation.hltArea,
    child: {
      name: data.child.name,
      personalNumber: people.child.digits,
      birthDate: people.child.birthDate,
      healthCentre: data.child.healthCentre ?? null,
      school: data.child.school ?? null,
    },
    soleGuardian: data.soleGuardian,
    youthSigns: people.youthSigns,
    childProtectedIdentity: data.child.protectedIdentity === true,
    requestedByStaffId: actor.type === 'staff' ? actor.staffId : null,
    requestedByClientId: actor.type === 'api_client' ? actor.clientId : null,
    obtainedBy: r.requester.obtainedBy,
    requestedAt: now,
    requestExpiresAt,
    renewedFrom,
  });

  const signers = signersOf(data, people);
  await insertSigners(tx, ctx.keys, id, signers);
  await storeFormRevision(tx, ctx.keys, {
    consentId: id,
    revision: 0,
    bytes: r.form.bytes,
    sha256: r.form.sha256,
    at: now,
  });

  const result: ConsentRequestResult = {
    id,
    status: 'pending',
    requestedAt: now,
    requestExpiresAt,
    renewedFrom,
    replayed: false,
    signers: await issueStaffLinks(tx, ctx, id, signers, { expiresAt: requestExpiresAt, now }),
  };
  await appendAuditEvent(tx, {
    consentId: id,
    action: 'consent_requested',
    actor,
    at: now,
    requestId: r.requestId,
    details: {
      roles: people.requiredRoles,
      soleGuardian: data.soleGuardian,
      youthSigns: people.youthSigns,
      youthRequired: people.youth === 'required',
      // Who is marked (roles and 'child', never a value): the form was rendered without their contacts.
      ...(protectedPersons(data).length > 0 ? { protectedIdentity: protectedPersons(data) } : {}),
      templateVersion: r.form.templateVersion,
      documentSha256: r.form.sha256,
      ...(renewedFrom ? { renewedFrom } : {}),
    },
  });
  await queueNotifications(
    tx,
    ctx.jobs,
    toSigners(
      'invitation',
      id,
      signers.map((s) => ({ role: s.role, phone: s.phone, email: s.email })),
    ),
  );
  return result;
}

/** The people marked as having protected personal data, as 'guardian1', 'guardian2', 'child'. */
function protectedPersons(data: RequestData): string[] {
  return [
    ...data.guardians.flatMap((g, i) => (g.protectedIdentity ? [i === 0 ? 'guardian1' : 'guardian2'] : [])),
    ...(data.child.protectedIdentity ? ['child'] : []),
  ];
}

/** The signers of the request's roles, in form order. */
function signersOf(data: RequestData, people: ConsentPeople): NewSigner[] {
  return people.requiredRoles.map((role) => {
    if (role === 'youth')
      return {
        role,
        name: data.child.name,
        personalNumber: people.child.digits,
        phone: data.youth?.phone ?? null,
        email: data.youth?.email ?? null,
        // The youth is the child: one mark for both (consents.child_protected_identity).
        protectedIdentity: data.child.protectedIdentity === true,
      };
    const i = role === 'guardian1' ? 0 : 1;
    const g = data.guardians[i]!;
    return {
      role,
      name: g.name,
      personalNumber: people.guardians[i]!.digits,
      phone: g.phone ?? null,
      email: g.email ?? null,
      protectedIdentity: g.protectedIdentity === true,
    };
  });
}

/** One invitation link per signer for staff to show (QR / copy); the messages get their own when sent. */
async function issueStaffLinks(
  tx: Tx,
  ctx: ConsentContext,
  consentId: string,
  signers: readonly NewSigner[],
  at: { expiresAt: Date; now: Date },
): Promise<RequestedSigner[]> {
  const out: RequestedSigner[] = [];
  for (const s of signers) {
    const link = await issueInvitation(tx, {
      consentId,
      role: s.role,
      channel: 'link',
      expiresAt: at.expiresAt,
      now: at.now,
    });
    out.push({
      role: s.role,
      name: s.name,
      state: 'pending',
      invitation: { url: invitationLink(ctx.config, link.token), expiresAt: at.expiresAt },
    });
  }
  return out;
}

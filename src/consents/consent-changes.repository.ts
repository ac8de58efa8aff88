// What the acts on a consent store: a new request (the consent and its signers), a signature and the
// completion it may bring, and the state changes of cancel, decline, end, withdraw and remind. Every
// function takes a transaction (or the database) first; the use case holds the consent's row lock
// (consent.repository.ts `loadConsent` with `lock`).
import type { DbOrTx } from '../db/index.ts';
import type { KeyRing } from '../db/encryption.ts';
import { placeOf, sealJson, sealText } from '../db/encrypted-columns.ts';
import type { WithdrawalChannel } from '../db/schema.ts';
import type { LocalDate } from '../domain/dates.ts';
import type { ConsentRecord } from './consent.repository.ts';
import type { SignerRole } from '../domain/roles.ts';

/** A consent as a new request stores it: the facts it starts with (no act has happened yet). */
export type NewConsent = Pick<
  ConsentRecord,
  | 'id'
  | 'organisationId'
  | 'teamId'
  | 'templateVersion'
  | 'area'
  | 'child'
  | 'soleGuardian'
  | 'youthSigns'
  | 'childProtectedIdentity'
  | 'requestedByStaffId'
  | 'requestedByClientId'
  | 'obtainedBy'
  | 'requestedAt'
  | 'requestExpiresAt'
  | 'renewedFrom'
>;

export interface NewSigner {
  role: SignerRole;
  name: string;
  /** 12 digits. Never log it. */
  personalNumber: string;
  phone: string | null;
  email: string | null;
  protectedIdentity: boolean;
}

const consentPlace = (consentId: string, column: string) => placeOf('consents', column, [consentId]);
const signerPlace = (consentId: string, role: SignerRole, column: string) =>
  placeOf('consent_signers', column, [consentId, role]);

/** Personal data is sealed on its way in (src/db/encrypted-columns.ts); the child's number is looked up by
 * its blind index. */
export async function insertConsent(tx: DbOrTx, keys: KeyRing, c: NewConsent): Promise<void> {
  const at = (column: string) => consentPlace(c.id, column);
  await tx
    .insertInto('consents')
    .values({
      id: c.id,
      organisation_id: c.organisationId,
      team_id: c.teamId,
      template_version: c.templateVersion,
      area: c.area,
      child_name: sealText(keys, at('child_name'), c.child.name),
      child_personal_number: sealText(keys, at('child_personal_number'), c.child.personalNumber),
      child_personal_number_index: keys.blindIndex(c.child.personalNumber),
      child_birth_date: c.child.birthDate,
      child_health_centre: c.child.healthCentre,
      child_school: c.child.school,
      sole_guardian: c.soleGuardian,
      youth_signs: c.youthSigns,
      child_protected_identity: c.childProtectedIdentity,
      requested_by_staff_id: c.requestedByStaffId,
      requested_by_client_id: c.requestedByClientId,
      obtained_by: sealJson(keys, at('obtained_by'), c.obtainedBy),
      requested_at: c.requestedAt,
      request_expires_at: c.requestExpiresAt,
      renewed_from: c.renewedFrom,
    })
    .execute();
}

export async function insertSigners(
  tx: DbOrTx,
  keys: KeyRing,
  consentId: string,
  signers: readonly NewSigner[],
) {
  if (signers.length === 0) return;
  await tx
    .insertInto('consent_signers')
    .values(
      signers.map((s) => {
        const at = (column: string) => signerPlace(consentId, s.role, column);
        return {
          consent_id: consentId,
          role: s.role,
          name: sealText(keys, at('name'), s.name),
          personal_number: sealText(keys, at('personal_number'), s.personalNumber),
          personal_number_index: keys.blindIndex(s.personalNumber),
          phone: sealText(keys, at('phone'), s.phone),
          email: sealText(keys, at('email'), s.email),
          protected_identity: s.protectedIdentity,
        };
      }),
    )
    .execute();
}

export async function markCancelled(tx: DbOrTx, consentId: string, at: Date): Promise<void> {
  await tx.updateTable('consents').set({ cancelled_at: at }).where('id', '=', consentId).execute();
}

/** The signer in `role` declined (with the reason they gave, if any): the consent is declined. */
export async function markDeclined(
  tx: DbOrTx,
  keys: KeyRing,
  consentId: string,
  d: { role: SignerRole; at: Date; reason: string | null },
): Promise<void> {
  await tx
    .updateTable('consents')
    .set({ declined_at: d.at, declined_by_role: d.role })
    .where('id', '=', consentId)
    .execute();
  await tx
    .updateTable('consent_signers')
    .set({
      declined_at: d.at,
      decline_reason: sealText(keys, signerPlace(consentId, d.role, 'decline_reason'), d.reason),
    })
    .where('consent_id', '=', consentId)
    .where('role', '=', d.role)
    .execute();
}

/** The support ended; `validUntil` when the consent was in force (its validity ends now). */
export async function markEnded(
  tx: DbOrTx,
  keys: KeyRing,
  consentId: string,
  e: { at: Date; date: LocalDate; note: string | null; validUntil?: Date | undefined },
): Promise<void> {
  await tx
    .updateTable('consents')
    .set({
      ended_at: e.at,
      end_date: e.date,
      end_note: sealText(keys, consentPlace(consentId, 'end_note'), e.note),
      ...(e.validUntil ? { valid_until: e.validUntil } : {}),
    })
    .where('id', '=', consentId)
    .execute();
}

/** A signer withdrew; `validUntil` when the consent was in force (its validity ends now). */
export async function markWithdrawn(
  tx: DbOrTx,
  keys: KeyRing,
  consentId: string,
  w: {
    at: Date;
    role: SignerRole;
    channel: WithdrawalChannel;
    date: LocalDate;
    note: string | null;
    validUntil?: Date | undefined;
  },
): Promise<void> {
  await tx
    .updateTable('consents')
    .set({
      withdrawn_at: w.at,
      withdrawn_by_role: w.role,
      withdrawal_channel: w.channel,
      withdrawal_date: w.date,
      withdrawal_note: sealText(keys, consentPlace(consentId, 'withdrawal_note'), w.note),
      ...(w.validUntil ? { valid_until: w.validUntil } : {}),
    })
    .where('id', '=', consentId)
    .execute();
}

/** The signers in `roles` were reminded at `at`. */
export async function markReminded(
  tx: DbOrTx,
  consentId: string,
  roles: readonly SignerRole[],
  at: Date,
): Promise<void> {
  if (roles.length === 0) return;
  await tx
    .updateTable('consent_signers')
    .set({ last_reminded_at: at })
    .where('consent_id', '=', consentId)
    .where('role', 'in', [...roles])
    .execute();
}

/** A signature on its signer's row (sign-consent.ts; the caller holds the consent's row lock). */
export async function recordSignature(
  tx: DbOrTx,
  keys: KeyRing,
  consentId: string,
  role: SignerRole,
  s: {
    signedAt: Date;
    place: string;
    signedName: string;
    identityIssuer: string;
    identityAcr: string | null;
    identityAuthTime: Date | null;
    soleGuardianConfirmed: boolean | null;
    documentRevision: number;
  },
): Promise<void> {
  await tx
    .updateTable('consent_signers')
    .set({
      signed_at: s.signedAt,
      signed_place: s.place,
      signed_name: sealText(keys, signerPlace(consentId, role, 'signed_name'), s.signedName),
      identity_issuer: s.identityIssuer,
      identity_acr: s.identityAcr,
      identity_auth_time: s.identityAuthTime,
      sole_guardian_confirmed: s.soleGuardianConfirmed,
      document_revision: s.documentRevision,
    })
    .where('consent_id', '=', consentId)
    .where('role', '=', role)
    .execute();
}

/** The last required signature: the consent is in force (sign-consent.ts, under the row lock). */
export async function recordCompletion(
  tx: DbOrTx,
  consentId: string,
  c: { completedAt: Date; validFrom: Date; validUntil: Date },
): Promise<void> {
  await tx
    .updateTable('consents')
    .set({ completed_at: c.completedAt, valid_from: c.validFrom, valid_until: c.validUntil })
    .where('id', '=', consentId)
    .execute();
}

/**
 * Marks a person's skyddade personuppgifter (issue 16 §5): a guardian's signer row, or the child on the
 * consent and the youth's signer row with it (the youth is the child).
 */
export async function markProtectedIdentity(
  tx: DbOrTx,
  consentId: string,
  person: 'guardian1' | 'guardian2' | 'child',
): Promise<void> {
  if (person === 'child')
    await tx
      .updateTable('consents')
      .set({ child_protected_identity: true })
      .where('id', '=', consentId)
      .execute();
  await tx
    .updateTable('consent_signers')
    .set({ protected_identity: true })
    .where('consent_id', '=', consentId)
    .where('role', '=', person === 'child' ? 'youth' : person)
    .execute();
}

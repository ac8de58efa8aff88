// Consent rows ↔ domain types. Every function takes the database or a transaction first. Dates
// (`date` columns) are selected as text 'YYYY-MM-DD': node-postgres would make them Dates at local
// midnight of the process's time zone.
import { type ExpressionBuilder, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import type { Database, DbOrTx } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import type { KeyRing } from '../db/encryption.ts';
import { openJson, openText, placeOf } from '../db/encrypted-columns.ts';
import type { ConsentSignerTable, ObtainedBy, WithdrawalChannel } from '../db/schema.ts';
import type { ConsentFacts } from '../domain/consent.ts';
import { type LocalDate, localDate } from '../domain/dates.ts';
import { requiredRoles, type SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';

export interface ConsentRecord {
  id: string;
  organisationId: string;
  teamId: string;
  templateVersion: string;
  area: string;
  child: {
    name: string;
    /** 12 digits. Never log it. */
    personalNumber: string;
    birthDate: LocalDate;
    healthCentre: string | null;
    school: string | null;
  };
  soleGuardian: boolean;
  youthSigns: boolean;
  /** Skyddade personuppgifter for the child (issue 16 §5; the youth signer's row carries it too). */
  childProtectedIdentity: boolean;
  requestedByStaffId: string | null;
  requestedByClientId: string | null;
  obtainedBy: ObtainedBy;
  requestedAt: Date;
  requestExpiresAt: Date;
  completedAt: Date | null;
  validFrom: Date | null;
  validUntil: Date | null;
  declinedAt: Date | null;
  declinedByRole: SignerRole | null;
  cancelledAt: Date | null;
  withdrawnAt: Date | null;
  withdrawnByRole: SignerRole | null;
  withdrawalChannel: WithdrawalChannel | null;
  withdrawalDate: LocalDate | null;
  withdrawalNote: string | null;
  endedAt: Date | null;
  endDate: LocalDate | null;
  endNote: string | null;
  renewedFrom: string | null;
  lapseHandledAt: Date | null;
  endingSoonHandledAt: Date | null;
}

export interface SignerRecord {
  role: SignerRole;
  name: string;
  /** 12 digits. Never log it. */
  personalNumber: string;
  phone: string | null;
  email: string | null;
  /** Skyddade personuppgifter (issue 16 §5): phone and e-mail for the requester only, never printed. */
  protectedIdentity: boolean;
  signedAt: Date | null;
  signedPlace: string | null;
  signedName: string | null;
  identityIssuer: string | null;
  identityAcr: string | null;
  identityAuthTime: Date | null;
  soleGuardianConfirmed: boolean | null;
  documentRevision: number | null;
  declinedAt: Date | null;
  declineReason: string | null;
  lastRemindedAt: Date | null;
}

export interface LoadedConsent {
  consent: ConsentRecord;
  /** In form order: guardian1, guardian2, youth. */
  signers: SignerRecord[];
  facts: ConsentFacts;
}

export type SignerState = 'signed' | 'declined' | 'pending';

export const signerState = (s: Pick<SignerRecord, 'signedAt' | 'declinedAt'>): SignerState =>
  s.signedAt ? 'signed' : s.declinedAt ? 'declined' : 'pending';

const ROLE_ORDER: Record<SignerRole, number> = { guardian1: 0, guardian2: 1, youth: 2 };

/** A `date` column as 'YYYY-MM-DD' text. */
export const dateText = <C extends 'child_birth_date' | 'withdrawal_date' | 'end_date'>(column: C) =>
  sql<string>`to_char(${sql.ref(`consents.${column}`)}, 'YYYY-MM-DD')`.as(column);

/** Every consent column, dates as text. */
export function selectConsentColumns<O>(qb: SelectQueryBuilder<Database, 'consents', O>) {
  return qb.select([
    'consents.id',
    'consents.organisation_id',
    'consents.team_id',
    'consents.template_version',
    'consents.area',
    'consents.child_name',
    'consents.child_personal_number',
    dateText('child_birth_date'),
    'consents.child_health_centre',
    'consents.child_school',
    'consents.sole_guardian',
    'consents.youth_signs',
    'consents.child_protected_identity',
    'consents.requested_by_staff_id',
    'consents.requested_by_client_id',
    'consents.obtained_by',
    'consents.requested_at',
    'consents.request_expires_at',
    'consents.completed_at',
    'consents.valid_from',
    'consents.valid_until',
    'consents.declined_at',
    'consents.declined_by_role',
    'consents.cancelled_at',
    'consents.withdrawn_at',
    'consents.withdrawn_by_role',
    'consents.withdrawal_channel',
    dateText('withdrawal_date'),
    'consents.withdrawal_note',
    'consents.ended_at',
    dateText('end_date'),
    'consents.end_note',
    'consents.renewed_from',
    'consents.lapse_handled_at',
    'consents.ending_soon_handled_at',
  ]);
}

type ConsentRow = Awaited<ReturnType<ReturnType<typeof selectConsentColumns>['executeTakeFirstOrThrow']>>;

/** A stored consent as the domain sees it: its personal data decrypted (src/db/encrypted-columns.ts). */
export function toConsentRecord(keys: KeyRing, row: ConsentRow): ConsentRecord {
  const at = (column: string) => placeOf('consents', column, [row.id]);
  return {
    id: row.id,
    organisationId: row.organisation_id,
    teamId: row.team_id,
    templateVersion: row.template_version,
    area: row.area,
    child: {
      name: openText(keys, at('child_name'), row.child_name),
      personalNumber: openText(keys, at('child_personal_number'), row.child_personal_number),
      birthDate: localDate(row.child_birth_date),
      healthCentre: row.child_health_centre,
      school: row.child_school,
    },
    soleGuardian: row.sole_guardian,
    youthSigns: row.youth_signs,
    childProtectedIdentity: row.child_protected_identity,
    requestedByStaffId: row.requested_by_staff_id,
    requestedByClientId: row.requested_by_client_id,
    obtainedBy: openJson<ObtainedBy>(keys, at('obtained_by'), row.obtained_by),
    requestedAt: row.requested_at,
    requestExpiresAt: row.request_expires_at,
    completedAt: row.completed_at,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    declinedAt: row.declined_at,
    declinedByRole: row.declined_by_role,
    cancelledAt: row.cancelled_at,
    withdrawnAt: row.withdrawn_at,
    withdrawnByRole: row.withdrawn_by_role,
    withdrawalChannel: row.withdrawal_channel,
    withdrawalDate: row.withdrawal_date === null ? null : localDate(row.withdrawal_date),
    withdrawalNote: openText(keys, at('withdrawal_note'), row.withdrawal_note),
    endedAt: row.ended_at,
    endDate: row.end_date === null ? null : localDate(row.end_date),
    endNote: openText(keys, at('end_note'), row.end_note),
    renewedFrom: row.renewed_from,
    lapseHandledAt: row.lapse_handled_at,
    endingSoonHandledAt: row.ending_soon_handled_at,
  };
}

export function toSignerRecord(keys: KeyRing, row: Selectable<ConsentSignerTable>): SignerRecord {
  const at = (column: string) => placeOf('consent_signers', column, [row.consent_id, row.role]);
  return {
    role: row.role,
    name: openText(keys, at('name'), row.name),
    personalNumber: openText(keys, at('personal_number'), row.personal_number),
    phone: openText(keys, at('phone'), row.phone),
    email: openText(keys, at('email'), row.email),
    protectedIdentity: row.protected_identity,
    signedAt: row.signed_at,
    signedPlace: row.signed_place,
    signedName: openText(keys, at('signed_name'), row.signed_name),
    identityIssuer: row.identity_issuer,
    identityAcr: row.identity_acr,
    identityAuthTime: row.identity_auth_time,
    soleGuardianConfirmed: row.sole_guardian_confirmed,
    documentRevision: row.document_revision,
    declinedAt: row.declined_at,
    declineReason: openText(keys, at('decline_reason'), row.decline_reason),
    lastRemindedAt: row.last_reminded_at,
  };
}

/** The facts `statusAt` needs, from the stored consent and its signers. */
export function consentFacts(
  consent: Pick<
    ConsentRecord,
    | 'requestedAt'
    | 'requestExpiresAt'
    | 'child'
    | 'soleGuardian'
    | 'youthSigns'
    | 'declinedAt'
    | 'cancelledAt'
    | 'withdrawnAt'
    | 'endedAt'
  >,
  signatures: readonly { role: SignerRole; signedAt: Date | null }[],
): ConsentFacts {
  return {
    requestedAt: consent.requestedAt,
    requestExpiresAt: consent.requestExpiresAt,
    childBirthDate: consent.child.birthDate,
    requiredRoles: requiredRoles({ soleGuardian: consent.soleGuardian, youthSigns: consent.youthSigns }),
    signatures: signatures.flatMap((s) => (s.signedAt ? [{ role: s.role, signedAt: s.signedAt }] : [])),
    declinedAt: consent.declinedAt,
    cancelledAt: consent.cancelledAt,
    withdrawnAt: consent.withdrawnAt,
    endedAt: consent.endedAt,
  };
}

export async function loadSigners(db: DbOrTx, keys: KeyRing, consentId: string): Promise<SignerRecord[]> {
  const rows = await db
    .selectFrom('consent_signers')
    .selectAll()
    .where('consent_id', '=', consentId)
    .execute();
  return rows.map((row) => toSignerRecord(keys, row)).sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
}

/**
 * The consent with its signers and facts; undefined when there is none. `lock` takes the row lock
 * (SELECT … FOR UPDATE): acts on one consent serialise on it, so the PDF never branches.
 */
export async function loadConsent(
  db: DbOrTx,
  keys: KeyRing,
  id: string,
  options: { lock?: boolean } = {},
): Promise<LoadedConsent | undefined> {
  if (!isUuid(id)) return undefined;
  let query = selectConsentColumns(db.selectFrom('consents')).where('consents.id', '=', id);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const consent = toConsentRecord(keys, row);
  const signers = await loadSigners(db, keys, id);
  return { consent, signers, facts: consentFacts(consent, signers) };
}

/** Like loadConsent, but a missing consent is `not_found` (404, as if it did not exist). */
export async function getLoadedConsent(
  db: DbOrTx,
  keys: KeyRing,
  id: string,
  options: { lock?: boolean } = {},
): Promise<LoadedConsent> {
  const loaded = await loadConsent(db, keys, id, options);
  if (!loaded) throw new AppError('not_found', 'Samtycket finns inte.');
  return loaded;
}

/** The facts of many consents at once (lists, sweeps): one query for the signatures. */
export async function signaturesByConsent(
  db: DbOrTx,
  consentIds: readonly string[],
): Promise<Map<string, { role: SignerRole; signedAt: Date | null; declinedAt: Date | null }[]>> {
  const map = new Map<string, { role: SignerRole; signedAt: Date | null; declinedAt: Date | null }[]>();
  if (consentIds.length === 0) return map;
  const rows = await db
    .selectFrom('consent_signers')
    .select(['consent_id', 'role', 'signed_at', 'declined_at'])
    .where('consent_id', 'in', consentIds)
    .execute();
  for (const r of rows) {
    const list = map.get(r.consent_id) ?? [];
    list.push({ role: r.role, signedAt: r.signed_at, declinedAt: r.declined_at });
    map.set(r.consent_id, list);
  }
  for (const list of map.values()) list.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  return map;
}

/** Predicates that hold for every consent in a state (a SQL pre-filter; `statusAt` decides exactly). */
export const notYet =
  (column: 'declined_at' | 'cancelled_at' | 'withdrawn_at' | 'ended_at' | 'completed_at', now: Date) =>
  (eb: ExpressionBuilder<Database, 'consents'>) =>
    eb.or([eb(`consents.${column}`, 'is', null), eb(`consents.${column}`, '>', now)]);

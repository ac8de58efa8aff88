// Kysely table types. One interface per table; the Database interface maps table names to them.
// Keep in step with migrations/ (the migrations are frozen; these types describe the latest state).
import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface IdempotencyKeyTable {
  key: string;
  scope: string;
  request_hash: string;
  response_status: number | null;
  response_body: unknown | null;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface HousekeepingRunTable {
  id: Generated<number>;
  ran_at: CreatedAt;
  deleted_rows: number;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Id = Generated<string>;

export type OrganisationType = 'school' | 'social_services' | 'health_care';

export interface OrganisationTable {
  id: Id;
  name: string;
  type: OrganisationType;
  municipality: string;
  hlt_area: string;
  /** Months a consent's documents and personal data are kept after it ended; null: RETENTION_MONTHS. */
  retention_months: number | null;
  created_at: CreatedAt;
}

export interface HltTeamTable {
  id: Id;
  name: string;
  hlt_area: string;
  municipality: string;
  created_at: CreatedAt;
}

export interface TeamMemberTable {
  team_id: string;
  organisation_id: string;
}

export interface StaffUserTable {
  id: Id;
  email: string;
  name: string;
  title: string | null;
  phone: string | null;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  disabled_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  created_at: CreatedAt;
}

export type StaffRole = 'staff' | 'admin';

export interface StaffMembershipTable {
  staff_id: string;
  organisation_id: string;
  role: StaffRole;
  disabled_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface ApiClientTable {
  id: Id;
  client_id: string;
  organisation_id: string;
  name: string;
  scopes: string[];
  contact_name: string | null;
  contact_email: string | null;
  disabled_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface ApiClientSecretTable {
  id: Id;
  api_client_id: string;
  secret_hash: string;
  created_at: CreatedAt;
  revoked_at: NullableTimestamp;
}

export type Audience = 'signer' | 'staff';

export interface LoginAttemptTable {
  id: Id;
  state_hash: string;
  nonce: string;
  code_verifier: string;
  audience: Audience;
  fresh: Generated<boolean>;
  return_to: string;
  browser_binding: string;
  /** The act an identification is for (signing, withdrawing), or null for a plain login. */
  act: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
  created_at: CreatedAt;
  expires_at: Timestamp;
  consumed_at: NullableTimestamp;
}

export interface SessionTable {
  id_hash: string;
  audience: Audience;
  staff_id: string | null;
  /** Encrypted, as is the name. */
  personal_number: string | null;
  name: string | null;
  issuer: string;
  subject: string;
  acr: string | null;
  auth_time: NullableTimestamp;
  csrf_token: string;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  ended_at: NullableTimestamp;
}

// --- Consents (migrations/2026-11-23T1100-consents.ts) ---------------------------------------------------

/**
 * A PostgreSQL `date`. node-postgres turns a date into a Date at local midnight of the process's zone, so
 * these columns are always selected as text 'YYYY-MM-DD' (src/consents/consent.repository.ts `dateText`).
 */
type DateColumn = ColumnType<string, string, string>;
type NullableDateColumn = ColumnType<string | null, string | null | undefined, string | null>;
export type SignerRoleColumn = 'guardian1' | 'guardian2' | 'youth';
export type WithdrawalChannel = 'service' | 'phone' | 'in_person' | 'letter';
export type InvitationChannel = 'link' | 'email' | 'sms';

/** Who obtained the consent, as printed on the form ("Samtycke inhämtat av"). */
export interface ObtainedBy {
  name: string;
  title?: string;
  phone?: string;
  email?: string;
}

export interface ConsentTable {
  id: Id;
  organisation_id: string;
  team_id: string;
  template_version: string;
  area: string;
  /** Encrypted (src/db/encrypted-columns.ts), as are the other personal data columns below. */
  child_name: string;
  child_personal_number: string;
  /** Blind index of the child's personal number (look-ups by number). */
  child_personal_number_index: string;
  child_birth_date: DateColumn;
  child_health_centre: string | null;
  child_school: string | null;
  sole_guardian: boolean;
  youth_signs: boolean;
  /** Skyddade personuppgifter (issue 16 §5): the child's contacts (the youth signer's) shown to no one else. */
  child_protected_identity: Generated<boolean>;
  requested_by_staff_id: string | null;
  requested_by_client_id: string | null;
  /** An encrypted JSON string holding the ObtainedBy object. */
  obtained_by: ColumnType<unknown, string, string>;
  requested_at: Timestamp;
  request_expires_at: Timestamp;
  completed_at: NullableTimestamp;
  valid_from: NullableTimestamp;
  valid_until: NullableTimestamp;
  declined_at: NullableTimestamp;
  declined_by_role: SignerRoleColumn | null;
  cancelled_at: NullableTimestamp;
  withdrawn_at: NullableTimestamp;
  withdrawn_by_role: SignerRoleColumn | null;
  withdrawal_channel: WithdrawalChannel | null;
  withdrawal_date: NullableDateColumn;
  withdrawal_note: string | null;
  ended_at: NullableTimestamp;
  end_date: NullableDateColumn;
  end_note: string | null;
  renewed_from: string | null;
  lapse_handled_at: NullableTimestamp;
  ending_soon_handled_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface ConsentSignerTable {
  consent_id: string;
  role: SignerRoleColumn;
  /** Encrypted, as are personal_number, phone, email, signed_name and decline_reason. */
  name: string;
  personal_number: string;
  /** Blind index of the personal number (Mina samtycken). */
  personal_number_index: string;
  phone: string | null;
  email: string | null;
  /** Skyddade personuppgifter (issue 16 §5): phone and e-mail shown to no one else, never printed. */
  protected_identity: Generated<boolean>;
  signed_at: NullableTimestamp;
  signed_place: string | null;
  signed_name: string | null;
  identity_issuer: string | null;
  identity_acr: string | null;
  identity_auth_time: NullableTimestamp;
  sole_guardian_confirmed: boolean | null;
  document_revision: number | null;
  declined_at: NullableTimestamp;
  decline_reason: string | null;
  last_reminded_at: NullableTimestamp;
}

export interface InvitationTable {
  id: Id;
  consent_id: string;
  role: SignerRoleColumn;
  channel: InvitationChannel;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  used_at: NullableTimestamp;
}

export type DocumentKind = 'form' | 'receipt';

export interface ConsentDocumentTable {
  id: Generated<number>;
  consent_id: string;
  kind: DocumentKind;
  revision: number;
  /** Encrypted (`SENC1…`). */
  pdf: Uint8Array;
  sha256: string;
  created_at: Timestamp;
}

export type AuditActorType = 'staff' | 'signer' | 'api_client' | 'system';

export interface AuditEventTable {
  id: Generated<number>;
  consent_id: string | null;
  at: Timestamp;
  action: string;
  actor_type: AuditActorType;
  actor_id: string | null;
  signer_role: SignerRoleColumn | null;
  organisation_id: string | null;
  identity_issuer: string | null;
  identity_acr: string | null;
  request_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  /** Set by the chain trigger (migrations/2026-12-07T1300-audit-chain.ts), never by the application. */
  chain_seq: ColumnType<number, never, never>;
  prev_hash: ColumnType<Buffer, never, never>;
  hash: ColumnType<Buffer, never, never>;
}

/** One search by child (issue 15 §2): who, when, from where, how many consents shown. Never the number. */
export interface ChildLookupTable {
  id: Generated<number>;
  at: Timestamp;
  actor_type: 'staff' | 'api_client';
  actor_id: string;
  organisation_ids: string[];
  via: 'api' | 'staff_page';
  request_id: string | null;
  found: number;
  /** Set by the chain trigger (migrations/2026-12-07T1300-audit-chain.ts), never by the application. */
  chain_seq: ColumnType<number, never, never>;
  prev_hash: ColumnType<Buffer, never, never>;
  hash: ColumnType<Buffer, never, never>;
}

/** The writers' record of each audit chain's end (bookkeeping for the trigger and the checkpoints). */
export interface AuditChainHeadTable {
  chain: string;
  seq: number;
  hash: Buffer;
  prev: Buffer;
  sealed_seq: number;
}

/** A sealed checkpoint of the audit chains (consents/audit-chain-seal.ts). Append-only. */
export interface AuditCheckpointTable {
  id: number;
  made_at: Timestamp;
  previous_hash: Buffer | null;
  chains: number;
  digest: Buffer;
  statement_hash: Buffer;
  signature: Buffer;
  signature_hash: 'sha256' | 'sha384' | 'sha512';
  certificate: Buffer;
  timestamp_token: Buffer | null;
}

/** One chain's head in a checkpoint. Append-only. */
export interface AuditCheckpointHeadTable {
  checkpoint_id: number;
  chain: string;
  seq: number;
  hash: Buffer;
}

export interface NotificationSentTable {
  consent_id: string;
  kind: string;
  occasion: ColumnType<string, string | undefined, string>;
  recipient: string;
  channel: 'email' | 'sms';
  sent_at: Timestamp;
}

/** What stays of a consent deleted after its retention time (issue 16 §4): nothing that identifies anyone. */
export interface ConsentTombstoneTable {
  consent_id: string;
  deleted_at: Date;
  retention_months: number;
  /** 'YYYY-MM', Swedish calendar month. */
  requested_month: string;
  ended_month: string;
  outcome: 'declined' | 'cancelled' | 'request_expired' | 'withdrawn' | 'ended' | 'expired';
  reason: string;
  area: string;
  municipality: string;
  organisation_id: string;
  organisation_type: OrganisationType;
  team_id: string;
  child_age_group: '0-5' | '6-12' | '13-15' | '16-17';
  child_legal_sex: 'female' | 'male';
}

export interface Database {
  consents: ConsentTable;
  consent_tombstones: ConsentTombstoneTable;
  consent_signers: ConsentSignerTable;
  invitations: InvitationTable;
  consent_documents: ConsentDocumentTable;
  audit_events: AuditEventTable;
  child_lookups: ChildLookupTable;
  audit_chain_heads: AuditChainHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  audit_checkpoint_heads: AuditCheckpointHeadTable;
  notifications_sent: NotificationSentTable;
  idempotency_keys: IdempotencyKeyTable;
  housekeeping_runs: HousekeepingRunTable;
  organisations: OrganisationTable;
  hlt_teams: HltTeamTable;
  team_members: TeamMemberTable;
  staff_users: StaffUserTable;
  staff_memberships: StaffMembershipTable;
  api_clients: ApiClientTable;
  api_client_secrets: ApiClientSecretTable;
  login_attempts: LoginAttemptTable;
  sessions: SessionTable;
}

// Frozen migration: never import application code here.
// Consents, their signers, invitations, the PDF revisions, the append-only audit log and the ledger of
// notifications sent (issue: the consent lifecycle). Status is never stored as truth: it is computed from
// these facts at read time (src/domain/consent.ts statusAt); the columns below are the facts, plus two
// bookkeeping columns for the sweeps (`lapse_handled_at`, `ending_soon_handled_at`).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('consents')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('team_id', 'uuid', (c) => c.notNull().references('hlt_teams.id'))
    .addColumn('template_version', 'text', (c) => c.notNull())
    .addColumn('area', 'text', (c) => c.notNull())
    .addColumn('child_name', 'text', (c) => c.notNull())
    .addColumn('child_personal_number', 'text', (c) => c.notNull())
    .addColumn('child_birth_date', 'date', (c) => c.notNull())
    .addColumn('child_health_centre', 'text')
    .addColumn('child_school', 'text')
    .addColumn('sole_guardian', 'boolean', (c) => c.notNull())
    .addColumn('youth_signs', 'boolean', (c) => c.notNull())
    // Who asked: a staff member, or an API client with a named contact.
    .addColumn('requested_by_staff_id', 'uuid', (c) => c.references('staff_users.id'))
    .addColumn('requested_by_client_id', 'uuid', (c) => c.references('api_clients.id'))
    .addColumn('obtained_by', 'jsonb', (c) => c.notNull())
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('request_expires_at', 'timestamptz', (c) => c.notNull())
    // Stored when the last required signature arrives (validityWindow); valid_until follows a later
    // withdrawal or end.
    .addColumn('completed_at', 'timestamptz')
    .addColumn('valid_from', 'timestamptz')
    .addColumn('valid_until', 'timestamptz')
    .addColumn('declined_at', 'timestamptz')
    .addColumn('declined_by_role', 'text', (c) =>
      c.check(sql`declined_by_role IN ('guardian1', 'guardian2', 'youth')`),
    )
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('withdrawn_at', 'timestamptz')
    .addColumn('withdrawn_by_role', 'text', (c) =>
      c.check(sql`withdrawn_by_role IN ('guardian1', 'guardian2', 'youth')`),
    )
    // 'service': the signer withdrew in the service; the others are registered by staff on their behalf.
    .addColumn('withdrawal_channel', 'text', (c) =>
      c.check(sql`withdrawal_channel IN ('service', 'phone', 'in_person', 'letter')`),
    )
    .addColumn('withdrawal_date', 'date')
    .addColumn('withdrawal_note', 'text')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('end_date', 'date')
    .addColumn('end_note', 'text')
    .addColumn('renewed_from', 'uuid', (c) => c.references('consents.id'))
    .addColumn('lapse_handled_at', 'timestamptz')
    .addColumn('ending_soon_handled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'consents_requested_by_ck',
      sql`(requested_by_staff_id IS NOT NULL) <> (requested_by_client_id IS NOT NULL)`,
    )
    .addCheckConstraint(
      'consents_withdrawal_ck',
      sql`(withdrawn_at IS NULL) = (withdrawn_by_role IS NULL AND withdrawal_channel IS NULL)`,
    )
    .execute();
  // Newest first per organisation or team, keyset-paginated by (requested_at, id).
  await db.schema
    .createIndex('consents_org_requested_idx')
    .on('consents')
    .expression(sql`organisation_id, requested_at DESC, id DESC`)
    .execute();
  await db.schema
    .createIndex('consents_team_requested_idx')
    .on('consents')
    .expression(sql`team_id, requested_at DESC, id DESC`)
    .execute();
  await db.schema.createIndex('consents_child_idx').on('consents').column('child_personal_number').execute();
  await db.schema.createIndex('consents_renewed_from_idx').on('consents').column('renewed_from').execute();
  // Sweeps: open requests (reminders, request expiry) and completed consents not yet handled by time.
  await db.schema
    .createIndex('consents_open_requests_idx')
    .on('consents')
    .column('requested_at')
    .where(
      sql<boolean>`completed_at IS NULL AND declined_at IS NULL AND cancelled_at IS NULL
        AND withdrawn_at IS NULL AND ended_at IS NULL AND lapse_handled_at IS NULL`,
    )
    .execute();
  await db.schema
    .createIndex('consents_in_force_idx')
    .on('consents')
    .column('valid_until')
    .where(
      sql<boolean>`completed_at IS NOT NULL AND withdrawn_at IS NULL AND ended_at IS NULL
        AND lapse_handled_at IS NULL`,
    )
    .execute();

  await db.schema
    .createTable('consent_signers')
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consents.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('guardian1', 'guardian2', 'youth')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('personal_number', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('email', 'text')
    .addColumn('signed_at', 'timestamptz')
    .addColumn('signed_place', 'text')
    // The name the e-identification gave (what the PDF signature carries), and how they identified.
    .addColumn('signed_name', 'text')
    .addColumn('identity_issuer', 'text')
    .addColumn('identity_acr', 'text')
    .addColumn('identity_auth_time', 'timestamptz')
    .addColumn('sole_guardian_confirmed', 'boolean')
    .addColumn('document_revision', 'integer')
    .addColumn('declined_at', 'timestamptz')
    .addColumn('decline_reason', 'text')
    .addColumn('last_reminded_at', 'timestamptz')
    .addPrimaryKeyConstraint('consent_signers_pk', ['consent_id', 'role'])
    .execute();
  // "Mina samtycken": every consent a person is a signer of.
  await db.schema
    .createIndex('consent_signers_pnr_idx')
    .on('consent_signers')
    .column('personal_number')
    .execute();

  // Invitation links /s/{token}: only the token's SHA-256 is stored. One live link per consent, role and
  // channel: the link shown to staff, and the ones sent by e-mail and SMS.
  await db.schema
    .createTable('invitations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('consent_id', 'uuid', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('link', 'email', 'sms')`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('used_at', 'timestamptz')
    .addForeignKeyConstraint(
      'invitations_signer_fk',
      ['consent_id', 'role'],
      'consent_signers',
      ['consent_id', 'role'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('invitations_consent_idx')
    .on('invitations')
    .columns(['consent_id', 'role', 'channel'])
    .execute();

  // Each PDF as stored: the form (revision 0 = rendered, n = after the n-th signature) and the completion
  // receipt. The latest form revision is what the next signature appends to.
  await db.schema
    .createTable('consent_documents')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consents.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('form', 'receipt')`))
    .addColumn('revision', 'integer', (c) => c.notNull().check(sql`revision >= 0`))
    .addColumn('pdf', 'bytea', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull().check(sql`sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('consent_documents_revision_uq', ['consent_id', 'kind', 'revision'])
    .execute();

  // Append-only audit log: who, what, when, how identified, from which organisation. No personal data in
  // `details`. Updates, deletes and truncation are refused by triggers.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('consent_id', 'uuid', (c) => c.references('consents.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) =>
      c.notNull().check(sql`actor_type IN ('staff', 'signer', 'api_client', 'system')`),
    )
    // The staff member's or API client's id; null for signers (see signer_role) and the system.
    .addColumn('actor_id', 'text')
    .addColumn('signer_role', 'text')
    .addColumn('organisation_id', 'uuid')
    .addColumn('identity_issuer', 'text')
    .addColumn('identity_acr', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema
    .createIndex('audit_events_consent_idx')
    .on('audit_events')
    .columns(['consent_id', 'id'])
    .execute();
  await sql`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`.execute(db);

  // One row per message sent. The key makes a second send of the same message impossible, whichever
  // instance or job tries: `occasion` tells repeated kinds apart (the reminder day, a manual reminder's id).
  await db.schema
    .createTable('notifications_sent')
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consents.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('occasion', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('email', 'sms')`))
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('notifications_sent_pk', [
      'consent_id',
      'kind',
      'occasion',
      'recipient',
      'channel',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notifications_sent').execute();
  await db.schema.dropTable('audit_events').execute();
  await sql`DROP FUNCTION audit_events_append_only()`.execute(db);
  await db.schema.dropTable('consent_documents').execute();
  await db.schema.dropTable('invitations').execute();
  await db.schema.dropTable('consent_signers').execute();
  await db.schema.dropTable('consents').execute();
}

// Frozen migration: never import application code here.
// Retention and deletion (gallring, issue 16 §4). Each organisation may set how many months a consent's
// documents and personal data are kept after it ended (null: the service's default, RETENTION_MONTHS).
// When the time is up the consent's rows go (its signers, invitations, documents and sent-notification
// marks with it, by their ON DELETE CASCADE) and a tombstone stays, keyed by the consent's id, with nothing
// that identifies anyone: the months it was requested and ended, where (area, municipality, team,
// organisation and its type), the child's age group and legal sex, and the outcome — for statistics.
// The audit trail stays whole: its rows hold no personal data and keep the consent id, which then names a
// tombstone, so their foreign key to consents goes — replaced by the same check at insert only (a trigger
// that refuses an event for a consent that does not exist, with the foreign key's SQLSTATE 23503, and
// takes the same KEY SHARE lock, so the consent cannot be deleted under an event being written). A
// renewal's link to the consent it renewed is cleared when that one is deleted.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('organisations')
    .addColumn('retention_months', 'integer', (c) => c.check(sql`retention_months BETWEEN 1 AND 120`))
    .execute();

  await db.schema
    .createTable('consent_tombstones')
    .addColumn('consent_id', 'uuid', (c) => c.primaryKey())
    .addColumn('deleted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('retention_months', 'integer', (c) => c.notNull())
    .addColumn('requested_month', 'text', (c) => c.notNull().check(sql`requested_month ~ '^\\d{4}-\\d{2}$'`))
    .addColumn('ended_month', 'text', (c) => c.notNull().check(sql`ended_month ~ '^\\d{4}-\\d{2}$'`))
    .addColumn('outcome', 'text', (c) =>
      c
        .notNull()
        .check(sql`outcome IN ('declined', 'cancelled', 'request_expired', 'withdrawn', 'ended', 'expired')`),
    )
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('area', 'text', (c) => c.notNull())
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('organisation_type', 'text', (c) => c.notNull())
    .addColumn('team_id', 'uuid', (c) => c.notNull().references('hlt_teams.id'))
    .addColumn('child_age_group', 'text', (c) =>
      c.notNull().check(sql`child_age_group IN ('0-5', '6-12', '13-15', '16-17')`),
    )
    .addColumn('child_legal_sex', 'text', (c) =>
      c.notNull().check(sql`child_legal_sex IN ('female', 'male')`),
    )
    .execute();
  await db.schema
    .createIndex('consent_tombstones_statistics_idx')
    .on('consent_tombstones')
    .columns(['organisation_id', 'ended_month'])
    .execute();

  await sql`ALTER TABLE audit_events DROP CONSTRAINT audit_events_consent_id_fkey`.execute(db);
  await sql`
    CREATE FUNCTION audit_events_consent_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.consent_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM consents WHERE id = NEW.consent_id FOR KEY SHARE) THEN
        RAISE EXCEPTION 'audit event for a consent that does not exist'
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_consent_exists BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_consent_exists()`.execute(db);
  await sql`ALTER TABLE consents DROP CONSTRAINT consents_renewed_from_fkey`.execute(db);
  await sql`
    ALTER TABLE consents ADD CONSTRAINT consents_renewed_from_fkey
    FOREIGN KEY (renewed_from) REFERENCES consents(id) ON DELETE SET NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE consents DROP CONSTRAINT consents_renewed_from_fkey`.execute(db);
  await sql`
    ALTER TABLE consents ADD CONSTRAINT consents_renewed_from_fkey
    FOREIGN KEY (renewed_from) REFERENCES consents(id)`.execute(db);
  await sql`DROP TRIGGER audit_events_consent_exists ON audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_consent_exists()`.execute(db);
  // Events of deleted consents have no consent row to point at: NOT VALID keeps them, checks new rows.
  await sql`
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_consent_id_fkey
    FOREIGN KEY (consent_id) REFERENCES consents(id) NOT VALID`.execute(db);
  await db.schema.dropTable('consent_tombstones').execute();
  await db.schema.alterTable('organisations').dropColumn('retention_months').execute();
}

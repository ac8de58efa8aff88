// Frozen migration: never import application code here.
// The look-up log of the search by child (issue 15 §2): one append-only row per search, whether it found a
// consent or not. A miss has no consent to hang an audit event on, and an enumeration is a run of misses,
// so the searches are a log of their own, not `audit_events` rows without a consent: that table's rows
// each belong to a consent's timeline (and are to become per-consent hash chains); this log is one chain
// of its own when that comes. A hit still also leaves a `looked_up_by_child` event on each consent shown.
// Never the number: who (the staff member or API client, and every organisation they acted for), when,
// from where (the API or the staff page), and how many consents were shown. The quota on searches
// (CHILD_LOOKUP_QUOTA) is counted here, by the index on who and when.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('child_lookups')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull().check(sql`actor_type IN ('staff', 'api_client')`))
    // staff_users.id or api_clients.id (no foreign key: the log outlives what it names, as audit_events).
    .addColumn('actor_id', 'uuid', (c) => c.notNull())
    .addColumn('organisation_ids', sql`uuid[]`, (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull().check(sql`via IN ('api', 'staff_page')`))
    .addColumn('request_id', 'text')
    // Consents shown to the caller (0: a miss).
    .addColumn('found', 'integer', (c) => c.notNull().check(sql`found >= 0`))
    .execute();
  await db.schema
    .createIndex('child_lookups_actor_idx')
    .on('child_lookups')
    .columns(['actor_type', 'actor_id', 'at'])
    .execute();
  await sql`
    CREATE FUNCTION child_lookups_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'child_lookups is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER child_lookups_append_only BEFORE UPDATE OR DELETE ON child_lookups
    FOR EACH ROW EXECUTE FUNCTION child_lookups_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER child_lookups_no_truncate BEFORE TRUNCATE ON child_lookups
    FOR EACH STATEMENT EXECUTE FUNCTION child_lookups_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('child_lookups').execute();
  await sql`DROP FUNCTION child_lookups_append_only()`.execute(db);
}

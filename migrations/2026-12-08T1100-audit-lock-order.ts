// Frozen migration: never import application code here.
// The order in which an audit event's insert triggers take their locks. PostgreSQL fires the BEFORE
// INSERT triggers of a row in the order of their names: the chain's (`audit_events_chain`: the chain
// head's row lock) came before the consent check's (`audit_events_consent_exists`: a KEY SHARE lock on the
// consent). So an audit row written beside an act (a status check, written behind its answer) could hold
// the consent's chain head and wait for the consent's row, while the act (a signature) held the consent's
// row under FOR UPDATE and waited for the chain head to write its own event: a deadlock, and PostgreSQL
// aborted one of them (the signature, or the status check's audit row). Measured: one signature in 20
// failed with "deadlock detected" in `npm run bench signing`.
//
// Renamed so that the consent check comes first: a writer waits for the consent's row before it takes the
// chain head, and the act that holds the row takes the head freely. Nothing about the hashes changes.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TRIGGER audit_events_consent_exists ON audit_events
    RENAME TO audit_events_a_consent_exists`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TRIGGER audit_events_a_consent_exists ON audit_events
    RENAME TO audit_events_consent_exists`.execute(db);
}

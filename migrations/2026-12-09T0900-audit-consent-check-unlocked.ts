// Frozen migration: never import application code here.
// An audit event's check that its consent exists (`audit_events_consent_exists`, the foreign key's stand-in
// since retention deletes consents and keeps their events) reads the consent without locking it, and runs
// after the chain trigger.
//
// Why: its KEY SHARE lock wrote a lock mark into the consent's row for every event. A status check writes
// an event, so each look-up dirtied a page of the consents table, and after every checkpoint the first mark
// on each page wrote the whole page to the WAL: measured with status-check audit batches (32 rows, 1,000
// consents among 1M), 50 kB of WAL and 5.2 ms per batch with the lock, 24 kB and 4.8 ms without.
//
// What the lock was for, and what holds it now: an event must not be stored for a consent that retention is
// deleting. Retention writes the consent's deletion event (taking its chain's head, row-locked until it
// commits) before it deletes the consent, in one transaction. An event for that consent written meanwhile
// waits for the chain's head in the chain trigger, which now fires first (triggers fire in the order of
// their names: `audit_events_chain` before `audit_events_consent_exists`); its check then reads with a
// snapshot taken after the wait (READ COMMITTED: each statement of a trigger function takes its own), finds
// the consent gone and refuses it (23503), as before. An event whose check ran before retention took the
// head holds the head itself, so retention's deletion event waits for it and comes after it in the chain.
// The order of migration 2026-12-08T1100 (the check first) was for the lock; without one, the check waits
// for nothing, and an act holding the consent's row (FOR UPDATE) no longer holds up its status checks.
import { type Kysely, sql } from 'kysely';

const checkFunction = (lock: string) =>
  sql.raw(`
    CREATE OR REPLACE FUNCTION audit_events_consent_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.consent_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM consents WHERE id = NEW.consent_id${lock}) THEN
        RAISE EXCEPTION 'audit event for a consent that does not exist'
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NEW;
    END $$`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await checkFunction('').execute(db);
  await sql`ALTER TRIGGER audit_events_a_consent_exists ON audit_events
    RENAME TO audit_events_consent_exists`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TRIGGER audit_events_consent_exists ON audit_events
    RENAME TO audit_events_a_consent_exists`.execute(db);
  await checkFunction(' FOR KEY SHARE').execute(db);
}

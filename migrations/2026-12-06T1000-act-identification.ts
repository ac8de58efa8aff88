// Frozen migration: never import application code here.
// An identification made for one act (issue: works in a real browser, §2). A login attempt started by
// "Signera" or "Återkalla" carries the act it is for: the consent, the role, the act, and for signing the
// SHA-256 of the document revision the signer reviewed and what they entered (place, sole-guardian
// confirmation). It travels here, server-side, never in a URL; the callback completes the act.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('login_attempts').addColumn('act', 'jsonb').execute();
  await db.schema
    .alterTable('login_attempts')
    .addCheckConstraint('login_attempts_act_is_fresh', sql`act IS NULL OR fresh`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('login_attempts').dropConstraint('login_attempts_act_is_fresh').execute();
  await db.schema.alterTable('login_attempts').dropColumn('act').execute();
}

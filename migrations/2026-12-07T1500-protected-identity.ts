// Frozen migration: never import application code here.
// Protected identities (skyddade personuppgifter: sekretessmarkering, skyddad folkbokföring), issue 16 §5.
// A flag per signer (guardians and the youth: the rows that hold a phone and an e-mail) and one for the
// child on the consent (the child is there whether or not the youth signs; the youth's signer row carries
// the same flag). A marked person's phone and e-mail are never printed on the form nor shown to the other
// signers, the team or staff other than the requester; messages go only by the channels they gave.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('consent_signers')
    .addColumn('protected_identity', 'boolean', (c) => c.notNull().defaultTo(sql`false`))
    .execute();
  await db.schema
    .alterTable('consents')
    .addColumn('child_protected_identity', 'boolean', (c) => c.notNull().defaultTo(sql`false`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('consents').dropColumn('child_protected_identity').execute();
  await db.schema.alterTable('consent_signers').dropColumn('protected_identity').execute();
}

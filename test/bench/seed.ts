// Seeding for benchmarks: many consents fast, with set-based SQL (one INSERT … SELECT generate_series per
// table), so a million rows take seconds rather than hours. Fictional data only: the child numbers are
// made-up digit strings, never valid personal numbers; the "PDF" is a tiny placeholder.
// Personal data is stored encrypted (src/db/encrypted-columns.ts), which SQL cannot do (AES-GCM): the
// seeded values are placeholders of an encrypted value's shape and size under a key id 'bench' that no
// key ring holds, and blind indexes of that shape. Nothing on the benchmarked paths (status checks) decrypts
// them; a look-up or page that does would fail on them.
import { sql } from 'kysely';
import type { Db } from '../../src/db/index.ts';

/** Seeded consent number i's id: a valid version-4 uuid made from i (zod's uuid check wants one). */
const idOf = (i: ReturnType<typeof sql>) =>
  sql`overlay(overlay(md5('bench-consent-' || ${i}) placing '4' from 13) placing '8' from 17)::uuid`;
const ID = idOf(sql.ref('i'));
/** A placeholder of an encrypted text's shape (`enc:v1:<key id>:<base64url>`), about its length. */
const sealedLike = (seed: ReturnType<typeof sql>) =>
  sql`'enc:v1:bench:' || md5(${seed}) || md5('x' || ${seed})`;
const indexLike = (seed: ReturnType<typeof sql>) => sql`'bench:' || md5('index' || ${seed})`;
/** Encrypted bytes' header (`SENC1`, the key id) and a tiny body. */
const SEALED_PDF = Buffer.concat([
  Buffer.from('SENC1', 'latin1'),
  Buffer.from([5]),
  Buffer.from('bench'),
  Buffer.alloc(40),
]);

export interface SeedScope {
  organisationId: string;
  teamId: string;
  clientId: string;
}

/** An organisation in a team with an API client (the requester of every seeded consent). */
export async function seedOrganisation(db: Db): Promise<Omit<SeedScope, 'clientId'>> {
  const org = await db
    .insertInto('organisations')
    .values({ name: 'Benchskolan', type: 'school', municipality: 'Benchby kommun', hlt_area: 'Benchby' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const team = await db
    .insertInto('hlt_teams')
    .values({ name: 'HLT-team Bench', hlt_area: 'Benchby', municipality: 'Benchby kommun' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('team_members').values({ team_id: team.id, organisation_id: org.id }).execute();
  return { organisationId: org.id, teamId: team.id };
}

/**
 * Adds `count` consents numbered from `from` (so calls can grow a table: 10k, then 990k more). Two
 * guardians each; nine in ten signed by both (active for a year from their request), the rest pending.
 * Requests are spread over the last 300 days. Each consent gets its signers and form revision 0.
 */
export async function seedConsents(db: Db, scope: SeedScope, from: number, count: number): Promise<void> {
  const to = from + count - 1;
  await db.transaction().execute(async (tx) => {
    await sql`
      INSERT INTO consents (id, organisation_id, team_id, template_version, area, child_name,
        child_personal_number, child_personal_number_index, child_birth_date, sole_guardian, youth_signs, requested_by_client_id,
        obtained_by, requested_at, request_expires_at, completed_at, valid_from, valid_until)
      SELECT
        ${ID}, ${scope.organisationId}::uuid, ${scope.teamId}::uuid, 'bench', 'Benchby',
        ${sealedLike(sql`'child-name' || i`)}, ${sealedLike(sql`'child-number' || i`)},
        ${indexLike(sql`'child' || i`)}, date '2016-01-01' + (i % 2500), false, false,
        ${scope.clientId}::uuid, to_jsonb(${sealedLike(sql`'obtained-by' || i`)}), r.at, r.at + interval '30 days',
        CASE WHEN i % 10 <> 0 THEN r.at + interval '1 hour' END,
        CASE WHEN i % 10 <> 0 THEN r.at + interval '1 hour' END,
        CASE WHEN i % 10 <> 0 THEN r.at + interval '1 hour' + interval '1 year' END
      FROM generate_series(${from}::int, ${to}::int) AS i,
        LATERAL (SELECT now() - (i % 300) * interval '1 day' - (i % 86400) * interval '1 second' AS at) AS r
    `.execute(tx);
    await sql`
      INSERT INTO consent_signers (consent_id, role, name, personal_number, personal_number_index, email,
        signed_at, signed_place)
      SELECT c.id, g.role, ${sealedLike(sql`'name' || i || g.role`)}, ${sealedLike(sql`'number' || i || g.role`)},
        ${indexLike(sql`'signer' || i || g.role`)}, ${sealedLike(sql`'email' || i || g.role`)},
        c.completed_at, CASE WHEN c.completed_at IS NOT NULL THEN 'Benchby' END
      FROM generate_series(${from}::int, ${to}::int) AS i
        JOIN consents c ON c.id = ${ID}
        CROSS JOIN (VALUES ('guardian1', 1), ('guardian2', 2)) AS g(role, n)
    `.execute(tx);
    await sql`
      INSERT INTO consent_documents (consent_id, kind, revision, pdf, sha256, created_at)
      SELECT ${ID}, 'form', 0, ${SEALED_PDF}::bytea,
        repeat('0', 64), now()
      FROM generate_series(${from}::int, ${to}::int) AS i
    `.execute(tx);
  });
  // As a running database would have it: vacuumed (hint bits set, visibility map), with fresh statistics.
  // Without this, autovacuum and first-read hint-bit writes on the new rows fall into the measurement.
  await sql`VACUUM (ANALYZE) consents, consent_signers, consent_documents`.execute(db);
  // And the load's dirty pages written out now, not by the checkpointer during the measurement (the
  // million-row load leaves much WAL behind it). Needs superuser or pg_checkpoint; without, the
  // figures carry that noise.
  await sql`CHECKPOINT`.execute(db).catch(() => {});
}

/** The id of seeded consent number `i`. */
export async function benchConsentIds(db: Db, count: number, max: number): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    SELECT ${idOf(sql`(1 + floor(random() * ${max}))::int`)}::text AS id
    FROM generate_series(1, ${count})
  `.execute(db);
  return rows.rows.map((r) => r.id);
}

// Frozen migration: never import application code here.
// A tamper-evident audit trail (issue 16 §2): every row of `audit_events` and `child_lookups` carries its
// place in a hash chain (`chain_seq`), the hash of the row before it (`prev_hash`) and its own hash
// (`hash` = SHA-256(prev_hash || canonical encoding of the row)). Chains: one per consent
// ('audit_events:<consent id>'), one for events without a consent ('audit_events:none') and one for the
// search-by-child log ('child_lookups').
//
// Concurrent writers: the hash is computed by a BEFORE INSERT trigger in PostgreSQL, never by the
// application. The trigger appends to the chain's row in `audit_chain_heads` with one UPDATE (or the first
// INSERT): the row lock serialises every writer of that chain, on every instance, until its transaction
// ends, and under READ COMMITTED the waiting writer re-reads the head its predecessor committed. A writer
// whose transaction rolls back rolls its head update back with it. Different chains never wait for each
// other. `audit_chain_heads` is bookkeeping, not evidence: the verifier (src/consents/audit-chain-verify.ts)
// recomputes every hash from the rows, and compares them with the sealed checkpoints.
//
// The canonical encoding (src/domain/audit-chain.ts has the same in TypeScript, and a test holds the two
// together): each field as text, null as '~', any other value as '<UTF-8 byte length>:<text>'; the fields
// are a version tag, the place in the chain, then the columns (times as microseconds since 1970, details
// as PostgreSQL's canonical jsonb text).
//
// Checkpoints (`audit_checkpoints`, `audit_checkpoint_heads`): the heads of every chain that grew since
// the previous checkpoint, a digest over them, the hash of the previous checkpoint, signed with the
// service's key and time-stamped. Those three tables refuse updates and deletes, as the logs do.
import { type Kysely, sql } from 'kysely';

const LOGS = ['audit_events', 'child_lookups'] as const;
type Log = (typeof LOGS)[number];
const tagOf = (table: Log) => `${table}/1`;

/** The chain of row `r` (NEW in the trigger). */
const chainOf = (table: Log, r: string) =>
  sql.raw(
    table === 'audit_events'
      ? `'audit_events:' || coalesce(${r}.consent_id::text, 'none')`
      : `'child_lookups'`,
  );

/** The columns of row `r` after its place, encoded: one definition for the trigger and the backfill. */
function body(table: Log, r: string) {
  const columns =
    table === 'audit_events'
      ? [
          'R.id::text',
          'R.consent_id::text',
          'audit_chain_micros(R.at)',
          'R.action',
          'R.actor_type',
          'R.actor_id',
          'R.signer_role',
          'R.organisation_id::text',
          'R.identity_issuer',
          'R.identity_acr',
          'R.request_id',
          'R.details::text',
        ]
      : [
          'R.id::text',
          'audit_chain_micros(R.at)',
          'R.actor_type',
          'R.actor_id::text',
          'R.organisation_ids::text',
          'R.via',
          'R.request_id',
          'R.found::text',
        ];
  const fields = columns.map((c) => `audit_chain_field(${c.replaceAll('R.', `${r}.`)})`);
  return sql.raw(`convert_to(${fields.join(' || ')}, 'UTF8')`);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_chain_heads (
      chain text PRIMARY KEY,
      seq bigint NOT NULL,
      hash bytea NOT NULL,
      prev bytea NOT NULL,
      -- The place of the chain's head in the latest checkpoint (0: never checkpointed).
      sealed_seq bigint NOT NULL DEFAULT 0
    ) WITH (fillfactor = 50)`.execute(db);

  await sql`
    CREATE FUNCTION audit_chain_field(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v END
    $$`.execute(db);
  await sql`
    CREATE FUNCTION audit_chain_micros(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT ((extract(epoch FROM t) * 1000000)::bigint)::text
    $$`.execute(db);
  // Appends one row (its fields after the place, already encoded: body) to a chain; returns its place,
  // the hash before it and its own hash.
  await sql`
    CREATE FUNCTION audit_chain_append(p_chain text, p_tag text, p_body bytea,
      OUT o_seq bigint, OUT o_prev bytea, OUT o_hash bytea) LANGUAGE plpgsql AS $$
    BEGIN
      LOOP
        UPDATE audit_chain_heads AS h
           SET seq = h.seq + 1,
               prev = h.hash,
               hash = sha256(h.hash || convert_to(audit_chain_field(p_tag)
                 || audit_chain_field((h.seq + 1)::text), 'UTF8') || p_body)
         WHERE h.chain = p_chain
        RETURNING h.seq, h.prev, h.hash INTO o_seq, o_prev, o_hash;
        IF FOUND THEN RETURN; END IF;
        INSERT INTO audit_chain_heads AS h (chain, seq, prev, hash)
        VALUES (p_chain, 1, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
          sha256('\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
            || convert_to(audit_chain_field(p_tag) || audit_chain_field('1'), 'UTF8') || p_body))
        ON CONFLICT (chain) DO NOTHING
        RETURNING h.seq, h.prev, h.hash INTO o_seq, o_prev, o_hash;
        IF FOUND THEN RETURN; END IF;
      END LOOP;
    END $$`.execute(db);

  for (const table of LOGS) {
    await sql`ALTER TABLE ${sql.table(table)}
      ADD COLUMN chain_seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea`.execute(db);
    // The encoded columns of a stored row (the backfill below; tests build forgeries with it).
    await sql`
      CREATE FUNCTION ${sql.raw(`${table}_body`)}(r ${sql.raw(table)}) RETURNS bytea LANGUAGE sql STABLE AS $$
        SELECT ${body(table, 'r')}
      $$`.execute(db);
    // The usual case (the chain has a head) in the trigger itself, one UPDATE, and the encoding inline:
    // a third of the cost of calling audit_chain_append and the body function for every row (measured:
    // 20,000 rows in autocommitted batches of 32 over 1,000 chains).
    await sql`
      CREATE FUNCTION ${sql.raw(`${table}_chain`)}() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        k text := ${chainOf(table, 'NEW')};
        b bytea := ${body(table, 'NEW')};
      BEGIN
        UPDATE audit_chain_heads AS h
           SET seq = h.seq + 1,
               prev = h.hash,
               hash = sha256(h.hash || convert_to(audit_chain_field(${sql.lit(tagOf(table))})
                 || audit_chain_field((h.seq + 1)::text), 'UTF8') || b)
         WHERE h.chain = k
        RETURNING h.seq, h.prev, h.hash INTO NEW.chain_seq, NEW.prev_hash, NEW.hash;
        IF NOT FOUND THEN
          SELECT * INTO NEW.chain_seq, NEW.prev_hash, NEW.hash
          FROM audit_chain_append(k, ${sql.lit(tagOf(table))}, b);
        END IF;
        RETURN NEW;
      END $$`.execute(db);
  }

  // Chain the rows already there, in id order (the append-only triggers are off for this one update).
  for (const table of LOGS) {
    await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER ${sql.raw(`${table}_append_only`)}`.execute(db);
    await sql`
      DO $$
      DECLARE r ${sql.raw(table)}; c record;
      BEGIN
        FOR r IN SELECT * FROM ${sql.table(table)} ORDER BY id LOOP
          SELECT * INTO c
          FROM audit_chain_append(${chainOf(table, 'r')}, ${sql.lit(tagOf(table))}, ${sql.raw(`${table}_body`)}(r));
          UPDATE ${sql.table(table)} SET chain_seq = c.o_seq, prev_hash = c.o_prev, hash = c.o_hash
          WHERE id = r.id;
        END LOOP;
      END $$`.execute(db);
    await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER ${sql.raw(`${table}_append_only`)}`.execute(db);
    await sql`ALTER TABLE ${sql.table(table)}
      ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL,
      ALTER COLUMN hash SET NOT NULL`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_chain`)} BEFORE INSERT ON ${sql.table(table)}
      FOR EACH ROW EXECUTE FUNCTION ${sql.raw(`${table}_chain`)}()`.execute(db);
  }

  await sql`
    CREATE TABLE audit_checkpoints (
      id bigint PRIMARY KEY,
      made_at timestamptz NOT NULL,
      -- SHA-256 of the previous checkpoint's sealed statement (null for the first).
      previous_hash bytea,
      chains integer NOT NULL CHECK (chains >= 0),
      digest bytea NOT NULL,
      -- SHA-256 of the sealed statement (src/domain/audit-chain.ts checkpointStatement).
      statement_hash bytea NOT NULL,
      signature bytea NOT NULL,
      signature_hash text NOT NULL CHECK (signature_hash IN ('sha256', 'sha384', 'sha512')),
      -- DER of the certificate of the key that signed.
      certificate bytea NOT NULL,
      -- RFC 3161 token over the signature, where a TSA is configured.
      timestamp_token bytea
    )`.execute(db);
  await sql`CREATE SEQUENCE audit_checkpoints_id_seq OWNED BY audit_checkpoints.id`.execute(db);
  await sql`
    CREATE TABLE audit_checkpoint_heads (
      checkpoint_id bigint NOT NULL REFERENCES audit_checkpoints (id),
      chain text NOT NULL,
      seq bigint NOT NULL CHECK (seq > 0),
      hash bytea NOT NULL,
      PRIMARY KEY (checkpoint_id, chain)
    )`.execute(db);
  await sql`
    CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit checkpoints are append-only';
    END $$`.execute(db);
  for (const table of ['audit_checkpoints', 'audit_checkpoint_heads']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_append_only`)} BEFORE UPDATE OR DELETE ON ${sql.table(table)}
      FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE audit_checkpoint_heads, audit_checkpoints`.execute(db);
  await sql`DROP FUNCTION audit_checkpoints_append_only()`.execute(db);
  for (const table of LOGS) {
    await sql`DROP TRIGGER ${sql.raw(`${table}_chain`)} ON ${sql.table(table)}`.execute(db);
    await sql`DROP FUNCTION ${sql.raw(`${table}_chain`)}()`.execute(db);
    await sql`DROP FUNCTION ${sql.raw(`${table}_body`)}(${sql.raw(table)})`.execute(db);
    await sql`ALTER TABLE ${sql.table(table)}
      DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash`.execute(db);
  }
  await sql`DROP FUNCTION audit_chain_append(text, text, bytea)`.execute(db);
  await sql`DROP FUNCTION audit_chain_micros(timestamptz)`.execute(db);
  await sql`DROP FUNCTION audit_chain_field(text)`.execute(db);
  await sql`DROP TABLE audit_chain_heads`.execute(db);
}

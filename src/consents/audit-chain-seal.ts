// Sealed checkpoints of the audit chains (issue 16 §2). How the chains are made: the migration
// migrations/2026-12-07T1300-audit-chain.ts (a trigger per log links each row to the one before it in its
// chain, serialised per chain by the row lock on the chain's head in `audit_chain_heads`).
//
// A checkpoint records the head (place and hash) of every chain that grew since the one before, a digest
// over those heads and the hash of the previous checkpoint's statement, so the checkpoints are a chain of
// their own. The statement is signed with the service's key (the signing CA's key, the one key material
// the service holds; a plain signature over the statement, verified against the CA certificate stored
// with it) and, where a TSA is configured (app.signing.timestamper: development has an in-process one),
// the signature is time-stamped (RFC 3161). Once sealed, a chain can no longer be rewritten unseen: its
// event at the sealed place must keep the sealed hash, and the chain must still be there.
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import { checkpointStatement, headsDigest, sha256 } from '../domain/audit-chain.ts';
import { importPrivateKey, pemBlocks, signWith } from '../pdf/pki.ts';
import type { Timestamper } from '../pdf/tsa.ts';

/** The key that seals checkpoints: an interface, so that an HSM or a remote service can hold it later. */
export interface CheckpointSealer {
  /** DER of the certificate of the sealing key (stored with each checkpoint). */
  readonly certificate: Uint8Array;
  /** The hash the signature is made with. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const sealers = new Map<string, Promise<CheckpointSealer>>();

/** The service's signing CA key from its PEM files (config.signing), loaded once per process. */
export function checkpointSealer(signing: Pick<Config['signing'], 'caCertFile' | 'caKeyFile'>) {
  const id = `${signing.caCertFile}\n${signing.caKeyFile}`;
  let sealer = sealers.get(id);
  if (!sealer) {
    sealer = (async (): Promise<CheckpointSealer> => {
      const key = importPrivateKey(await readFile(signing.caKeyFile, 'utf8'));
      const certificate = pemBlocks(await readFile(signing.caCertFile, 'utf8'), 'CERTIFICATE')[0];
      if (!certificate) throw new Error('the signing CA certificate file has no certificate');
      return { certificate, hash: key.hash, sign: async (data) => signWith(key, data) };
    })();
    sealer.catch(() => sealers.delete(id));
    sealers.set(id, sealer);
  }
  return sealer;
}

/** 'achk': the advisory lock class of checkpointing (two instances never seal at once). */
const LOCK_CLASS = 0x6163686b;
/** Heads inserted per statement. */
const CHUNK = 5_000;

export interface CheckpointResult {
  /** The new checkpoint's number, or null when no chain grew since the last one. */
  checkpointId: number | null;
  chains: number;
  timestamped: boolean;
}

export interface CheckpointOptions {
  sealer: CheckpointSealer;
  timestamper?: Timestamper | undefined;
  clock: Clock;
}

/** Seals the heads of every chain that grew since the last checkpoint, in one transaction. */
export function makeAuditCheckpoint(db: Db, options: CheckpointOptions): Promise<CheckpointResult> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, 0)`.execute(tx);
    // One statement, one snapshot: each head read is committed together with the row it names.
    const { rows: heads } = await sql<{ chain: string; seq: string; hash: Buffer }>`
      SELECT chain, seq, hash FROM audit_chain_heads WHERE seq > sealed_seq`.execute(tx);
    if (heads.length === 0) return { checkpointId: null, chains: 0, timestamped: false };
    const entries = heads.map((h) => ({ chain: h.chain, seq: Number(h.seq), hash: h.hash }));
    const previous = await tx
      .selectFrom('audit_checkpoints')
      .select('statement_hash')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const { rows: ids } = await sql<{ id: string }>`
      SELECT nextval('audit_checkpoints_id_seq') AS id`.execute(tx);
    const facts = {
      id: Number(ids[0]!.id),
      madeAt: options.clock.now(),
      previousHash: previous?.statement_hash ?? null,
      chains: entries.length,
      digest: headsDigest(entries),
    };
    const statement = checkpointStatement(facts);
    const signature = await options.sealer.sign(statement);
    const token = options.timestamper ? await options.timestamper.timestamp(signature) : null;
    await tx
      .insertInto('audit_checkpoints')
      .values({
        id: facts.id,
        made_at: facts.madeAt,
        previous_hash: facts.previousHash ? Buffer.from(facts.previousHash) : null,
        chains: facts.chains,
        digest: facts.digest,
        statement_hash: sha256(statement),
        signature: Buffer.from(signature),
        signature_hash: options.sealer.hash,
        certificate: Buffer.from(options.sealer.certificate),
        timestamp_token: token ? Buffer.from(token) : null,
      })
      .execute();
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = JSON.stringify(
        entries
          .slice(i, i + CHUNK)
          .map((e) => ({ chain: e.chain, seq: e.seq, hash: e.hash.toString('hex') })),
      );
      await sql`
        INSERT INTO audit_checkpoint_heads (checkpoint_id, chain, seq, hash)
        SELECT ${facts.id}, e.chain, e.seq, decode(e.hash, 'hex')
        FROM json_to_recordset(${chunk}::json) AS e(chain text, seq bigint, hash text)`.execute(tx);
      await sql`
        UPDATE audit_chain_heads h SET sealed_seq = e.seq
        FROM json_to_recordset(${chunk}::json) AS e(chain text, seq bigint, hash text)
        WHERE h.chain = e.chain AND h.sealed_seq < e.seq`.execute(tx);
    }
    return { checkpointId: facts.id, chains: entries.length, timestamped: token !== null };
  });
}

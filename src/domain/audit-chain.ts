// The hash chains of the audit trail (issue 16 §2), as pure functions: the canonical encoding of a row and
// its hash, and the checkpoint statement that is signed. PostgreSQL computes the same encoding when a row
// is inserted (migrations/2026-12-07T1300-audit-chain.ts, `audit_chain_append` and the `*_body`
// functions); the verifier recomputes it here, independently of any function stored in the database. A
// test inserts rows through PostgreSQL and checks that both agree.
//
// Encoding: each field as text; null as '~', any other value as '<UTF-8 byte length>:<text>', so no
// choice of values can make two different rows encode alike. The fields: a version tag naming the log,
// the row's place in its chain, then the columns. hash = SHA-256(previous hash || encoding); the first
// row of a chain follows 32 zero bytes.
import { createHash } from 'node:crypto';

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** The two logs that are chained, and the tag each row's encoding starts with. */
export type ChainedLog = 'audit_events' | 'child_lookups';
export const CHAIN_TAG: Readonly<Record<ChainedLog, string>> = {
  audit_events: 'audit_events/1',
  child_lookups: 'child_lookups/1',
};

/** The chain a row belongs to: one per consent, one for events without a consent, one for the searches. */
export function chainKey(log: ChainedLog, consentId: string | null): string {
  return log === 'child_lookups' ? 'child_lookups' : `audit_events:${consentId ?? 'none'}`;
}

export const encodeField = (value: string | null): string =>
  value === null ? '~' : `${Buffer.byteLength(value, 'utf8')}:${value}`;

/** The hash of a row at place `seq` after `prev`; `fields` are its columns as text, in encoding order. */
export function chainHash(
  prev: Uint8Array,
  log: ChainedLog,
  seq: number | bigint | string,
  fields: readonly (string | null)[],
): Buffer {
  const text = [CHAIN_TAG[log], String(seq), ...fields].map(encodeField).join('');
  return createHash('sha256').update(prev).update(text, 'utf8').digest();
}

/** One chain's head as recorded in a checkpoint. */
export interface ChainHead {
  chain: string;
  seq: number;
  hash: Uint8Array;
}

/** Heads in the order the checkpoint digest takes them (by chain key, in code-unit order). */
export const sortHeads = <T extends ChainHead>(heads: readonly T[]): T[] =>
  [...heads].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));

/** SHA-256 over the heads of a checkpoint, each encoded as the rows are (chain, place, hash in hex). */
export function headsDigest(heads: readonly ChainHead[]): Buffer {
  const hash = createHash('sha256');
  for (const h of sortHeads(heads))
    hash.update(
      [h.chain, String(h.seq), Buffer.from(h.hash).toString('hex')].map(encodeField).join(''),
      'utf8',
    );
  return hash.digest();
}

export interface CheckpointFacts {
  id: number;
  madeAt: Date;
  /** SHA-256 of the previous checkpoint's statement; null for the first. */
  previousHash: Uint8Array | null;
  chains: number;
  digest: Uint8Array;
}

/** The text a checkpoint's signature covers. */
export function checkpointStatement(c: CheckpointFacts): Buffer {
  return Buffer.from(
    [
      'samtycke audit checkpoint v1',
      `checkpoint: ${c.id}`,
      `made: ${c.madeAt.toISOString()}`,
      `previous: ${c.previousHash ? Buffer.from(c.previousHash).toString('hex') : 'none'}`,
      `chains: ${c.chains}`,
      `digest: ${Buffer.from(c.digest).toString('hex')}`,
      '',
    ].join('\n'),
    'utf8',
  );
}

export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

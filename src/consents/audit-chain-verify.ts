// The check of the tamper-evident audit trail (issue 16 §2; `npm run audit -- verify`). Recomputes every
// hash of every chain from the rows themselves (src/domain/audit-chain.ts: in TypeScript, not with the
// functions stored in the database, which a tamperer could replace), walks each chain
// (src/domain/audit-chain-check.ts), compares its end with the writers' record and with the newest sealed
// checkpoint that names it, and checks every checkpoint's seal: the signature over its statement, the key
// that made it, its time stamp, its digest over its heads and its link to the checkpoint before it.
// Findings carry event ids, places and checkpoint numbers only, never personal data.
import { sql } from 'kysely';
import type { Db } from '../db/index.ts';
import { type ChainRow, checkChain, type Finding } from '../domain/audit-chain-check.ts';
import {
  type ChainedLog,
  chainKey,
  checkpointStatement,
  headsDigest,
  sha256,
} from '../domain/audit-chain.ts';
import { verifyWithKey } from '../pdf/cms.ts';
import { certificateSpki, parseCertificate } from '../pdf/pki.ts';
import type { Trust } from '../pdf/trust.ts';
import { checkTimestampToken } from '../pdf/tsa.ts';

export interface VerifyAuditOptions {
  /** DER certificates of keys the service seals with (the configured signing CA). */
  sealingCertificates: readonly Uint8Array[];
  /** Anchors another sealing certificate must chain to (an earlier CA), with `chain` as intermediates. */
  trust?: Trust | undefined;
  chain?: readonly Uint8Array[] | undefined;
  /** Anchors of the time-stamping authorities. */
  tsaTrust?: Trust | undefined;
  /** Events read per query (default 5,000). */
  pageSize?: number | undefined;
}

export interface AuditVerification {
  findings: Finding[];
  events: number;
  chains: number;
  checkpoints: number;
}

type Sealed = { seq: number; hash: Buffer; checkpointId: number };
type Head = { seq: number; hash: Buffer };

const PAGE = 5_000;

interface RawRow {
  id: string;
  seq: number;
  prev_hash: Buffer;
  hash: Buffer;
  fields: (string | null)[];
}

// The columns of each log as text, in encoding order (the same casts as the migration's `*_body`).
const AT = (column: string) => sql.raw(`((extract(epoch FROM ${column}) * 1000000)::bigint)::text`);
const EVENT_FIELDS = sql`json_build_array(id::text, consent_id::text, ${AT('at')}, action, actor_type,
  actor_id, signer_role, organisation_id::text, identity_issuer, identity_acr, request_id, details::text)`;
const LOOKUP_FIELDS = sql`json_build_array(id::text, ${AT('at')}, actor_type, actor_id::text,
  organisation_ids::text, via, request_id, found::text)`;

const toChainRow = (r: RawRow): ChainRow => ({
  id: r.id,
  seq: Number(r.seq),
  prevHash: r.prev_hash,
  hash: r.hash,
  fields: r.fields,
});

/** The audit events, a chain at a time: by consent (the index on consent and id), then those without. */
async function* eventChains(db: Db, pageSize: number): AsyncGenerator<{ chain: string; rows: ChainRow[] }> {
  let after = null as { consent: string; id: string } | null;
  let current: { chain: string; rows: ChainRow[] } | null = null;
  for (;;) {
    const cursor = after;
    const { rows } = await sql<RawRow & { consent_id: string }>`
      SELECT id::text AS id, chain_seq AS seq, prev_hash, hash, consent_id::text AS consent_id,
        ${EVENT_FIELDS} AS fields
      FROM audit_events
      WHERE consent_id IS NOT NULL
        ${cursor ? sql`AND (consent_id, id) > (${cursor.consent}::uuid, ${cursor.id}::bigint)` : sql``}
      -- The columns, not the text aliases of the same names.
      ORDER BY audit_events.consent_id, audit_events.id LIMIT ${pageSize}`.execute(db);
    for (const r of rows) {
      const chain = chainKey('audit_events', r.consent_id);
      if (current && current.chain !== chain) yield current;
      if (!current || current.chain !== chain) current = { chain, rows: [] };
      current.rows.push(toChainRow(r));
    }
    const last = rows[rows.length - 1];
    if (!last) break;
    after = { consent: last.consent_id, id: last.id };
  }
  if (current) yield current;
  const withoutConsent = await sql<RawRow>`
    SELECT id::text AS id, chain_seq AS seq, prev_hash, hash, ${EVENT_FIELDS} AS fields
    FROM audit_events WHERE consent_id IS NULL ORDER BY audit_events.id`.execute(db);
  if (withoutConsent.rows.length)
    yield { chain: chainKey('audit_events', null), rows: withoutConsent.rows.map(toChainRow) };
}

async function lookupChain(db: Db): Promise<ChainRow[]> {
  const { rows } = await sql<RawRow>`
    SELECT id::text AS id, chain_seq AS seq, prev_hash, hash, ${LOOKUP_FIELDS} AS fields
    FROM child_lookups ORDER BY child_lookups.id`.execute(db);
  return rows.map(toChainRow);
}

const logOf = (chain: string): ChainedLog => (chain === 'child_lookups' ? 'child_lookups' : 'audit_events');

/** Checks every checkpoint's seal and link; returns the newest sealed head of each chain. */
async function checkCheckpoints(
  db: Db,
  options: VerifyAuditOptions,
  findings: Finding[],
): Promise<{ sealed: Map<string, Sealed>; count: number }> {
  const sealed = new Map<string, Sealed>();
  const checkpoints = await db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
  const known = options.sealingCertificates.map((c) => Buffer.from(c));
  let previous: Buffer | null = null;
  for (const c of checkpoints) {
    const problem = (message: string) =>
      findings.push({ kind: 'seal_invalid', message: `checkpoint ${c.id}: ${message}` });
    const heads = await db
      .selectFrom('audit_checkpoint_heads')
      .select(['chain', 'seq', 'hash'])
      .where('checkpoint_id', '=', c.id)
      .execute();
    const statement = checkpointStatement({
      id: Number(c.id),
      madeAt: c.made_at,
      previousHash: c.previous_hash,
      chains: c.chains,
      digest: c.digest,
    });
    if (!sha256(statement).equals(c.statement_hash)) problem('its statement was changed after it was sealed');
    if (heads.length !== c.chains || !headsDigest(heads).equals(c.digest))
      problem('its chain heads were changed after it was sealed');
    if (
      !verifyWithKey(
        certificateSpki(parseCertificate(c.certificate)),
        c.signature_hash,
        statement,
        c.signature,
      )
    )
      problem('its signature does not verify');
    else if (!known.some((k) => k.equals(c.certificate))) {
      const chain = options.trust
        ? await options.trust.validate(parseCertificate(c.certificate), options.chain ?? [], c.made_at)
        : undefined;
      if (!chain?.valid) problem('it is signed by a key that is not the service’s');
    }
    if (c.timestamp_token) {
      const stamp = await checkTimestampToken(c.timestamp_token, c.signature, options.tsaTrust);
      if (!stamp.imprintValid || !stamp.signatureValid)
        problem('its time stamp does not cover its signature');
      else if (stamp.trusted === false) problem('its time stamp is from an authority that is not trusted');
    }
    const linked = previous === null ? c.previous_hash === null : !!c.previous_hash?.equals(previous);
    if (!linked)
      findings.push({
        kind: 'checkpoint_missing',
        message: `checkpoint ${c.id} does not follow the checkpoint before it (a checkpoint was removed or changed)`,
      });
    previous = c.statement_hash;
    for (const h of heads)
      sealed.set(h.chain, { seq: Number(h.seq), hash: h.hash, checkpointId: Number(c.id) });
  }
  return { sealed, count: checkpoints.length };
}

export async function verifyAuditTrail(db: Db, options: VerifyAuditOptions): Promise<AuditVerification> {
  const findings: Finding[] = [];
  const { sealed, count } = await checkCheckpoints(db, options, findings);
  const heads = new Map<string, Head>(
    (await db.selectFrom('audit_chain_heads').select(['chain', 'seq', 'hash']).execute()).map((h) => [
      h.chain,
      { seq: Number(h.seq), hash: h.hash },
    ]),
  );
  const seen = new Set<string>();
  let events = 0;
  const check = (chain: string, rows: ChainRow[]) => {
    seen.add(chain);
    events += rows.length;
    findings.push(
      ...checkChain({ log: logOf(chain), chain, rows, head: heads.get(chain), sealed: sealed.get(chain) }),
    );
  };
  for await (const { chain, rows } of eventChains(db, options.pageSize ?? PAGE)) check(chain, rows);
  const lookups = await lookupChain(db);
  if (lookups.length) check('child_lookups', lookups);
  // Chains the heads or a checkpoint know of, with no row left.
  for (const chain of new Set([...heads.keys(), ...sealed.keys()])) if (!seen.has(chain)) check(chain, []);
  return { findings, events, chains: seen.size, checkpoints: count };
}

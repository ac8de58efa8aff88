// The audit trail: one append-only row per act (the table refuses updates and deletes), each linked into
// its consent's hash chain by a trigger in PostgreSQL as it is inserted (tamper evidence, issue 16 §2:
// migrations/2026-12-07T1300-audit-chain.ts; sealed checkpoints in audit-chain-seal.ts, the check in
// audit-chain-verify.ts). Nothing here computes a hash: every writer, one row or a batch, in a
// transaction or behind the answer, gets the same chaining, serialised per chain by the database. Who (staff
// member, signer role, API client, the system), what, when, how the signer identified (issuer, acr),
// from which organisation, and the HTTP request id. `details` never holds personal data: only ids,
// roles, codes, dates and counts — a guard refuses anything shaped like a personal number or an e-mail.
import { type Selectable, sql } from 'kysely';
import { Batcher, BatchItemError, compiledOnce, perOwner } from '../db/batch.ts';
import type { Db, DbOrTx } from '../db/index.ts';
import { WriteBehind } from '../db/write-behind.ts';
import type { AuditActorType, AuditEventTable, SignerRoleColumn } from '../db/schema.ts';
import { maskPersonalData } from '../domain/personal-data.ts';
import type { Actor } from './context.ts';

export const AUDIT_ACTIONS = [
  'consent_requested',
  'consent_renewed',
  'signed',
  'completed',
  'declined',
  'withdrawn',
  'ended',
  'cancelled',
  'reminded',
  'request_expired',
  'expired',
  'wrong_person',
  'notification_sent',
  'status_checked',
  'looked_up_by_child',
  'document_downloaded',
  /** A staff member or system opened the consent's details (the guardians' access log, issue 16 §3). */
  'consent_viewed',
  /** Retention (issue 16 §4): the consent's documents and personal data deleted; a tombstone stays. */
  'personal_data_deleted',
  'protected_identity_marked', // staff marked a person's skyddade personuppgifter afterwards (issue 16 §5)
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

type DetailValue = string | number | boolean | null | readonly (string | number | boolean)[];
export type AuditDetails = Readonly<Record<string, DetailValue>>;

export interface AuditEventInput {
  consentId: string | null;
  action: AuditAction;
  actor: Actor;
  at: Date;
  requestId?: string | undefined;
  details?: AuditDetails;
}

export interface AuditEvent {
  id: number;
  consentId: string | null;
  at: Date;
  action: string;
  actor: {
    type: AuditActorType;
    /** Staff member's or API client's id. */
    id: string | null;
    role: SignerRoleColumn | null;
    organisationId: string | null;
    issuer: string | null;
    acr: string | null;
  };
  requestId: string | null;
  details: Record<string, unknown>;
}

// Ids and hashes are fine as they are (a random uuid can contain a run of digits shaped like a number).
const OPAQUE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64})$/i;

/** Refuses details that could carry personal data (a programming error, never the caller's). */
function checkDetails(details: AuditDetails): void {
  for (const [key, value] of Object.entries(details)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' || OPAQUE.test(v)) continue;
      if (v.length > 100 || maskPersonalData(v) !== v)
        throw new Error(`audit detail ${key} looks like personal data or free text`);
    }
  }
}

/** One row of `audit_events` as plain data (`at` as ISO text, `details` still an object). */
type AuditRecord = Omit<
  Selectable<AuditEventTable>,
  'id' | 'at' | 'details' | 'chain_seq' | 'prev_hash' | 'hash'
> & {
  at: string;
  details: AuditDetails;
};

function auditRecord(event: AuditEventInput): AuditRecord {
  const details = event.details ?? {};
  checkDetails(details);
  const { actor } = event;
  return {
    consent_id: event.consentId,
    at: event.at.toISOString(),
    action: event.action,
    actor_type: actor.type,
    actor_id: actor.type === 'staff' ? actor.staffId : actor.type === 'api_client' ? actor.clientId : null,
    signer_role: actor.type === 'signer' ? actor.role : null,
    organisation_id: actor.type === 'staff' || actor.type === 'api_client' ? actor.organisationId : null,
    identity_issuer: actor.type === 'signer' ? actor.identity.issuer : null,
    identity_acr: actor.type === 'signer' ? (actor.identity.acr ?? null) : null,
    request_id: event.requestId ?? null,
    details,
  };
}

const insertOne = (db: DbOrTx, record: AuditRecord) =>
  db
    .insertInto('audit_events')
    .values({ ...record, details: JSON.stringify(record.details) })
    .execute();

/**
 * Many rows, one statement with a fixed text and one parameter: the rows as a JSON array (one
 * JSON.stringify in Node and one parse in PostgreSQL, far cheaper than a text array per column). Sorted
 * by consent: the chain trigger locks each consent's chain head in the order the rows come, so two
 * batches under way at once always lock in the same order and never deadlock.
 */
const insertManyQuery = compiledOnce(
  (db: Db, records: string) =>
    db
      .insertInto('audit_events')
      .columns([
        'consent_id',
        'at',
        'action',
        'actor_type',
        'actor_id',
        'signer_role',
        'organisation_id',
        'identity_issuer',
        'identity_acr',
        'request_id',
        'details',
      ])
      .expression(
        sql`SELECT * FROM json_to_recordset(${records}::json) AS r(consent_id uuid, at timestamptz,
          action text, actor_type text, actor_id text, signer_role text, organisation_id uuid,
          identity_issuer text, identity_acr text, request_id text, details jsonb)
          ORDER BY consent_id`,
      ),
  [''],
);

/**
 * The rows of one turn's look-ups (status checks, downloads), in one INSERT and one commit. If that fails,
 * each row is tried alone, so one bad row fails only its own caller.
 */
async function insertAuditRecords(db: Db, records: readonly AuditRecord[]) {
  try {
    await insertManyQuery(db, JSON.stringify(records));
    return records.map(() => undefined);
  } catch (error) {
    if (records.length === 1) throw error;
    return Promise.all(
      records.map((record) =>
        insertOne(db, record).then(
          () => undefined,
          (e: unknown) => new BatchItemError(e),
        ),
      ),
    );
  }
}

const auditWrites = perOwner(
  (db: Db) => new Batcher((records: readonly AuditRecord[]) => insertAuditRecords(db, records)),
);

/**
 * Appends one event. Inside a transaction it is part of that transaction; outside one (a look-up that
 * changes nothing else) it is written with the other look-ups of the same turn, and this resolves once it
 * is committed: the answer is never given before its audit row is stored.
 */
export async function appendAuditEvent(db: DbOrTx, event: AuditEventInput): Promise<void> {
  const record = auditRecord(event);
  if (db.isTransaction) await insertOne(db, record);
  else await auditWrites(db as Db).load(record);
}

const writesBehind = perOwner(
  (db: Db) =>
    new WriteBehind<AuditRecord>(db, {
      name: 'audit_events',
      statement: (records) => insertManyQuery.compile(db, JSON.stringify(records)),
    }),
);

/**
 * Appends the event of a look-up whose answer carries no personal data (a status check by id), behind the
 * answer: this resolves once the row is sent to PostgreSQL, which then commits it even if this process
 * dies, and does not wait for the commit (db/write-behind.ts). Look-ups that reveal personal data (by
 * child, downloads) use `appendAuditEvent`, whose answer waits for the commit. `listAuditEvents` and a
 * graceful shutdown wait for the rows still on their way.
 */
export async function appendAuditEventBehind(db: Db, event: AuditEventInput): Promise<void> {
  await writesBehind(db).write(auditRecord(event));
}

/** The consent's timeline, oldest first, with every look-up this instance has already answered. */
export async function listAuditEvents(db: DbOrTx, consentId: string): Promise<AuditEvent[]> {
  if (!db.isTransaction) await writesBehind(db as Db).settled();
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('consent_id', '=', consentId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    consentId: r.consent_id,
    at: r.at,
    action: r.action,
    actor: {
      type: r.actor_type,
      id: r.actor_id,
      role: r.signer_role,
      organisationId: r.organisation_id,
      issuer: r.identity_issuer,
      acr: r.identity_acr,
    },
    requestId: r.request_id,
    details: r.details,
  }));
}

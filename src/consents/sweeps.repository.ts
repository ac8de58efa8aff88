// The sweeps' reads over consents (src/jobs/consent-reminders.ts, consent-time-events.ts) and the
// handled-at marks their item use cases set. Every read is one bounded batch in keyset order (a time
// column, then the id), resumed after the last row of the batch before.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Database, DbOrTx } from '../db/index.ts';
import type { SignerRole } from '../domain/roles.ts';
import { TIME_ZONE } from '../domain/dates.ts';

/** Where a batch resumes: after this time and id. */
export interface SweepCursor {
  at: Date;
  id: string;
}

/** Open by its facts: not completed, declined, cancelled, withdrawn, ended, nor already handled by time. */
const openRequest = (eb: ExpressionBuilder<Database, 'consents'>): Expression<SqlBool> =>
  eb.and([
    eb('completed_at', 'is', null),
    eb('declined_at', 'is', null),
    eb('cancelled_at', 'is', null),
    eb('withdrawn_at', 'is', null),
    eb('ended_at', 'is', null),
    eb('lapse_handled_at', 'is', null),
  ]);

/** 00:00 Stockholm time on the child's 18th birthday (PostgreSQL clamps 29 February as addYears does). */
const adulthood = sql<Date>`((child_birth_date + interval '18 years')::timestamp AT TIME ZONE ${sql.lit(TIME_ZONE)})`;

const after = (cursor: SweepCursor | undefined, column: 'requested_at' | 'valid_until') =>
  cursor
    ? sql<SqlBool>`(${sql.ref(column)}, id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
    : sql<SqlBool>`true`;

/** One batch of open requests that also meet `where`, in keyset order of the request time. */
async function openRequests(
  db: DbOrTx,
  where: (eb: ExpressionBuilder<Database, 'consents'>) => Expression<SqlBool>,
  cursor: SweepCursor | undefined,
  limit: number,
): Promise<{ id: string; requestedAt: Date }[]> {
  const rows = await db
    .selectFrom('consents')
    .select(['id', 'requested_at'])
    .where(openRequest)
    .where(where)
    .where(after(cursor, 'requested_at'))
    .orderBy('requested_at', 'asc')
    .orderBy('id', 'asc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, requestedAt: r.requested_at }));
}

/** Open requests made at or before `requestedBefore` that can still be answered at `now`. */
export const findOpenRequestsToRemind = (
  db: DbOrTx,
  q: { requestedBefore: Date; now: Date; after: SweepCursor | undefined; limit: number },
) =>
  openRequests(
    db,
    (eb) =>
      eb.and([
        eb('requested_at', '<=', q.requestedBefore),
        eb('request_expires_at', '>', q.now),
        eb(adulthood, '>', q.now),
      ]),
    q.after,
    q.limit,
  );

/** Open requests whose request lifetime passed, or whose child turned 18, by `now`. */
export const findLapsedRequests = (
  db: DbOrTx,
  q: { now: Date; after: SweepCursor | undefined; limit: number },
) =>
  openRequests(
    db,
    (eb) => eb.or([eb('request_expires_at', '<=', q.now), eb(adulthood, '<=', q.now)]),
    q.after,
    q.limit,
  );

export interface SweptSigner {
  consentId: string;
  role: SignerRole;
  email: string | null;
  phone: string | null;
  signedAt: Date | null;
  declinedAt: Date | null;
  lastRemindedAt: Date | null;
}

/** The signers of the given consents, with what a reminder sweep needs to know of them. */
export async function listSignersOfConsents(
  db: DbOrTx,
  consentIds: readonly string[],
): Promise<SweptSigner[]> {
  if (consentIds.length === 0) return [];
  const rows = await db
    .selectFrom('consent_signers')
    .select(['consent_id', 'role', 'phone', 'email', 'signed_at', 'declined_at', 'last_reminded_at'])
    .where('consent_id', 'in', consentIds)
    .execute();
  return rows.map((r) => ({
    consentId: r.consent_id,
    role: r.role,
    email: r.email,
    phone: r.phone,
    signedAt: r.signed_at,
    declinedAt: r.declined_at,
    lastRemindedAt: r.last_reminded_at,
  }));
}

/** In force by the facts (signed by all, not withdrawn, ended or handled by time), valid until before `before`. */
export async function findInForceValidUntilBefore(
  db: DbOrTx,
  q: { before: Date; after: SweepCursor | undefined; limit: number },
): Promise<{ id: string; validUntil: Date; endingSoonHandledAt: Date | null }[]> {
  const rows = await db
    .selectFrom('consents')
    .select(['id', 'valid_until', 'ending_soon_handled_at'])
    .where('completed_at', 'is not', null)
    .where('withdrawn_at', 'is', null)
    .where('ended_at', 'is', null)
    .where('lapse_handled_at', 'is', null)
    .where('valid_until', '<', q.before)
    .where(after(q.after, 'valid_until'))
    .orderBy('valid_until', 'asc')
    .orderBy('id', 'asc')
    .limit(q.limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    validUntil: r.valid_until!,
    endingSoonHandledAt: r.ending_soon_handled_at,
  }));
}

/** The lapse or expiry is recorded and told: the sweeps pass the consent by from now on. */
export async function markLapseHandled(tx: DbOrTx, consentId: string, at: Date): Promise<void> {
  await tx.updateTable('consents').set({ lapse_handled_at: at }).where('id', '=', consentId).execute();
}

/** The ending-soon notice is queued: once per consent. */
export async function markEndingSoonHandled(tx: DbOrTx, consentId: string, at: Date): Promise<void> {
  await tx.updateTable('consents').set({ ending_soon_handled_at: at }).where('id', '=', consentId).execute();
}

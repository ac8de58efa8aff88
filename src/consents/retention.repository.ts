// The retention job's reads and writes (issue 16 §4): the consents that may be due for deletion, their
// tombstones, and the deletion itself (the consent's signers, invitations, documents and sent-notification
// marks go with it by ON DELETE CASCADE; its audit events stay). An organisation's retention time is read
// and set with the organisation (identity/organisations.ts).
import { type Insertable, sql } from 'kysely';
import type { DbOrTx } from '../db/index.ts';
import type { ConsentTombstoneTable, OrganisationType } from '../db/schema.ts';
import { TIME_ZONE } from '../domain/dates.ts';

export interface RetentionCandidate {
  id: string;
  organisationId: string;
  organisationType: OrganisationType;
  municipality: string;
  /** The organisation's retention time, or the default. */
  retentionMonths: number;
  /** The earliest instant the consent can have ended (the keyset the candidates are read in). */
  earliestEnd: Date;
}

/**
 * The earliest instant a consent can have ended: no end it has (declined, cancelled, withdrawn, ended,
 * expired by time or by the child's 18th birthday, or a lapsed request) is before it. A SQL pre-filter;
 * `statusAt` decides exactly when the consent ended.
 */
const earliestEnd = sql<Date>`LEAST(
  c.declined_at, c.cancelled_at, c.withdrawn_at, c.ended_at, c.valid_until,
  CASE WHEN c.completed_at IS NULL THEN c.request_expires_at END,
  ((c.child_birth_date + interval '18 years')::timestamp AT TIME ZONE ${sql.lit(TIME_ZONE)})
)`;

/**
 * Consents that may be due: the earliest possible end more than their organisation's retention time
 * before `now` (with two days to spare for month and time-zone arithmetic; the caller decides each one).
 * In keyset order of that end, after `after`. With `lock`, the rows are locked and rows another instance
 * holds are skipped: two instances never delete the same consent.
 */
export async function findRetentionCandidates(
  db: DbOrTx,
  q: {
    now: Date;
    defaultMonths: number;
    limit: number;
    after?: { at: Date; id: string } | undefined;
    lock?: boolean;
  },
): Promise<RetentionCandidate[]> {
  const after = q.after
    ? sql`AND (${earliestEnd}, c.id) > (${q.after.at}::timestamptz, ${q.after.id}::uuid)`
    : sql``;
  const rows = await sql<{
    id: string;
    organisation_id: string;
    organisation_type: OrganisationType;
    municipality: string;
    retention_months: number;
    earliest_end: Date;
  }>`
    SELECT c.id, c.organisation_id, o.type AS organisation_type, o.municipality,
      COALESCE(o.retention_months, ${q.defaultMonths})::int AS retention_months,
      ${earliestEnd} AS earliest_end
    FROM consents c JOIN organisations o ON o.id = c.organisation_id
    WHERE ${earliestEnd} < ${q.now}::timestamptz
      - make_interval(months => COALESCE(o.retention_months, ${q.defaultMonths})) + interval '2 days'
      ${after}
    ORDER BY earliest_end, c.id
    LIMIT ${q.limit}
    ${q.lock ? sql`FOR UPDATE OF c SKIP LOCKED` : sql``}
  `.execute(db);
  return rows.rows.map((r) => ({
    id: r.id,
    organisationId: r.organisation_id,
    organisationType: r.organisation_type,
    municipality: r.municipality,
    retentionMonths: r.retention_months,
    earliestEnd: new Date(r.earliest_end),
  }));
}

/** Stores the tombstone and deletes the consent with everything that hangs on it (not its audit events). */
export async function replaceWithTombstone(
  tx: DbOrTx,
  tombstone: Insertable<ConsentTombstoneTable>,
): Promise<void> {
  await tx.insertInto('consent_tombstones').values(tombstone).execute();
  await tx.deleteFrom('consents').where('id', '=', tombstone.consent_id).execute();
}

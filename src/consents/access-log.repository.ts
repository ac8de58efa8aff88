// The guardians' access log (issue 16 §3): who outside the family has read a consent, from its audit
// trail. Staff members and API clients only (signers' own acts and the service's are not "who read it"),
// and only the acts that read: opened, downloaded, checked the status, found it by the child's number.
// Counted per Swedish day, actor and kind of act in SQL, so a consent a system checks thousands of times
// gives a row per day, never thousands of rows to Node. Names come from the directory tables; the audit
// rows keep only ids (and outlive what they name: an unknown id gives a null name).
import { sql } from 'kysely';
import type { DbOrTx } from '../db/index.ts';
import { TIME_ZONE } from '../domain/dates.ts';

/** The acts that read a consent, as the log groups them. */
export const ACCESS_KINDS = [
  'consent_viewed',
  'status_checked',
  'form_downloaded',
  'unsigned_form_downloaded',
  'receipt_downloaded',
  'looked_up_by_child',
] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

/** The audit actions that are reads (audit.repository.ts AUDIT_ACTIONS). */
const READ_ACTIONS = ['consent_viewed', 'status_checked', 'document_downloaded', 'looked_up_by_child'];

export interface AccessGroupRow {
  /** The Swedish local day, YYYY-MM-DD. */
  day: string;
  kind: string;
  actorType: 'staff' | 'api_client';
  staffName: string | null;
  staffTitle: string | null;
  clientName: string | null;
  organisationName: string | null;
  count: number;
  firstAt: Date;
  lastAt: Date;
}

interface RawRow {
  day: string;
  kind: string;
  actor_type: 'staff' | 'api_client';
  staff_name: string | null;
  staff_title: string | null;
  client_name: string | null;
  organisation_name: string | null;
  count: number;
  first_at: Date | string;
  last_at: Date | string;
  groups: string | number;
}

/**
 * One page of the consent's reads, grouped per (local day, kind, actor, organisation), newest day first
 * and within a day the latest act first; and how many groups there are in all.
 */
export async function accessLogGroups(
  db: DbOrTx,
  consentId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: AccessGroupRow[]; total: number }> {
  // A page view that showed only the status (another organisation of the team, a consent not in force)
  // is a status check; a form downloaded before anyone signed is not "the signed document".
  const result = await sql<RawRow>`
    WITH reads AS (
      SELECT
        to_char((e.at AT TIME ZONE ${TIME_ZONE})::date, 'YYYY-MM-DD') AS day,
        CASE
          WHEN e.action = 'consent_viewed' AND e.details->>'scope' = 'status' THEN 'status_checked'
          WHEN e.action = 'document_downloaded' AND e.details->>'kind' = 'receipt' THEN 'receipt_downloaded'
          WHEN e.action = 'document_downloaded' AND e.details->>'revision' = '0'
            THEN 'unsigned_form_downloaded'
          WHEN e.action = 'document_downloaded' THEN 'form_downloaded'
          ELSE e.action
        END AS kind,
        e.actor_type,
        e.actor_id,
        e.organisation_id,
        e.at
      FROM audit_events e
      WHERE e.consent_id = ${consentId}::uuid
        AND e.actor_type IN ('staff', 'api_client')
        AND e.action IN (${sql.join(READ_ACTIONS)})
    ),
    groups AS (
      SELECT day, kind, actor_type, actor_id, organisation_id,
        count(*)::int AS count, min(at) AS first_at, max(at) AS last_at
      FROM reads
      GROUP BY day, kind, actor_type, actor_id, organisation_id
    )
    SELECT g.day, g.kind, g.actor_type, g.count, g.first_at, g.last_at,
      s.name AS staff_name, s.title AS staff_title, c.name AS client_name, o.name AS organisation_name,
      count(*) OVER () AS groups
    FROM groups g
    LEFT JOIN staff_users s ON g.actor_type = 'staff' AND s.id::text = g.actor_id
    LEFT JOIN api_clients c ON g.actor_type = 'api_client' AND c.id::text = g.actor_id
    LEFT JOIN organisations o ON o.id = g.organisation_id
    ORDER BY g.day DESC, g.last_at DESC, g.kind, g.actor_type, g.actor_id, g.organisation_id
    LIMIT ${page.limit} OFFSET ${page.offset}
  `.execute(db);
  const rows = result.rows;
  return {
    total: rows.length > 0 ? Number(rows[0]!.groups) : 0,
    rows: rows.map((r) => ({
      day: r.day,
      kind: r.kind,
      actorType: r.actor_type,
      staffName: r.staff_name,
      staffTitle: r.staff_title,
      clientName: r.client_name,
      organisationName: r.organisation_name,
      count: r.count,
      firstAt: new Date(r.first_at),
      lastAt: new Date(r.last_at),
    })),
  };
}

// Many consents at once: the keyset-paginated list, the consents of one child, those of one signer
// ("Mina samtycken"), and renewals. Rows are mapped to ConsentRecord (consent.repository.ts) before they
// leave; the status of each is computed by the caller (`statusAt`), SQL only narrows.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Database, DbOrTx } from '../db/index.ts';
import type { KeyRing } from '../db/encryption.ts';
import type { ConsentStatus } from '../domain/consent.ts';
import { addDays, type LocalDate, startOfLocalDay } from '../domain/dates.ts';
import type { SignerRole } from '../domain/roles.ts';
import { type ConsentRecord, notYet, selectConsentColumns, toConsentRecord } from './consent.repository.ts';

/** Whose consents: those of these organisations, and those of these teams (uuids). */
export interface ScopeIds {
  organisationIds: readonly string[];
  teamIds: readonly string[];
}

const inScope = (eb: ExpressionBuilder<Database, 'consents'>, scope: ScopeIds) =>
  eb.or([
    ...(scope.organisationIds.length > 0
      ? [eb('consents.organisation_id', 'in', scope.organisationIds)]
      : []),
    ...(scope.teamIds.length > 0 ? [eb('consents.team_id', 'in', scope.teamIds)] : []),
  ]);

/** A condition every consent in `status` at `now` meets (never excludes one that is). */
function mayBe(
  eb: ExpressionBuilder<Database, 'consents'>,
  status: ConsentStatus,
  now: Date,
): Expression<SqlBool> {
  const open = () =>
    eb.and([
      notYet('completed_at', now)(eb),
      notYet('declined_at', now)(eb),
      notYet('cancelled_at', now)(eb),
      notYet('withdrawn_at', now)(eb),
      notYet('ended_at', now)(eb),
    ]);
  switch (status) {
    case 'pending':
      return eb.and([open(), eb('consents.request_expires_at', '>', now)]);
    case 'request_expired':
      return open();
    case 'active':
      return eb.and([
        eb('consents.completed_at', '<=', now),
        eb('consents.valid_until', '>', now),
        notYet('withdrawn_at', now)(eb),
        notYet('ended_at', now)(eb),
      ]);
    case 'expired':
      return eb.and([eb('consents.completed_at', '<=', now), eb('consents.valid_until', '<=', now)]);
    case 'declined':
      return eb('consents.declined_at', '<=', now);
    case 'cancelled':
      return eb('consents.cancelled_at', '<=', now);
    case 'withdrawn':
      return eb('consents.withdrawn_at', '<=', now);
    case 'ended':
      return eb('consents.ended_at', '<=', now);
  }
}

export interface ConsentPageQuery {
  scope: ScopeIds;
  teamId?: string | undefined;
  /** Requested on or after this local date. */
  requestedFrom?: LocalDate | undefined;
  /** Requested on or before this local date. */
  requestedTo?: LocalDate | undefined;
  /** Narrow to consents that may be in one of these states at `now` (a superset: check with `statusAt`). */
  statuses?: ReadonlySet<ConsentStatus> | undefined;
  now: Date;
  /** Keyset: the (requested_at, id) of the last consent seen. */
  after?: { at: Date; id: string } | undefined;
  limit: number;
}

/** One batch of the list, newest first by (requested_at, id). */
export async function listConsentRecords(
  db: DbOrTx,
  keys: KeyRing,
  q: ConsentPageQuery,
): Promise<ConsentRecord[]> {
  const { now, after } = q;
  const rows = await selectConsentColumns(db.selectFrom('consents'))
    .where((eb) => {
      const conditions: Expression<SqlBool>[] = [inScope(eb, q.scope)];
      if (q.teamId) conditions.push(eb('consents.team_id', '=', q.teamId));
      if (q.requestedFrom)
        conditions.push(eb('consents.requested_at', '>=', startOfLocalDay(q.requestedFrom)));
      if (q.requestedTo)
        conditions.push(eb('consents.requested_at', '<', startOfLocalDay(addDays(q.requestedTo, 1))));
      if (q.statuses) conditions.push(eb.or([...q.statuses].map((s) => mayBe(eb, s, now))));
      if (after)
        conditions.push(
          eb(
            sql`(consents.requested_at, consents.id)`,
            '<',
            sql`(${after.at}::timestamptz, ${after.id}::uuid)`,
          ),
        );
      return eb.and(conditions);
    })
    .orderBy('consents.requested_at', 'desc')
    .orderBy('consents.id', 'desc')
    .limit(q.limit)
    .execute();
  return rows.map((row) => toConsentRecord(keys, row));
}

/** The consents of one child (12 digits) in the scope, newest first: by the number's blind index. */
export async function consentsOfChild(
  db: DbOrTx,
  keys: KeyRing,
  childPersonalNumber: string,
  scope: ScopeIds,
  limit: number,
): Promise<ConsentRecord[]> {
  const rows = await selectConsentColumns(db.selectFrom('consents'))
    .where('consents.child_personal_number_index', '=', keys.blindIndex(childPersonalNumber))
    .where((eb) => inScope(eb, scope))
    .orderBy('consents.requested_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => toConsentRecord(keys, row));
}

export interface SignerConsent {
  consent: ConsentRecord;
  /** The person's own role on it, and their state. */
  role: SignerRole;
  signedAt: Date | null;
  declinedAt: Date | null;
}

/** Every consent the person (12 digits) is a signer of, newest first (at most `limit`): by blind index. */
export async function consentsOfSigner(
  db: DbOrTx,
  keys: KeyRing,
  personalNumber: string,
  limit: number,
): Promise<SignerConsent[]> {
  const mine = await db
    .selectFrom('consent_signers')
    .select(['consent_id', 'role', 'signed_at', 'declined_at'])
    .where('personal_number_index', '=', keys.blindIndex(personalNumber))
    .execute();
  if (mine.length === 0) return [];
  const rows = await selectConsentColumns(db.selectFrom('consents'))
    .where(
      'consents.id',
      'in',
      mine.map((m) => m.consent_id),
    )
    .orderBy('consents.requested_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => {
    const own = mine.find((m) => m.consent_id === row.id)!;
    return {
      consent: toConsentRecord(keys, row),
      role: own.role,
      signedAt: own.signed_at,
      declinedAt: own.declined_at,
    };
  });
}

/** The consents renewing this one (`renewed_from`), oldest first. */
export async function renewalsOf(db: DbOrTx, keys: KeyRing, consentId: string): Promise<ConsentRecord[]> {
  const rows = await selectConsentColumns(db.selectFrom('consents'))
    .where('consents.renewed_from', '=', consentId)
    .orderBy('consents.requested_at', 'asc')
    .execute();
  return rows.map((row) => toConsentRecord(keys, row));
}

/** The ids of the consents renewing this one, oldest first. */
export async function renewalIds(db: DbOrTx, consentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('consents')
    .select('id')
    .where('renewed_from', '=', consentId)
    .orderBy('requested_at', 'asc')
    .execute();
  return rows.map((r) => r.id);
}

// Read: consents of the caller's organisation(s) and team(s), newest first, keyset-paginated by
// (requested_at, id). The status filter matches `statusAt` exactly: SQL narrows with conditions every
// consent in that state meets (a superset), then each row's status is computed from its facts and rows
// that do not match are skipped. A page scans a bounded number of rows; it can then come back short (even
// empty) with a `nextCursor` to go on from.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Database, DbOrTx } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import { type ConsentStatus, type StatusReason, statusAt } from '../domain/consent.ts';
import { addDays, type LocalDate, startOfLocalDay } from '../domain/dates.ts';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import {
  consentFacts,
  notYet,
  type SignerState,
  selectConsentColumns,
  signaturesByConsent,
  signerState,
  toConsentRecord,
} from './consent.repository.ts';
import type { ConsentContext } from './context.ts';

/** What the caller may see: consents of these organisations, and of these teams. */
export interface ConsentScope {
  organisationIds?: readonly string[];
  teamIds?: readonly string[];
}

export interface ListConsentsInput {
  scope: ConsentScope;
  status?: ConsentStatus | readonly ConsentStatus[];
  teamId?: string;
  /** Requested on or after this local date. */
  requestedFrom?: LocalDate;
  /** Requested on or before this local date. */
  requestedTo?: LocalDate;
  cursor?: string;
  /** 1–100, default 25. */
  limit?: number;
  /** Include the child's name (only where the caller may see names). */
  includeNames?: boolean;
}

export interface ConsentListItem {
  id: string;
  organisationId: string;
  teamId: string;
  status: ConsentStatus;
  reason: StatusReason;
  requestedAt: Date;
  requestExpiresAt: Date;
  validFrom: Date | null;
  validUntil: Date | null;
  signers: { role: SignerRole; state: SignerState }[];
  childName?: string;
}

export interface ConsentPage {
  items: ConsentListItem[];
  nextCursor: string | null;
  checkedAt: Date;
}

const MAX_SCAN = 1000;

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new AppError('validation_failed', 'Ogiltig cursor.', {
      extra: { errors: [{ field: 'cursor', message: 'Ogiltig cursor.' }] },
    });
  }
}

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

export async function listConsents(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  input: ListConsentsInput,
): Promise<ConsentPage> {
  const now = ctx.clock.now();
  const limit = Math.min(Math.max(Math.trunc(input.limit ?? 25), 1), 100);
  const organisationIds = (input.scope.organisationIds ?? []).filter(isUuid);
  const teamIds = (input.scope.teamIds ?? []).filter(isUuid);
  if (organisationIds.length === 0 && teamIds.length === 0)
    return { items: [], nextCursor: null, checkedAt: now };
  if (input.teamId !== undefined && !isUuid(input.teamId))
    return { items: [], nextCursor: null, checkedAt: now };
  const statuses =
    input.status === undefined
      ? undefined
      : new Set<ConsentStatus>(typeof input.status === 'string' ? [input.status] : input.status);

  let after = input.cursor ? decodeCursor(input.cursor) : undefined;
  const items: ConsentListItem[] = [];
  let scanned = 0;
  const batch = Math.max(limit * 2, 50);
  for (;;) {
    const rows = await page(ctx.db, { organisationIds, teamIds, input, statuses, now, after, batch });
    const signatures = await signaturesByConsent(
      ctx.db,
      rows.map((r) => r.id),
    );
    for (const row of rows) {
      scanned++;
      after = { at: row.requested_at, id: row.id };
      const consent = toConsentRecord(row);
      const signers = signatures.get(consent.id) ?? [];
      const status = statusAt(consentFacts(consent, signers), now);
      if (statuses && !statuses.has(status.status)) continue;
      items.push({
        id: consent.id,
        organisationId: consent.organisationId,
        teamId: consent.teamId,
        status: status.status,
        reason: status.reason,
        requestedAt: consent.requestedAt,
        requestExpiresAt: consent.requestExpiresAt,
        validFrom: status.validFrom ?? null,
        validUntil: status.validUntil ?? null,
        signers: signers.map((s) => ({ role: s.role, state: signerState(s) })),
        ...(input.includeNames ? { childName: consent.child.name } : {}),
      });
      if (items.length === limit)
        return { items, nextCursor: encodeCursor(row.requested_at, row.id), checkedAt: now };
    }
    if (rows.length < batch) return { items, nextCursor: null, checkedAt: now };
    if (scanned >= MAX_SCAN)
      return { items, nextCursor: after ? encodeCursor(after.at, after.id) : null, checkedAt: now };
  }
}

function page(
  db: DbOrTx,
  q: {
    organisationIds: string[];
    teamIds: string[];
    input: ListConsentsInput;
    statuses: Set<ConsentStatus> | undefined;
    now: Date;
    after: { at: Date; id: string } | undefined;
    batch: number;
  },
) {
  const { input, now, after } = q;
  return selectConsentColumns(db.selectFrom('consents'))
    .where((eb) => {
      const scope: Expression<SqlBool>[] = [];
      if (q.organisationIds.length > 0) scope.push(eb('consents.organisation_id', 'in', q.organisationIds));
      if (q.teamIds.length > 0) scope.push(eb('consents.team_id', 'in', q.teamIds));
      const conditions: Expression<SqlBool>[] = [eb.or(scope)];
      if (input.teamId) conditions.push(eb('consents.team_id', '=', input.teamId));
      if (input.requestedFrom)
        conditions.push(eb('consents.requested_at', '>=', startOfLocalDay(input.requestedFrom)));
      if (input.requestedTo)
        conditions.push(eb('consents.requested_at', '<', startOfLocalDay(addDays(input.requestedTo, 1))));
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
    .limit(q.batch)
    .execute();
}

// --- "Mina samtycken" ----------------------------------------------------------------------------------

export interface SignerConsentItem {
  id: string;
  role: SignerRole;
  status: ConsentStatus;
  reason: StatusReason;
  requestedAt: Date;
  validFrom: Date | null;
  validUntil: Date | null;
  /** This signer's own state. */
  state: SignerState;
  childName: string;
}

/** Every consent the identified person is a signer of, newest first (at most 200). */
export async function listConsentsForSigner(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  personalNumber: string,
): Promise<SignerConsentItem[]> {
  const now = ctx.clock.now();
  if (!/^\d{12}$/.test(personalNumber)) return [];
  const mine = await ctx.db
    .selectFrom('consent_signers')
    .select(['consent_id', 'role', 'signed_at', 'declined_at'])
    .where('personal_number', '=', personalNumber)
    .execute();
  if (mine.length === 0) return [];
  const rows = await selectConsentColumns(ctx.db.selectFrom('consents'))
    .where(
      'consents.id',
      'in',
      mine.map((m) => m.consent_id),
    )
    .orderBy('consents.requested_at', 'desc')
    .limit(200)
    .execute();
  const signatures = await signaturesByConsent(
    ctx.db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const consent = toConsentRecord(row);
    const own = mine.find((m) => m.consent_id === consent.id)!;
    const status = statusAt(consentFacts(consent, signatures.get(consent.id) ?? []), now);
    return {
      id: consent.id,
      role: own.role,
      status: status.status,
      reason: status.reason,
      requestedAt: consent.requestedAt,
      validFrom: status.validFrom ?? null,
      validUntil: status.validUntil ?? null,
      state: signerState({ signedAt: own.signed_at, declinedAt: own.declined_at }),
      childName: consent.child.name,
    };
  });
}

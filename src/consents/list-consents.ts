// Read: consents of the caller's organisation(s) and team(s), newest first, keyset-paginated by
// (requested_at, id). The status filter matches `statusAt` exactly: SQL narrows with conditions every
// consent in that state meets (a superset, consent-lists.repository.ts), then each row's status is
// computed from its facts and rows that do not match are skipped. A page scans a bounded number of rows;
// it can then come back short (even empty) with a `nextCursor` to go on from.
import { isUuid } from '../db/uuid.ts';
import { type ConsentStatus, type StatusReason, statusAt } from '../domain/consent.ts';
import type { LocalDate } from '../domain/dates.ts';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { consentsOfSigner, listConsentRecords } from './consent-lists.repository.ts';
import { consentFacts, type SignerState, signaturesByConsent, signerState } from './consent.repository.ts';
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
    const consents = await listConsentRecords(ctx.db, {
      scope: { organisationIds, teamIds },
      teamId: input.teamId,
      requestedFrom: input.requestedFrom,
      requestedTo: input.requestedTo,
      statuses,
      now,
      after,
      limit: batch,
    });
    const signatures = await signaturesByConsent(
      ctx.db,
      consents.map((c) => c.id),
    );
    for (const consent of consents) {
      scanned++;
      after = { at: consent.requestedAt, id: consent.id };
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
        return { items, nextCursor: encodeCursor(consent.requestedAt, consent.id), checkedAt: now };
    }
    if (consents.length < batch) return { items, nextCursor: null, checkedAt: now };
    if (scanned >= MAX_SCAN)
      return { items, nextCursor: after ? encodeCursor(after.at, after.id) : null, checkedAt: now };
  }
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
  const mine = await consentsOfSigner(ctx.db, personalNumber, 200);
  const signatures = await signaturesByConsent(
    ctx.db,
    mine.map((m) => m.consent.id),
  );
  return mine.map((own) => {
    const { consent } = own;
    const status = statusAt(consentFacts(consent, signatures.get(consent.id) ?? []), now);
    return {
      id: consent.id,
      role: own.role,
      status: status.status,
      reason: status.reason,
      requestedAt: consent.requestedAt,
      validFrom: status.validFrom ?? null,
      validUntil: status.validUntil ?? null,
      state: signerState(own),
      childName: consent.child.name,
    };
  });
}

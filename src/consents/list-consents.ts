// Read: consents of the caller's organisation(s) and team(s), newest first, keyset-paginated by
// (requested_at, id). The status filter matches `statusAt` exactly: SQL narrows with conditions every
// consent in that state meets (a superset, consent-lists.repository.ts), then each row's status is
// computed from its facts and rows that do not match are skipped. A page scans a bounded number of rows;
// it can then come back short (even empty) with a `nextCursor` to go on from.
import { isUuid } from '../db/uuid.ts';
import { type ConsentStatus, type StatusReason, statusAt } from '../domain/consent.ts';
import { DATE_WINDOW, isDateInWindow, isInstantInWindow, type LocalDate } from '../domain/dates.ts';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { consentsOfSigner, listConsentRecords } from './consent-lists.repository.ts';
import {
  type ConsentRecord,
  consentFacts,
  type LoadedConsent,
  loadConsent,
  type SignerRecord,
  type SignerState,
  signaturesByConsent,
  signerState,
} from './consent.repository.ts';
import type { ConsentContext } from './context.ts';
import { validationFailed } from './validation.ts';

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

const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

/** A cursor is exactly what encodeCursor wrote: anything else (a crafted date, say) is a 400, never a 500. */
export function decodeCursor(cursor: string): { at: Date; id: string } {
  const decoded = CURSOR.test(cursor) ? parseCursor(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  if (decoded) return decoded;
  throw new AppError('validation_failed', 'Ogiltig cursor.', {
    extra: { errors: [{ field: 'cursor', message: 'Ogiltig cursor.' }] },
  });
}

function parseCursor(text: string): { at: Date; id: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [at, id] = value as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !isUuid(id)) return null;
  const date = new Date(at);
  if (!isInstantInWindow(date) || date.toISOString() !== at) return null;
  return { at: date, id };
}

/** The message for a filter date outside DATE_WINDOW (the API's schema and the staff list say it too). */
export const FILTER_DATE_MESSAGE = `Ange ett datum från ${DATE_WINDOW.first} till ${DATE_WINDOW.last}.`;

/** Filter dates outside DATE_WINDOW are the caller's mistake (a 400), not a RangeError in the SQL's bounds. */
function assertFilterDates(input: ListConsentsInput): void {
  const errors = (['requestedFrom', 'requestedTo'] as const)
    .filter((field) => input[field] !== undefined && !isDateInWindow(input[field]))
    .map((field) => ({ field, message: FILTER_DATE_MESSAGE }));
  if (errors.length > 0) throw validationFailed(errors);
}

export async function listConsents(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  input: ListConsentsInput,
): Promise<ConsentPage> {
  const now = ctx.clock.now();
  assertFilterDates(input);
  let after = input.cursor ? decodeCursor(input.cursor) : undefined;
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

  const items: ConsentListItem[] = [];
  let scanned = 0;
  const batch = Math.max(limit * 2, 50);
  for (;;) {
    const consents = await listConsentRecords(ctx.db, ctx.keys, {
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

/** The list shows a person's newest consents; each one stays reachable by its id (findOwnConsent). */
export const MAX_OWN_CONSENTS = 200;
const PERSONAL_NUMBER = /^\d{12}$/;

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

/** The list item of one consent as its signer `own` sees it; `signatures` are all of the consent's. */
function signerItem(
  consent: ConsentRecord,
  own: { role: SignerRole; signedAt: Date | null; declinedAt: Date | null },
  signatures: readonly { role: SignerRole; signedAt: Date | null }[],
  now: Date,
): SignerConsentItem {
  const status = statusAt(consentFacts(consent, signatures), now);
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
}

/** Every consent the identified person is a signer of, newest first (the newest `MAX_OWN_CONSENTS`). */
export async function listConsentsForSigner(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  personalNumber: string,
): Promise<SignerConsentItem[]> {
  const now = ctx.clock.now();
  if (!PERSONAL_NUMBER.test(personalNumber)) return [];
  const mine = await consentsOfSigner(ctx.db, ctx.keys, personalNumber, MAX_OWN_CONSENTS);
  const signatures = await signaturesByConsent(
    ctx.db,
    mine.map((m) => m.consent.id),
  );
  return mine.map((own) => signerItem(own.consent, own, signatures.get(own.consent.id) ?? [], now));
}

/** One consent as seen by the person who is its signer; undefined when they are none of its signers. */
export interface OwnSignerConsent {
  item: SignerConsentItem;
  loaded: LoadedConsent;
  signer: SignerRecord;
}

/**
 * The consent `consentId` of the identified person: one read of the consent and its signers, however many
 * consents the person has. Undefined for an unknown consent and for one they are not a signer of alike.
 */
export async function findOwnConsent(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock'>,
  personalNumber: string,
  consentId: string,
): Promise<OwnSignerConsent | undefined> {
  if (!PERSONAL_NUMBER.test(personalNumber)) return undefined;
  const loaded = await loadConsent(ctx.db, ctx.keys, consentId);
  const signer = loaded?.signers.find((s) => s.personalNumber === personalNumber);
  if (!loaded || !signer) return undefined;
  return { item: signerItem(loaded.consent, signer, loaded.signers, ctx.clock.now()), loaded, signer };
}

// The Idempotency-Key of a consent request: a retried request with the same key and body answers with the
// first request's consent as it stands now; the same key with another body is a conflict.
import { createHash } from 'node:crypto';
import type { Tx } from '../db/index.ts';
import { statusAt } from '../domain/consent.ts';
import { AppError } from '../errors.ts';
import { consentFacts, getLoadedConsent, signerState } from './consent.repository.ts';
import type { ConsentRequestResult } from './consent-request-insert.ts';
import type { RequestData } from './consent-request-input.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKey,
  findIdempotencyKey,
  type StoredIdempotencyKey,
  storeIdempotentResponse,
} from './idempotency-keys.repository.ts';
import { validationFailed } from './validation.ts';

const IDEMPOTENCY_HOURS = 24;

export interface Idempotency {
  scope: string;
  key: string;
  hash: string;
}

/** Canonical JSON (sorted keys), so that the same request hashes the same whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function idempotencyOf(
  actor: OrganisationActor,
  key: string,
  data: RequestData,
  renewedFrom?: string,
): Idempotency {
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key))
    throw validationFailed([{ field: 'idempotencyKey', message: 'Ogiltig Idempotency-Key.' }]);
  const who = actor.type === 'staff' ? `staff:${actor.staffId}` : `api_client:${actor.clientId}`;
  return {
    scope: `consent-request:${actor.organisationId}:${who}`,
    key,
    hash: createHash('sha256')
      .update(canonical({ ...data, renewedFrom }))
      .digest('hex'),
  };
}

/** An earlier request with this key: the same body replays its result; another body is a conflict. */
export async function checkIdempotency(
  ctx: ConsentContext,
  idempotency: Idempotency,
  now: Date,
): Promise<ConsentRequestResult | undefined> {
  // An expired key no longer counts (housekeeping removes it later).
  await deleteExpiredIdempotencyKey(ctx.db, idempotency, now);
  const stored = await findIdempotencyKey(ctx.db, idempotency);
  if (!stored) return undefined;
  const consentId = answeredConsentId(stored, idempotency);
  // No answer stored yet: the first request is still running; it holds the key until it commits.
  return consentId ? replayResult(ctx, consentId, now) : undefined;
}

/** The stored request's consent, if it has answered; a conflict when it had another body. */
function answeredConsentId(stored: StoredIdempotencyKey, idempotency: Idempotency): string | undefined {
  if (stored.requestHash !== idempotency.hash)
    throw new AppError('idempotency_conflict', 'Idempotency-Key har redan använts för en annan begäran.');
  return (stored.responseBody as { consentId?: string } | null)?.consentId;
}

/**
 * Claims the key in the request's transaction. Undefined when claimed; otherwise a concurrent request with
 * the same key committed first (the claim waited for it), and this is its consent to answer with.
 */
export async function claimIdempotency(
  tx: Tx,
  idempotency: Idempotency,
  now: Date,
): Promise<string | undefined> {
  const claimed = await claimIdempotencyKey(tx, {
    scope: idempotency.scope,
    key: idempotency.key,
    requestHash: idempotency.hash,
    expiresAt: new Date(now.getTime() + IDEMPOTENCY_HOURS * 3_600_000),
  });
  if (claimed) return undefined;
  const stored = await findIdempotencyKey(tx, idempotency);
  if (!stored) throw new Error('idempotency key claimed by another request but not found');
  const consentId = answeredConsentId(stored, idempotency);
  if (!consentId) throw new AppError('conflict', 'En begäran med samma Idempotency-Key pågår redan.');
  return consentId;
}

/** What a replay of the key answers with: the new consent. */
export const storeIdempotentAnswer = (tx: Tx, idempotency: Idempotency, consentId: string) =>
  storeIdempotentResponse(tx, idempotency, { status: 201, body: { consentId } });

/** The first request's consent as it stands now, without invitation links (those were shown once). */
export async function replayResult(
  ctx: ConsentContext,
  consentId: string,
  now: Date,
): Promise<ConsentRequestResult> {
  const { consent, signers } = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  return {
    id: consent.id,
    status: statusAt(consentFacts(consent, signers), now).status,
    requestedAt: consent.requestedAt,
    requestExpiresAt: consent.requestExpiresAt,
    renewedFrom: consent.renewedFrom,
    replayed: true,
    signers: signers.map((s) => ({ role: s.role, name: s.name, state: signerState(s) })),
  };
}

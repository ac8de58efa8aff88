// The signing rule this slice owns: nobody acts for someone else. The personal number the
// e-identification gave must be the one on the form for the role the signer acts in. A mismatch is
// refused with `wrong_person`, which reveals nothing of the consent, and leaves an audit event.
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.ts';
import { appendAuditEvent } from './audit.ts';
import type { LoadedConsent, SignerRecord } from './consent.repository.ts';
import type { ConsentContext, SignerActor } from './context.ts';

const sameNumber = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The signer row for the actor's role, once the identified number matches it. */
export async function assertSignerIsOnForm(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  loaded: LoadedConsent,
  actor: SignerActor,
  act: 'sign' | 'decline' | 'withdraw',
  requestId?: string,
): Promise<SignerRecord> {
  const signer = loaded.signers.find((s) => s.role === actor.role);
  const number = actor.identity.personalNumber;
  if (signer && typeof number === 'string' && sameNumber(signer.personalNumber, number)) return signer;
  // Stored outside the act's transaction: the refusal itself is the event.
  await appendAuditEvent(ctx.db, {
    consentId: loaded.consent.id,
    action: 'wrong_person',
    actor,
    at: ctx.clock.now(),
    requestId,
    details: { act, role: actor.role },
  });
  throw new AppError('wrong_person', 'Förfrågan gäller någon annan än den som har legitimerat sig.');
}

/**
 * Signing and withdrawing need an identification made for the act (identity issue: `prompt=login`,
 * `max_age=0`). The HTTP layer checks it; this is the same check again, next to the act.
 */
export function assertFreshIdentification(actor: SignerActor, now: Date, maxAgeSeconds: number): void {
  const authTime = actor.identity.authTime;
  const ageMs = authTime instanceof Date ? now.getTime() - authTime.getTime() : Number.POSITIVE_INFINITY;
  // A minute of clock skew between us and the provider is allowed in the other direction.
  if (!(ageMs <= maxAgeSeconds * 1000 && ageMs >= -60_000))
    throw new AppError('fresh_auth_required', 'Legitimera dig på nytt för att fortsätta.');
}

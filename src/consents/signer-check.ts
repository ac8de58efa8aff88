// The signing rule this slice owns: nobody acts for someone else. The personal number the
// e-identification gave must be the one on the form for the role the signer acts in. A mismatch is
// refused with `wrong_person`, which reveals nothing of the consent, and leaves an audit event.
import { timingSafeEqual } from 'node:crypto';
import { actIdentificationProblem } from '../domain/identification.ts';
import { AppError } from '../errors.ts';
import { appendAuditEvent } from './audit.repository.ts';
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
 * Signing and withdrawing need an identification made for the act (`prompt=login`, `max_age=0`, and an
 * `auth_time` not before the act's start): the identity layer checks it when the provider answers; this
 * is the same rule again, next to the act, so no caller can act on an older login.
 */
export function assertIdentifiedForAct(actor: SignerActor, now: Date, maxActSeconds: number): void {
  const { authTime, actStartedAt } = actor.identity;
  if (!(actStartedAt instanceof Date) || actIdentificationProblem(authTime, actStartedAt, now, maxActSeconds))
    throw new AppError(
      'fresh_auth_required',
      'Legitimera dig för just den här handlingen för att fortsätta.',
    );
}

// Use case: withdrawal. By a signer in the service (fresh e-identification, their own role), or by staff
// or an API client registering a withdrawal a signer made by phone, in person or by letter (which signer,
// how, the date they did it, an optional note). Either way the consent is `withdrawn` for everyone at once.
//
// Decision: the withdrawal takes effect when it is registered (`withdrawn_at` = now), not back-dated to the
// stated date. A status check is never wrong about the past that way (others may have shared in good faith
// on an answer that said `active`), concurrent acts keep a single order, and the stated date is kept as a
// fact of its own (`withdrawal_date`, not after today, not before the request). The note is free text and
// may be sensitive: stored on the consent, never in audit details, messages or logs.
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt, validityWindow } from '../domain/consent.ts';
import { type LocalDate, localDateOf } from '../domain/dates.ts';
import { SIGNER_ROLES, type SignerRole } from '../domain/roles.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toRequester, toSigners } from './notifications/recipients.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { markWithdrawn } from './consent-changes.repository.ts';
import { consentFacts, getLoadedConsent } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor, SignerActor } from './context.ts';
import { assertStatedDate, localDateInput } from './dates-input.ts';
import { revokeInvitations } from './invitations.repository.ts';
import { assertIdentifiedForAct, assertSignerIsOnForm } from './signer-check.ts';
import { optionalNote, parseInput, validationFailed } from './validation.ts';

const bySignerSchema = z.object({ consentId: z.string(), requestId: z.string().max(64).optional() });
const onBehalfSchema = z.object({
  consentId: z.string(),
  /** The signer who withdrew. */
  role: z.enum(SIGNER_ROLES, { error: 'Ange vem som har återkallat samtycket.' }),
  channel: z.enum(['phone', 'in_person', 'letter'], { error: 'Ange hur återkallelsen kom in.' }),
  /** The day the signer withdrew. */
  date: localDateInput,
  note: optionalNote(),
  requestId: z.string().max(64).optional(),
});

export type WithdrawBySignerInput = z.input<typeof bySignerSchema>;
export type WithdrawOnBehalfInput = z.input<typeof onBehalfSchema>;

export interface WithdrawConsentResult {
  consentId: string;
  status: ConsentStatus;
  withdrawnAt: Date;
  role: SignerRole;
}

export function withdrawConsent(
  ctx: ConsentContext,
  actor: SignerActor,
  input: WithdrawBySignerInput,
): Promise<WithdrawConsentResult>;
export function withdrawConsent(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: WithdrawOnBehalfInput,
): Promise<WithdrawConsentResult>;
export async function withdrawConsent(
  ctx: ConsentContext,
  actor: SignerActor | OrganisationActor,
  input: WithdrawBySignerInput | WithdrawOnBehalfInput,
): Promise<WithdrawConsentResult> {
  let w: {
    consentId: string;
    role: SignerRole;
    channel: 'service' | 'phone' | 'in_person' | 'letter';
    date?: LocalDate;
    note?: string | undefined;
    requestId?: string | undefined;
  };
  const before = await getLoadedConsent(
    ctx.db,
    ctx.keys,
    String((input as { consentId?: unknown }).consentId ?? ''),
  );
  if (actor.type === 'signer') {
    const parsed = parseInput(bySignerSchema, input);
    await assertSignerIsOnForm(ctx, before, actor, 'withdraw', parsed.requestId);
    assertIdentifiedForAct(actor, ctx.clock.now(), ctx.config.oidc.freshAuthMaxAgeSeconds);
    w = { consentId: parsed.consentId, role: actor.role, channel: 'service', requestId: parsed.requestId };
  } else {
    const parsed = parseInput(onBehalfSchema, input);
    if (!before.signers.some((s) => s.role === parsed.role))
      throw validationFailed([{ field: 'role', message: 'Den som anges har inte fått förfrågan.' }]);
    assertStatedDate('date', parsed.date, before.consent.requestedAt, ctx.clock.now());
    w = { ...parsed };
  }
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'withdraw');

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, w.consentId, { lock: true });
    const now = ctx.clock.now();
    assertCanTransition(statusAt(locked.facts, now).status, 'withdraw');
    const facts = consentFacts({ ...locked.consent, withdrawnAt: now }, locked.signers);
    const window = validityWindow(facts);
    await markWithdrawn(tx, ctx.keys, w.consentId, {
      at: now,
      role: w.role,
      channel: w.channel,
      date: w.date ?? localDateOf(now),
      note: w.note ?? null,
      validUntil: window?.validUntil,
    });
    await revokeInvitations(tx, w.consentId, now);
    await appendAuditEvent(tx, {
      consentId: w.consentId,
      action: 'withdrawn',
      actor,
      at: now,
      requestId: w.requestId,
      details: {
        role: w.role,
        channel: w.channel,
        date: w.date ?? localDateOf(now),
        noteGiven: w.note !== undefined,
        wasInForce: statusAt(locked.facts, now).status === 'active',
      },
    });
    await queueNotifications(tx, ctx.jobs, [
      ...toRequester('withdrawn', locked.consent),
      ...toSigners('withdrawn', w.consentId, locked.signers),
    ]);
    return { consentId: w.consentId, status: statusAt(facts, now).status, withdrawnAt: now, role: w.role };
  });
}

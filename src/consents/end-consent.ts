// Use case: the organisation marks the coordinated support (the HLT process) as ended; the consent ends
// with it (`ended`). Allowed while active, and while pending (the request is then moot).
//
// Decision on the date: the stated date is the day support ended — not after today, not before the
// request — kept as `end_date`. The consent stops being in force when the end is registered
// (`ended_at` = now), for the same reasons as a withdrawal (withdraw-consent.ts): the status history
// stays true and concurrent acts keep one order. The note is free text: stored, never in audit details.
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt, validityWindow } from '../domain/consent.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { markEnded } from './consent-changes.repository.ts';
import { consentFacts, getLoadedConsent } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { assertStatedDate, localDateInput } from './dates-input.ts';
import { revokeInvitations } from './invitations.repository.ts';
import { optionalNote, parseInput } from './validation.ts';

const endInputSchema = z.object({
  consentId: z.string(),
  /** The day the coordinated support ended. */
  date: localDateInput,
  note: optionalNote(),
  requestId: z.string().max(64).optional(),
});
export type EndConsentInput = z.input<typeof endInputSchema>;

export interface EndConsentResult {
  consentId: string;
  status: ConsentStatus;
  endedAt: Date;
  endDate: string;
}

export async function endConsent(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: EndConsentInput,
): Promise<EndConsentResult> {
  const { consentId, date, note, requestId } = parseInput(endInputSchema, input);
  const before = await getLoadedConsent(ctx.db, ctx.keys, consentId);
  assertStatedDate('date', date, before.consent.requestedAt, ctx.clock.now());
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'end');

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    const now = ctx.clock.now();
    const wasStatus = statusAt(locked.facts, now).status;
    assertCanTransition(wasStatus, 'end');
    const facts = consentFacts({ ...locked.consent, endedAt: now }, locked.signers);
    const window = validityWindow(facts);
    await markEnded(tx, ctx.keys, consentId, {
      at: now,
      date,
      note: note ?? null,
      validUntil: window?.validUntil,
    });
    await revokeInvitations(tx, consentId, now);
    await appendAuditEvent(tx, {
      consentId,
      action: 'ended',
      actor,
      at: now,
      requestId,
      details: { date, noteGiven: note !== undefined, wasInForce: wasStatus === 'active' },
    });
    return { consentId, status: statusAt(facts, now).status, endedAt: now, endDate: date };
  });
}

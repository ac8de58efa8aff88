// Use case: renew — a new request prefilled from a consent that is expiring (active), has expired or
// ended, or whose request lapsed: the same child, guardians and contacts, the same team, new invitations.
// The old consent is left as it is (an active one stays in force until it ends) and gets an audit event
// pointing to the new one. The youth requirement is worked out again on the new request date. Not while
// an earlier renewal of the same consent is still pending or active.
import { z } from 'zod';
import { assertCanTransition, statusAt } from '../domain/consent.ts';
import { AppError } from '../errors.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { renewalsOf } from './consent-lists.repository.ts';
import { consentFacts, getLoadedConsent, type LoadedConsent, loadSigners } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import {
  type ConsentRequestResult,
  type CreateConsentRequestInput,
  submitConsentRequest,
} from './create-consent-request.ts';
import { parseInput } from './validation.ts';

const contact = z.object({ phone: z.string().optional(), email: z.string().optional() });
const renewInputSchema = z.object({
  consentId: z.string(),
  /** Ask a child below the threshold to sign this time (default: as before). */
  youthSigns: z.boolean().optional(),
  /** The youth's contact, if the youth signs and none was given before. */
  youth: contact.optional(),
  idempotencyKey: z.string().optional(),
  requestId: z.string().max(64).optional(),
});
export type RenewConsentInput = z.input<typeof renewInputSchema>;

function prefill(loaded: LoadedConsent, input: z.output<typeof renewInputSchema>): CreateConsentRequestInput {
  const { consent, signers } = loaded;
  const byRole = (role: string) => signers.find((s) => s.role === role);
  const guardians = (['guardian1', 'guardian2'] as const).flatMap((role) => {
    const s = byRole(role);
    return s
      ? [
          {
            name: s.name,
            personalNumber: s.personalNumber,
            phone: s.phone ?? undefined,
            email: s.email ?? undefined,
            // A mark of protected personal data carries over (issue 16 §5).
            protectedIdentity: s.protectedIdentity,
          },
        ]
      : [];
  });
  const youth = byRole('youth');
  return {
    teamId: consent.teamId,
    child: {
      name: consent.child.name,
      personalNumber: consent.child.personalNumber,
      healthCentre: consent.child.healthCentre ?? undefined,
      school: consent.child.school ?? undefined,
      protectedIdentity: consent.childProtectedIdentity,
    },
    guardians,
    soleGuardian: consent.soleGuardian,
    youthSigns: input.youthSigns ?? consent.youthSigns,
    youth:
      input.youth ??
      (youth ? { phone: youth.phone ?? undefined, email: youth.email ?? undefined } : undefined),
    idempotencyKey: input.idempotencyKey,
    requestId: input.requestId,
  };
}

export async function renewConsent(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: RenewConsentInput,
): Promise<ConsentRequestResult> {
  const parsed = parseInput(renewInputSchema, input);
  const old = await getLoadedConsent(ctx.db, ctx.keys, parsed.consentId);
  assertCanTransition(statusAt(old.facts, ctx.clock.now()).status, 'renew');

  return submitConsentRequest(ctx, actor, prefill(old, parsed), {
    renewedFrom: old.consent.id,
    async before(tx, now) {
      const locked = await getLoadedConsent(tx, ctx.keys, old.consent.id, { lock: true });
      assertCanTransition(statusAt(locked.facts, now).status, 'renew');
      for (const renewal of await renewalsOf(tx, ctx.keys, old.consent.id)) {
        const status = statusAt(
          consentFacts(renewal, await loadSigners(tx, ctx.keys, renewal.id)),
          now,
        ).status;
        if (status === 'pending' || status === 'active')
          throw new AppError('consent_state_conflict', 'Samtycket har redan förnyats.', {
            extra: { renewedBy: renewal.id },
          });
      }
    },
    async after(tx, id, now) {
      await appendAuditEvent(tx, {
        consentId: old.consent.id,
        action: 'consent_renewed',
        actor,
        at: now,
        requestId: parsed.requestId,
        details: { renewedBy: id },
      });
    },
  });
}

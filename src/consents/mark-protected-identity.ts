// Use case: staff mark a guardian or the child as having skyddade personuppgifter (sekretessmarkering or
// skyddad folkbokföring; issue 16 §5) after the request was made. The best time is the request itself
// (the form's tick box, `protectedIdentity` in the API): then the form is rendered without the person's
// phone. A form already rendered is a document that may be signed and cannot change; a later mark hides the
// person's phone and e-mail on every page, in the API and in lists from then on, and the result says
// whether the stored form prints the phone, so that the page can tell the staff member what to do.
// Any state: a mark protects as long as the consent's data is kept. A mark is never taken away here.
import { z } from 'zod';
import { appendAuditEvent } from './audit.repository.ts';
import { markProtectedIdentity as storeMark } from './consent-changes.repository.ts';
import { getLoadedConsent, type LoadedConsent } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { parseInput, validationFailed } from './validation.ts';

export const PROTECTABLE = ['guardian1', 'guardian2', 'child'] as const;
export type ProtectablePerson = (typeof PROTECTABLE)[number];

const inputSchema = z.object({
  consentId: z.string(),
  person: z.enum(PROTECTABLE, { error: 'Välj vem som har skyddade personuppgifter.' }),
  requestId: z.string().max(64).optional(),
});
export type MarkProtectedIdentityInput = z.input<typeof inputSchema>;

export interface MarkProtectedIdentityResult {
  consentId: string;
  person: ProtectablePerson;
  /** It was marked already (at the request or before): nothing changed. */
  alreadyMarked: boolean;
  /** The stored form was rendered before the mark and prints the person's phone. */
  formShowsPhone: boolean;
}

/** Whether the person is marked in the loaded consent. */
export function isMarked(loaded: LoadedConsent, person: ProtectablePerson): boolean {
  if (person === 'child') return loaded.consent.childProtectedIdentity;
  return loaded.signers.find((s) => s.role === person)?.protectedIdentity === true;
}

export async function markProtectedIdentityAct(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: MarkProtectedIdentityInput,
): Promise<MarkProtectedIdentityResult> {
  const { consentId, person, requestId } = parseInput(inputSchema, input);
  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    const signer = person === 'child' ? undefined : locked.signers.find((s) => s.role === person);
    if (person !== 'child' && !signer)
      throw validationFailed([{ field: 'person', message: 'Samtycket har ingen sådan vårdnadshavare.' }]);
    if (isMarked(locked, person)) return { consentId, person, alreadyMarked: true, formShowsPhone: false };
    // The form prints a guardian's phone (never an e-mail, never the youth's contacts).
    const formShowsPhone = !!signer?.phone;
    const now = ctx.clock.now();
    await storeMark(tx, consentId, person);
    await appendAuditEvent(tx, {
      consentId,
      action: 'protected_identity_marked',
      actor,
      at: now,
      requestId,
      details: { person, formShowsPhone },
    });
    return { consentId, person, alreadyMarked: false, formShowsPhone };
  });
}

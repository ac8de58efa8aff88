// Use case: a guardian or the youth signs. The identified number must be the role's number on the form;
// a sole guardian confirms being the sole guardian; the place is required and the date is today. The
// signature is appended to the stored latest revision of the form as an incremental update, inside one
// transaction that holds the consent's row lock, so concurrent acts serialise and the PDF never branches.
// The last required signature makes the consent active: its validity is stored, the receipt made, and
// "signed by all" queued to the signers and the requester.
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt, validityWindow } from '../domain/consent.ts';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { queueNotifications } from '../notify/queue.ts';
import { toRequester, toSigners } from '../notify/recipients.ts';
import { renderReceipt } from '../pdf/receipt.ts';
import { appendSignature } from '../pdf/sign.ts';
import { appendAuditEvent } from './audit.ts';
import {
  consentFacts,
  getLoadedConsent,
  type LoadedConsent,
  type SignerRecord,
} from './consent.repository.ts';
import { type SignerActor, type SigningContext, SYSTEM } from './context.ts';
import { latestFormRevision, storeFormRevision, storeReceipt } from './documents.ts';
import { markInvitationsUsed, revokeInvitations } from './invitations.ts';
import { assertIdentifiedForAct, assertSignerIsOnForm } from './signer-check.ts';
import { parseInput, validationFailed } from './validation.ts';

const signInputSchema = z.object({
  consentId: z.string(),
  place: z
    .string({ error: 'Ange ort.' })
    .trim()
    .min(1, { error: 'Ange ort.' })
    .max(100, { error: 'Högst 100 tecken.' }),
  /** The sole guardian confirms being the sole guardian (required then; ignored otherwise). */
  confirmSoleGuardian: z.boolean().optional(),
  /**
   * The SHA-256 of the form revision the signer reviewed. When given, the signature is made only on that
   * revision: if someone else signed in between, the signer must read the form again.
   */
  reviewedSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  requestId: z.string().max(64).optional(),
});
export type SignConsentInput = z.input<typeof signInputSchema>;

export interface SignConsentResult {
  consentId: string;
  role: SignerRole;
  signedAt: Date;
  /** The form revision this signature made (1 = the first signature). */
  revision: number;
  documentSha256: string;
  status: ConsentStatus;
  /** This signature was the last one required: the consent is in force. */
  completed: boolean;
  validFrom?: Date;
  validUntil?: Date;
}

export async function signConsent(
  ctx: SigningContext,
  actor: SignerActor,
  input: SignConsentInput,
): Promise<SignConsentResult> {
  const { consentId, place, confirmSoleGuardian, reviewedSha256, requestId } = parseInput(
    signInputSchema,
    input,
  );
  const before = await getLoadedConsent(ctx.db, consentId);
  await assertSignerIsOnForm(ctx, before, actor, 'sign', requestId);
  assertCanSign(before.consent.soleGuardian, before.signers, actor.role);
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'sign');
  assertSignEntries(before, actor.role, { place, confirmSoleGuardian });
  assertIdentifiedForAct(actor, ctx.clock.now(), ctx.config.oidc.freshAuthMaxAgeSeconds);

  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, consentId, { lock: true });
    // The time of the act is read after the lock: acts are ordered as they got the lock.
    const now = ctx.clock.now();
    assertCanSign(locked.consent.soleGuardian, locked.signers, actor.role);
    assertCanTransition(statusAt(locked.facts, now).status, 'sign');

    const latest = await latestFormRevision(tx, consentId);
    if (reviewedSha256 !== undefined && latest.sha256 !== reviewedSha256)
      throw new AppError(
        'document_changed',
        'Blanketten har ändrats sedan du läste den, till exempel för att någon annan har skrivit under. Läs den igen innan du skriver under.',
      );
    const appended = await appendSignature(
      {
        pdf: latest.bytes,
        expectedSha256: latest.sha256,
        role: actor.role,
        signer: { name: actor.identity.name, personalNumber: actor.identity.personalNumber },
        place,
        signedAt: now,
      },
      { signer: ctx.signer, trust: ctx.trust, tsaUrl: ctx.tsaUrl },
    );
    const revision = latest.revision + 1;
    await storeFormRevision(tx, {
      consentId,
      revision,
      bytes: appended.bytes,
      sha256: appended.sha256,
      at: now,
    });
    await tx
      .updateTable('consent_signers')
      .set({
        signed_at: now,
        signed_place: place,
        signed_name: appended.signature.signerName,
        identity_issuer: actor.identity.issuer,
        identity_acr: actor.identity.acr ?? null,
        identity_auth_time: actor.identity.authTime ?? null,
        sole_guardian_confirmed: locked.consent.soleGuardian && actor.role === 'guardian1' ? true : null,
        document_revision: revision,
      })
      .where('consent_id', '=', consentId)
      .where('role', '=', actor.role)
      .execute();
    await markInvitationsUsed(tx, consentId, actor.role, now);
    await appendAuditEvent(tx, {
      consentId,
      action: 'signed',
      actor,
      at: now,
      requestId,
      details: {
        role: actor.role,
        revision,
        documentSha256: appended.sha256,
        level: appended.signature.level,
      },
    });

    const signers = locked.signers.map((s) =>
      s.role === actor.role
        ? {
            ...s,
            signedAt: now,
            signedName: appended.signature.signerName,
            identityIssuer: actor.identity.issuer,
            identityAcr: actor.identity.acr ?? null,
          }
        : s,
    );
    const facts = consentFacts(locked.consent, signers);
    const after = statusAt(facts, now);
    const result: SignConsentResult = {
      consentId,
      role: actor.role,
      signedAt: now,
      revision,
      documentSha256: appended.sha256,
      status: after.status,
      completed: false,
    };
    if (after.status !== 'active') return result;

    // The last required signature: the consent is in force from now.
    const window = validityWindow(facts);
    if (!window || !after.completedAt) throw new Error('an active consent must have a validity window');
    await tx
      .updateTable('consents')
      .set({ completed_at: after.completedAt, valid_from: window.validFrom, valid_until: window.validUntil })
      .where('id', '=', consentId)
      .execute();
    await revokeInvitations(tx, consentId, now);
    const receipt = await renderReceipt({
      documentId: consentId,
      templateVersion: locked.consent.templateVersion,
      documentSha256: appended.sha256,
      completedAt: after.completedAt,
      signatures: signers
        .filter((s): s is SignerRecord & { signedAt: Date } => s.signedAt !== null)
        .sort((a, b) => a.signedAt.getTime() - b.signedAt.getTime())
        .map((s) => ({
          role: s.role,
          name: s.signedName ?? s.name,
          signedAt: s.signedAt,
          method: identificationMethod(s.identityAcr),
          issuer: s.identityIssuer ?? 'okänd',
          ...(s.identityAcr ? { acr: s.identityAcr } : {}),
        })),
    });
    await storeReceipt(tx, { consentId, bytes: receipt, at: now });
    await appendAuditEvent(tx, {
      consentId,
      action: 'completed',
      actor: SYSTEM,
      at: now,
      requestId,
      details: {
        validFrom: window.validFrom.toISOString(),
        validUntil: window.validUntil.toISOString(),
        documentSha256: appended.sha256,
      },
    });
    await queueNotifications(tx, ctx.jobs, [
      ...toSigners('signed_by_all', consentId, signers),
      ...toRequester('signed_by_all', locked.consent),
    ]);
    return { ...result, completed: true, validFrom: window.validFrom, validUntil: window.validUntil };
  });
}

/**
 * What the signer enters before signing: a place, and the sole guardian's confirmation. Checked before the
 * act's identification starts (so the person fixes it first) and again when signing.
 */
export function assertSignEntries(
  loaded: LoadedConsent,
  role: SignerRole,
  entries: { place: unknown; confirmSoleGuardian?: boolean | undefined },
): void {
  const problems: { field: string; message: string }[] = [];
  const place = signInputSchema.shape.place.safeParse(entries.place);
  if (!place.success)
    problems.push({ field: 'place', message: place.error.issues[0]?.message ?? 'Ange ort.' });
  if (loaded.consent.soleGuardian && role === 'guardian1' && entries.confirmSoleGuardian !== true)
    problems.push({ field: 'confirmSoleGuardian', message: 'Bekräfta att du är ensam vårdnadshavare.' });
  if (problems.length > 0) throw validationFailed(problems);
}

function assertCanSign(soleGuardian: boolean, signers: readonly SignerRecord[], role: SignerRole): void {
  const signer = signers.find((s) => s.role === role);
  if (!signer || (soleGuardian && role === 'guardian2'))
    throw new AppError('role_not_in_document', 'Den här förfrågan har ingen sådan underskrift.');
  if (signer.signedAt) throw new AppError('role_already_signed', 'Du har redan signerat.');
  if (signer.declinedAt) throw new AppError('consent_state_conflict', 'Du har redan avböjt förfrågan.');
}

/** How the signer identified, for the receipt. */
export function identificationMethod(acr: string | null | undefined): string {
  const value = (acr ?? '').toLowerCase();
  if (value.includes('bankid')) return 'BankID via OpenID Connect';
  if (value.includes('freja')) return 'Freja eID via OpenID Connect';
  return 'E-legitimation via OpenID Connect';
}

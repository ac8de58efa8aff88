// Use case: a guardian or the youth signs. The identified number must be the role's number on the form;
// a sole guardian confirms being the sole guardian; the place is required and the date is today. The
// signature is appended to the stored latest revision of the form as an incremental update.
//
// The slow work (verifying the earlier signatures, issuing the certificate, the CMS, the time-stamping
// service's answer — up to 10 s — and, for the last signature, the receipt) is done first, outside any
// transaction, against the latest revision read then. Then one short transaction locks the consent's row,
// checks that the state still allows the signature and that the latest revision is still the one signed
// (and, for the last signature, that the receipt says what the stored facts say), and stores it all:
// revision, signer row, audit event, and on completion the validity, the receipt and "signed by all" queued.
// Concurrent acts so still serialise on the row lock and the PDF never branches. A signature whose revision
// moved meanwhile: when the caller pinned the revision the signer read (`reviewedSha256`; the signing page
// always does), that is a 409 `document_changed` and the signer reads the form again; a caller that signs
// whatever the latest revision is (no pin: tools and tests) has it made again on the new one (a few times,
// then the same 409). The consent is never active without its receipt: both are stored in one transaction.
import { z } from 'zod';
import { assertCanTransition, type ConsentStatus, statusAt, validityWindow } from '../domain/consent.ts';
import type { SignerRole } from '../domain/roles.ts';
import { textInput } from '../domain/text.ts';
import { AppError } from '../errors.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toRequester, toSigners } from './notifications/recipients.ts';
import type { ReceiptData } from '../pdf/receipt.ts';
import { pdfWorkers } from '../pdf/pdf-workers.ts';
import type { AppendSignatureResult } from '../pdf/sign.ts';
import { appendAuditEvent } from './audit.repository.ts';
import {
  consentFacts,
  getLoadedConsent,
  type LoadedConsent,
  type SignerRecord,
} from './consent.repository.ts';
import { recordCompletion, recordSignature } from './consent-changes.repository.ts';
import { type SignerActor, type SigningContext, SYSTEM } from './context.ts';
import {
  latestFormHead,
  latestFormRevision,
  storeFormRevision,
  storeReceipt,
} from './documents.repository.ts';
import { markInvitationsUsed, revokeInvitations } from './invitations.repository.ts';
import { assertIdentifiedForAct, assertSignerIsOnForm } from './signer-check.ts';
import { parseInput, validationFailed } from './validation.ts';

const signInputSchema = z.object({
  consentId: z.string(),
  place: textInput({ error: 'Ange ort.' })
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

/** How many times a signature is made again when other signatures keep landing first. */
const MAX_ATTEMPTS = 3;

type SignInput = z.output<typeof signInputSchema>;

export async function signConsent(
  ctx: SigningContext,
  actor: SignerActor,
  input: SignConsentInput,
): Promise<SignConsentResult> {
  const parsed = parseInput(signInputSchema, input);
  const before = await inShare(ctx, async () => {
    const loaded = await getLoadedConsent(ctx.db, ctx.keys, parsed.consentId);
    await assertSignerIsOnForm(ctx, loaded, actor, 'sign', parsed.requestId);
    return loaded;
  });
  assertCanSign(before.consent.soleGuardian, before.signers, actor.role);
  assertCanTransition(statusAt(before.facts, ctx.clock.now()).status, 'sign');
  assertSignEntries(before, actor.role, parsed);
  assertIdentifiedForAct(actor, ctx.clock.now(), ctx.config.oidc.freshAuthMaxAgeSeconds);

  // The first attempt signs on the consent as just read; a later one (another act landed meanwhile) reads
  // it again.
  let loaded: LoadedConsent | undefined = before;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prepared = await prepareSignature(ctx, actor, parsed, loaded);
    loaded = undefined;
    const result = await inShare(ctx, () => storeSignature(ctx, actor, parsed, prepared));
    if (result) return result;
  }
  throw new AppError(
    'document_changed',
    'Andra underskrifter kom in medan din underskrift gjordes, flera gånger i rad. Försök igen om en stund.',
  );
}

/** A signature made outside the lock, on the revision that was the latest then. */
interface PreparedSignature {
  /** The revision signed (its number and SHA-256): it must still be the latest when storing. */
  base: { revision: number; sha256: string };
  /** The act's time: in the PDF (/M, appearance, CMS), on the signer row and in the audit. */
  signedAt: Date;
  appended: AppendSignatureResult;
  /** When this signature is the last one required: the receipt, and what it was made from. */
  receipt?: { data: ReceiptData; bytes: Uint8Array };
}

/**
 * Runs a step that reads or writes within the signatures' share of the pool (db/pool-share.ts): twenty
 * signatures at once wait among themselves, not in the pool ahead of status checks. Only steps that use
 * the database: the time-stamping service and the PDF work hold no place.
 */
const inShare = <T>(ctx: SigningContext, step: () => Promise<T>): Promise<T> =>
  ctx.signingShare ? ctx.signingShare.run(step) : step();

/**
 * Verifies, signs, time-stamps and (for the last signature) renders the receipt: no transaction held.
 * `current`: the consent as the caller just read it; else it is read here.
 */
async function prepareSignature(
  ctx: SigningContext,
  actor: SignerActor,
  input: SignInput,
  current: LoadedConsent | undefined,
): Promise<PreparedSignature> {
  const { loaded, latest } = await inShare(ctx, async () => ({
    loaded: current ?? (await getLoadedConsent(ctx.db, ctx.keys, input.consentId)),
    latest: await latestFormRevision(ctx.db, ctx.keys, input.consentId),
  }));
  if (input.reviewedSha256 !== undefined && latest.sha256 !== input.reviewedSha256)
    throw new AppError(
      'document_changed',
      'Blanketten har ändrats sedan du läste den, till exempel för att någon annan har skrivit under. Läs den igen innan du skriver under.',
    );
  const signedAt = ctx.clock.now();
  // Refuse early what the lock would refuse anyway (a retry after another act, e.g. a withdrawal).
  assertCanSign(loaded.consent.soleGuardian, loaded.signers, actor.role);
  assertCanTransition(statusAt(loaded.facts, signedAt).status, 'sign');
  // The PDF code loads at the first signature, not at start (as the form's renderer does at the first form).
  const { appendSignature } = await import('../pdf/sign.ts');
  const appended = await appendSignature(
    {
      pdf: latest.bytes,
      expectedSha256: latest.sha256,
      role: actor.role,
      signer: { name: actor.identity.name, personalNumber: actor.identity.personalNumber },
      place: input.place,
      signedAt,
    },
    {
      signing: ctx.signing,
      trust: ctx.trust,
      tsaTrust: ctx.tsaTrust,
      timestamper: ctx.timestamper,
      // The earlier signatures are verified, and the signature's PDF updates written, in the PDF workers:
      // twenty signers at once must not hold the event loop (issue 14).
      verify: (pdf, options) => pdfWorkers(ctx.config.pdfRenderThreads).verify(pdf, options),
      pdfWork: pdfWorkers(ctx.config.pdfRenderThreads),
    },
  );
  const base = { revision: latest.revision, sha256: latest.sha256 };
  const outcome = signatureOutcome(loaded, actor, { signedAt, appended }, signedAt);
  if (!outcome.completion) return { base, signedAt, appended };
  const data = outcome.completion.receipt;
  // In the PDF workers, as forms are: twenty receipts at once must not hold the event loop.
  const bytes = await pdfWorkers(ctx.config.pdfRenderThreads).renderReceipt(data, {
    publicBaseUrl: ctx.config.publicBaseUrl,
  });
  return { base, signedAt, appended, receipt: { data, bytes } };
}

/**
 * Under the row lock: stores the prepared signature if the state still allows it and nothing landed
 * since it was prepared; undefined when the revision moved (the caller prepares it again).
 */
function storeSignature(
  ctx: SigningContext,
  actor: SignerActor,
  input: SignInput,
  prepared: PreparedSignature,
): Promise<SignConsentResult | undefined> {
  const { consentId, place, requestId } = input;
  const { signedAt, appended } = prepared;
  return ctx.db.transaction().execute(async (tx) => {
    const locked = await getLoadedConsent(tx, ctx.keys, consentId, { lock: true });
    // The state is judged when the lock is held: acts are ordered as they got the lock.
    const now = ctx.clock.now();
    assertCanSign(locked.consent.soleGuardian, locked.signers, actor.role);
    assertCanTransition(statusAt(locked.facts, now).status, 'sign');
    const head = await latestFormHead(tx, consentId);
    if (head.revision !== prepared.base.revision || head.sha256 !== prepared.base.sha256) return undefined;
    const outcome = signatureOutcome(locked, actor, prepared, now);
    const receipt = outcome.completion && prepared.receipt;
    if (outcome.completion && !(receipt && sameReceipt(receipt.data, outcome.completion.receipt)))
      return undefined;

    const revision = prepared.base.revision + 1;
    await storeFormRevision(tx, ctx.keys, {
      consentId,
      revision,
      bytes: appended.bytes,
      sha256: appended.sha256,
      at: signedAt,
    });
    await recordSignature(tx, ctx.keys, consentId, actor.role, {
      signedAt,
      place,
      signedName: appended.signature.signerName,
      identityIssuer: actor.identity.issuer,
      identityAcr: actor.identity.acr ?? null,
      identityAuthTime: actor.identity.authTime ?? null,
      soleGuardianConfirmed: locked.consent.soleGuardian && actor.role === 'guardian1' ? true : null,
      documentRevision: revision,
    });
    await markInvitationsUsed(tx, consentId, actor.role, signedAt);
    await appendAuditEvent(tx, {
      consentId,
      action: 'signed',
      actor,
      at: signedAt,
      requestId,
      details: {
        role: actor.role,
        revision,
        documentSha256: appended.sha256,
        level: appended.signature.level,
      },
    });
    const result: SignConsentResult = {
      consentId,
      role: actor.role,
      signedAt,
      revision,
      documentSha256: appended.sha256,
      status: outcome.status,
      completed: false,
    };
    if (!outcome.completion || !receipt) return result;

    // The last required signature: the consent is in force from its time, with its receipt.
    const { window, completedAt, signers } = outcome.completion;
    await recordCompletion(tx, consentId, { completedAt, ...window });
    await revokeInvitations(tx, consentId, signedAt);
    await storeReceipt(tx, ctx.keys, { consentId, bytes: receipt.bytes, at: signedAt });
    await appendAuditEvent(tx, {
      consentId,
      action: 'completed',
      actor: SYSTEM,
      at: signedAt,
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

/** What the consent becomes with this signature: its status at `now`, and on completion the receipt's data. */
function signatureOutcome(
  loaded: LoadedConsent,
  actor: SignerActor,
  signature: { signedAt: Date; appended: AppendSignatureResult },
  now: Date,
): {
  status: ConsentStatus;
  completion?: {
    completedAt: Date;
    window: { validFrom: Date; validUntil: Date };
    signers: SignerRecord[];
    receipt: ReceiptData;
  };
} {
  const { signedAt, appended } = signature;
  const signers = loaded.signers.map((s) =>
    s.role === actor.role
      ? {
          ...s,
          signedAt,
          signedName: appended.signature.signerName,
          identityIssuer: actor.identity.issuer,
          identityAcr: actor.identity.acr ?? null,
        }
      : s,
  );
  const facts = consentFacts(loaded.consent, signers);
  const after = statusAt(facts, now);
  if (after.status !== 'active') return { status: after.status };
  const window = validityWindow(facts);
  if (!window || !after.completedAt) throw new Error('an active consent must have a validity window');
  const receipt: ReceiptData = {
    documentId: loaded.consent.id,
    templateVersion: loaded.consent.templateVersion,
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
  };
  return {
    status: after.status,
    completion: { completedAt: after.completedAt, window, signers, receipt },
  };
}

/** The receipt rendered outside the lock says what the locked facts say (same signatures, same times). */
const sameReceipt = (a: ReceiptData, b: ReceiptData): boolean => JSON.stringify(a) === JSON.stringify(b);

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

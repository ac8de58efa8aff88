// Use case: staff (or an API client on behalf of its organisation) asks for consent. Validates the people
// with the domain rules (consent-request-input.ts), renders the form (revision 0), and in one transaction
// stores the consent, its signers, one invitation link per signer for staff to show (QR / copy), the audit
// event, and queues the invitation messages (consent-request-insert.ts). An Idempotency-Key makes a
// retried request return the first result (consent-request-idempotency.ts).
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import type { ConsentPeople } from '../domain/roles.ts';
import { isAppError } from '../errors.ts';
import type { RenderedForm } from '../pdf/render.ts';
import { pdfWorkers } from '../pdf/pdf-workers.ts';
import {
  checkIdempotency,
  claimIdempotency,
  idempotencyOf,
  replayResult,
  storeIdempotentAnswer,
} from './consent-request-idempotency.ts';
import {
  type CreateConsentRequestInput,
  type RequestData,
  validateRequest,
} from './consent-request-input.ts';
import { type ConsentRequestResult, insertRequest } from './consent-request-insert.ts';
import { inTeam, loadRequester, NOT_IN_TEAM, type Requester } from './consent-request-requester.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { validationFailed } from './validation.ts';

export {
  type CreateConsentRequestInput,
  consentRequestFieldErrors,
  createConsentRequestSchema,
  firstPerField,
} from './consent-request-input.ts';
export type { ConsentRequestResult, RequestedSigner } from './consent-request-insert.ts';

export async function createConsentRequest(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: CreateConsentRequestInput,
): Promise<ConsentRequestResult> {
  return submitConsentRequest(ctx, actor, input, {});
}

// --- Shared with renew-consent.ts --------------------------------------------------------------------------

export interface SubmitOptions {
  renewedFrom?: string;
  /** Runs first in the transaction (renew: lock and check the consent it renews). */
  before?: (tx: Tx, now: Date) => Promise<void>;
  /** Runs last in the transaction, with the new consent's id. */
  after?: (tx: Tx, id: string, now: Date) => Promise<void>;
}

export async function submitConsentRequest(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: CreateConsentRequestInput,
  options: SubmitOptions,
): Promise<ConsentRequestResult> {
  const now = ctx.clock.now();
  const { idempotencyKey, requestId, ...body } = input;
  const checked = validateRequest(body, now, ctx.config.rules.youthSignatureAge);
  if (!checked.ok) {
    // The team is a field too: its problem belongs in the same answer.
    const { teamId } = body as { teamId?: unknown };
    if (
      !checked.errors.some((e) => e.field === 'teamId') &&
      typeof teamId === 'string' &&
      isUuid(teamId) &&
      !(await inTeam(ctx, actor.organisationId, teamId))
    )
      checked.errors.push(NOT_IN_TEAM);
    throw validationFailed(checked.errors);
  }
  const { data, people } = checked;

  const idempotency = idempotencyKey
    ? idempotencyOf(actor, idempotencyKey, data, options.renewedFrom)
    : undefined;
  if (idempotency) {
    const replay = await checkIdempotency(ctx, idempotency, now);
    if (replay) return replay;
  }

  const requester = await loadRequester(ctx, actor, data.teamId, data.obtainedByPhone);
  const id = randomUUID();
  const form = await renderForm(ctx, id, data, people, requester);

  const outcome = await ctx.db.transaction().execute(async (tx) => {
    if (idempotency) {
      const replayOf = await claimIdempotency(tx, idempotency, now);
      if (replayOf) return { kind: 'replay' as const, consentId: replayOf };
    }
    await options.before?.(tx, now);
    const result = await insertRequest(tx, ctx, actor, {
      id,
      data,
      people,
      requester,
      form,
      now,
      requestId,
      renewedFrom: options.renewedFrom,
    });
    if (idempotency) await storeIdempotentAnswer(tx, idempotency, id);
    await options.after?.(tx, id, now);
    return { kind: 'created' as const, result };
  });
  return outcome.kind === 'replay' ? replayResult(ctx, outcome.consentId, now) : outcome.result;
}

/** The renderer's field names → our input's field names. */
const RENDER_FIELD: Record<string, string> = { guardian1: 'guardians.0', guardian2: 'guardians.1' };

async function renderForm(
  ctx: ConsentContext,
  id: string,
  data: RequestData,
  people: ConsentPeople,
  requester: Requester,
): Promise<RenderedForm> {
  const [g1, g2] = data.guardians;
  // In a worker thread (the PDF libraries load there, with the first form), off the event loop.
  try {
    return await pdfWorkers(ctx.config.pdfRenderThreads).renderConsentForm({
      documentId: id,
      area: requester.organisation.hltArea,
      soleGuardian: data.soleGuardian,
      guardian1: {
        name: g1!.name,
        personalNumber: people.guardians[0]!.digits,
        phone: g1!.phone,
        protectedIdentity: g1!.protectedIdentity === true,
      },
      ...(g2 && people.guardians[1]
        ? {
            guardian2: {
              name: g2.name,
              personalNumber: people.guardians[1].digits,
              phone: g2.phone,
              protectedIdentity: g2.protectedIdentity === true,
            },
          }
        : {}),
      child: {
        name: data.child.name,
        personalNumber: people.child.digits,
        healthCentre: data.child.healthCentre,
        school: data.child.school,
      },
      requestingOrganisation: { name: requester.organisation.name },
      youthSigns: people.youthSigns,
      obtainedBy: requester.obtainedBy,
    });
  } catch (e) {
    if (isAppError(e) && e.code === 'validation_failed' && Array.isArray(e.extra?.fields)) {
      throw validationFailed(
        (e.extra.fields as string[]).map((f) => {
          const [head = '', ...rest] = f.split('.');
          return {
            field: [RENDER_FIELD[head] ?? head, ...rest].join('.'),
            message: 'Texten innehåller tecken som blanketten inte kan skriva ut.',
          };
        }),
      );
    }
    throw e;
  }
}

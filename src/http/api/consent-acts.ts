// Acting on consents (consent:write): asking for consent, and what staff or an API client may do to a
// request or consent afterwards — remind, cancel, end, register a withdrawal, renew. Each route authorizes
// the caller, then calls the one use case of its act.
import { consentRequestFieldErrors, firstPerField } from '../../consents/create-consent-request.ts';
import {
  cancelConsent,
  consentContext,
  createConsentRequest,
  endConsent,
  remindSigners,
  renewConsent,
  withdrawConsent,
} from '../../consents/index.ts';
import { type FieldError, validationFailed } from '../../consents/validation.ts';
import { AppError } from '../../errors.ts';
import { callerOf } from '../../identity/caller.ts';
import { assertAllowed, decide, organisationsOf } from '../../identity/policy.ts';
import { toAppError } from '../errors.ts';
import type { App } from '../types.ts';
import { actorOf, type ConsentAccess, noStore, TAGS, WRITE, withConflict } from './access.ts';
import { requestResultOut, signerOut } from './presenters.ts';
import {
  actResultSchema,
  consentParams,
  consentRequestResultSchema,
  endBodySchema,
  idempotencyHeaders,
  remindResultSchema,
  renewBodySchema,
  withdrawalBodySchema,
} from './schemas.ts';
import { newConsentRequestSchema } from './request-schema.ts';

/** The schema's problems with the body and the use case's, one message per field (the body's paths). */
function allFieldErrors(app: App, schemaError: Error, body: unknown): AppError {
  const own = toAppError(schemaError);
  const listed = Array.isArray(own.extra?.errors) ? (own.extra.errors as FieldError[]) : [];
  const shape = listed.map((e) => ({ ...e, field: e.field.replace(/^body\.?/, '') || 'body' }));
  const rules = consentRequestFieldErrors(body, app.clock.now(), app.config.rules.youthSignatureAge);
  return validationFailed(firstPerField([...shape, ...rules]));
}

/** POST /api/v1/consent-requests: ask for consent. */
export function createRoutes(app: App) {
  const ctx = () => consentContext(app);

  app.post(
    '/api/v1/consent-requests',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'Ask for consent',
        description:
          'Validates the child and guardians, renders the form, and sends one invitation per signer. The ' +
          'requesting organisation and "consent obtained by" come from the staff member (or the API ' +
          "client's organisation and named contact). Field problems are a 400 with `errors`.",
        headers: idempotencyHeaders,
        body: newConsentRequestSchema,
        response: { 201: consentRequestResultSchema, ...withConflict },
      },
      // A body the schema refuses is still checked by the use case's rules, so that a malformed e-mail
      // and a bad personal number come back in one answer, not in two rounds.
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError) throw allFieldErrors(app, request.validationError, request.body);
      const caller = callerOf(request);
      if (caller.kind === 'signer') throw new AppError('forbidden');
      const { organisationId: asked, ...body } = request.body;
      const organisationId =
        asked ??
        (caller.kind === 'api_client'
          ? caller.organisationId
          : (caller.teams.find(
              (t) => t.teamId === body.teamId && organisationsOf(caller).includes(t.organisationId),
            )?.organisationId ?? organisationsOf(caller)[0]));
      if (!organisationId) throw new AppError('forbidden');
      const decision = decide(caller, 'create', { organisationId, teamId: body.teamId, status: 'pending' });
      // A team the organisation is not in is a field problem of the request, not a missing resource.
      if (decision === 'not_found')
        throw validationFailed([
          { field: 'teamId', message: 'Din organisation ingår inte i det valda HLT-teamet.' },
        ]);
      assertAllowed(decision);
      const actor = actorOf(caller, { organisationId, teamId: body.teamId });
      const result = await createConsentRequest(
        ctx(),
        { ...actor, organisationId },
        { ...body, idempotencyKey: request.headers['idempotency-key'], requestId: request.id },
      );
      // The answer holds the invitation links (bearer secrets for the signers).
      noStore(reply);
      return reply.code(201).send(requestResultOut(result));
    },
  );
}

/** What is done to a request before it is complete: remind the signers, or cancel it. */
export function requestActRoutes(app: App, access: ConsentAccess) {
  const ctx = () => consentContext(app);

  app.post(
    '/api/v1/consents/:id/remind',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'Remind the signers who have not answered',
        description: 'Sends reminders with new links; the answer holds new links for staff to show.',
        params: consentParams,
        response: { 200: remindResultSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { actor } = await access.authorized(request, request.params.id, 'remind');
      const r = await remindSigners(ctx(), actor, { consentId: request.params.id, requestId: request.id });
      noStore(reply);
      return {
        consentId: r.consentId,
        remindedAt: r.remindedAt.toISOString(),
        signers: r.signers.map(signerOut),
      };
    },
  );

  app.post(
    '/api/v1/consents/:id/cancel',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'Cancel a request before it is complete',
        params: consentParams,
        response: { 200: actResultSchema, ...withConflict },
      },
    },
    async (request) => {
      const { actor } = await access.authorized(request, request.params.id, 'cancel');
      const r = await cancelConsent(ctx(), actor, { consentId: request.params.id, requestId: request.id });
      return { consentId: r.consentId, status: r.status, at: r.cancelledAt.toISOString() };
    },
  );
}

/** What is done to a consent: end it, register a withdrawal, renew it. */
export function consentActRoutes(app: App, access: ConsentAccess) {
  const ctx = () => consentContext(app);

  app.post(
    '/api/v1/consents/:id/end',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'The coordinated support ended: the consent ends with it',
        params: consentParams,
        body: endBodySchema,
        response: { 200: actResultSchema, ...withConflict },
      },
    },
    async (request) => {
      const { actor } = await access.authorized(request, request.params.id, 'end');
      const r = await endConsent(ctx(), actor, {
        consentId: request.params.id,
        ...request.body,
        requestId: request.id,
      });
      return { consentId: r.consentId, status: r.status, at: r.endedAt.toISOString(), date: r.endDate };
    },
  );

  app.post(
    '/api/v1/consents/:id/withdrawals',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'Register a withdrawal a signer made by phone, in person or by letter',
        description: 'The consent is `withdrawn` for everyone at once.',
        params: consentParams,
        body: withdrawalBodySchema,
        response: { 200: actResultSchema, ...withConflict },
      },
    },
    async (request) => {
      const { actor } = await access.authorized(request, request.params.id, 'register_withdrawal');
      const r = await withdrawConsent(ctx(), actor, {
        consentId: request.params.id,
        ...request.body,
        requestId: request.id,
      });
      return { consentId: r.consentId, status: r.status, at: r.withdrawnAt.toISOString(), role: r.role };
    },
  );

  app.post(
    '/api/v1/consents/:id/renew',
    {
      config: WRITE,
      schema: {
        tags: TAGS,
        summary: 'A new request prefilled from an expiring, expired or ended consent',
        params: consentParams,
        headers: idempotencyHeaders,
        body: renewBodySchema.optional(),
        response: { 201: consentRequestResultSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { actor } = await access.authorized(request, request.params.id, 'renew');
      const r = await renewConsent(ctx(), actor, {
        consentId: request.params.id,
        ...(request.body ?? {}),
        idempotencyKey: request.headers['idempotency-key'],
        requestId: request.id,
      });
      noStore(reply);
      return reply.code(201).send(requestResultOut(r));
    },
  );
}

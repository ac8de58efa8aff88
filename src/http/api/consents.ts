// The consent API (/api/v1, issue 6 "Staff API", "Status for other HLT systems"): thin routes over the
// consent use cases (src/consents/). Each route declares who may call it (`config.auth`, see
// src/identity/caller.ts), loads what the policy needs, asks `authorize` (src/identity/policy.ts) before
// acting — unrelated callers get 404 as if the consent did not exist — and maps the answer to the
// documented schema (./schemas.ts). No personal number ever leaves here; names and free text only where
// the policy lets the caller see them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { listAuditEvents } from '../../consents/audit.ts';
import {
  type ConsentRequestResult,
  consentRequestFieldErrors,
  firstPerField,
} from '../../consents/create-consent-request.ts';
import type { ConsentDetails } from '../../consents/get-consent.ts';
import {
  cancelConsent,
  consentContext,
  createConsentRequest,
  downloadConsentDocument,
  endConsent,
  findConsentsByChild,
  getConsent,
  getConsentStatus,
  listConsents,
  recordStatusCheck,
  remindSigners,
  renewConsent,
  withdrawConsent,
} from '../../consents/index.ts';
import type { ConsentStatusResult } from '../../consents/consent-status.ts';
import type { OrganisationActor } from '../../consents/context.ts';
import { type FieldError, validationFailed } from '../../consents/validation.ts';
import type { DocumentKind } from '../../db/schema.ts';
import { AppError } from '../../errors.ts';
import { type Caller, callerOf } from '../../identity/caller.ts';
import {
  actingOrganisationId,
  assertAllowed,
  type ConsentAction,
  type ConsentRef,
  consentVisibility,
  decide,
  organisationsOf,
  relationTo,
} from '../../identity/policy.ts';
import { toAppError } from '../errors.ts';
import { problemSchema } from '../problem.ts';
import type { App } from '../types.ts';
import {
  actResultSchema,
  consentDetailsSchema,
  consentPageSchema,
  consentParams,
  consentRequestResultSchema,
  consentStatusSchema,
  endBodySchema,
  eventsSchema,
  idempotencyHeaders,
  listQuerySchema,
  newConsentRequestSchema,
  pdfSchema,
  remindResultSchema,
  renewBodySchema,
  statusSearchBodySchema,
  statusSearchResultSchema,
  withdrawalBodySchema,
} from './schemas.ts';

const TAGS = ['consents'];
const READ = { auth: { scope: 'consent:read' } } as const;
const WRITE = { auth: { scope: 'consent:write' } } as const;
const STATUS = { auth: { scope: 'consent:status' } } as const;

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };
const withConflict = { ...errors, 409: problemSchema };

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

// --- Callers, actors, references ------------------------------------------------------------------------

/** The actor the use cases record (audit): the caller acting for its organisation on this consent. */
export function actorOf(
  caller: Caller,
  ref?: Pick<ConsentRef, 'organisationId' | 'teamId'>,
): OrganisationActor {
  if (caller.kind === 'api_client')
    return {
      type: 'api_client',
      clientId: caller.clientId,
      organisationId: caller.organisationId,
      contactName: caller.contactName ?? caller.name,
    };
  if (caller.kind === 'staff') {
    const organisationId = (ref && actingOrganisationId(caller, ref)) ?? organisationsOf(caller)[0];
    if (organisationId) return { type: 'staff', staffId: caller.staffId, organisationId };
  }
  // The route's `config.auth` lets only staff with a membership and API clients in.
  throw new AppError('forbidden');
}

/** The schema's problems with the body and the use case's, one message per field (the body's paths). */
function allFieldErrors(app: App, schemaError: Error, body: unknown): AppError {
  const own = toAppError(schemaError);
  const listed = Array.isArray(own.extra?.errors) ? (own.extra.errors as FieldError[]) : [];
  const shape = listed.map((e) => ({ ...e, field: e.field.replace(/^body\.?/, '') || 'body' }));
  const rules = consentRequestFieldErrors(body, app.clock.now(), app.config.rules.youthSignatureAge);
  return validationFailed(firstPerField([...shape, ...rules]));
}

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/**
 * `authorize`, with the policy's `not_found` worded exactly as the use cases word a consent that does
 * not exist: an unrelated caller must not tell the two apart, not even by the text.
 */
function authorizeOn(caller: Caller, action: ConsentAction, ref: ConsentRef): void {
  const decision = decide(caller, action, ref);
  if (decision === 'not_found') throw new AppError('not_found', 'Samtycket finns inte.');
  assertAllowed(decision);
}

export default async function consentRoutes(app: App) {
  const ctx = () => consentContext(app);

  /** What the policy needs about a consent (one query); 404 when there is none. */
  const refOf = (id: string) => getConsentStatus(app, id);

  /** Loads the consent, authorizes the caller for `action`, and gives the actor to record. */
  async function authorized(request: FastifyRequest, id: string, action: ConsentAction) {
    const caller = callerOf(request);
    const ref = await refOf(id);
    authorizeOn(caller, action, ref);
    return { caller, ref, actor: actorOf(caller, ref) };
  }

  // --- Create --------------------------------------------------------------------------------------------

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

  // --- Read ----------------------------------------------------------------------------------------------

  app.get(
    '/api/v1/consents',
    {
      config: READ,
      schema: {
        tags: TAGS,
        summary: "The organisation's consents, newest first",
        description:
          "The caller's organisation's consents and those of its HLT teams' other organisations (status " +
          "only; the child's name only while the caller may see the consent). Keyset pagination: pass " +
          '`nextCursor` as `cursor`. Never lists personal numbers.',
        querystring: listQuerySchema,
        response: { 200: consentPageSchema, ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const q = request.query;
      const page = await listConsents(app, {
        scope: consentVisibility(caller),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.teamId === undefined ? {} : { teamId: q.teamId }),
        ...(q.requestedFrom === undefined ? {} : { requestedFrom: q.requestedFrom as never }),
        ...(q.requestedTo === undefined ? {} : { requestedTo: q.requestedTo as never }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        includeNames: true,
      });
      const items = page.items.flatMap((item) => {
        const relation = relationTo(caller, item);
        if (relation === 'none' || decide(caller, 'status', item) !== 'allow') return [];
        const { childName, ...rest } = item;
        return [
          {
            ...rest,
            relation,
            requestedAt: item.requestedAt.toISOString(),
            requestExpiresAt: item.requestExpiresAt.toISOString(),
            validFrom: iso(item.validFrom),
            validUntil: iso(item.validUntil),
            ...(childName !== undefined && decide(caller, 'read', item) === 'allow' ? { childName } : {}),
          },
        ];
      });
      return { items, nextCursor: page.nextCursor, checkedAt: page.checkedAt.toISOString() };
    },
  );

  app.get(
    '/api/v1/consents/:id',
    {
      config: READ,
      schema: {
        tags: TAGS,
        summary: 'One consent in detail',
        description:
          'Status with reason, signers with state (never their numbers), validity and timeline. The other ' +
          'organisations of the HLT team see it only while it is `active`, without contact details, free ' +
          'text or timeline.',
        params: consentParams,
        response: { 200: consentDetailsSchema, ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const details = await getConsent(app, request.params.id);
      authorizeOn(caller, 'read', details);
      return detailsOut(details, relationTo(caller, details) === 'requesting');
    },
  );

  app.get(
    '/api/v1/consents/:id/events',
    {
      config: READ,
      schema: {
        tags: TAGS,
        summary: "The consent's audit timeline",
        description:
          'Every act, download and status look-up, oldest first. The requesting organisation only.',
        params: consentParams,
        response: { 200: eventsSchema, ...errors },
      },
    },
    async (request) => {
      await authorized(request, request.params.id, 'events');
      const events = await listAuditEvents(app.db, request.params.id);
      return {
        events: events.map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          action: e.action,
          actor: e.actor,
          requestId: e.requestId,
          details: e.details,
        })),
      };
    },
  );

  for (const [suffix, kind, summary] of [
    ['document', 'form', 'The signed form (its current revision), as a PDF'],
    ['document/receipt', 'receipt', 'The completion receipt, as a PDF'],
  ] as const) {
    app.get(
      `/api/v1/consents/:id/${suffix}`,
      {
        config: READ,
        schema: {
          tags: TAGS,
          summary,
          description:
            'An attachment with a file name without personal data, `Cache-Control: no-store`. Every ' +
            'download is an audit event. The other organisations of the HLT team only while it is `active`.',
          params: consentParams,
          response: { 200: pdfSchema, ...errors },
        },
      },
      async (request, reply) => downloadRoute(request, reply, request.params.id, kind),
    );
  }

  async function downloadRoute(request: FastifyRequest, reply: FastifyReply, id: string, kind: DocumentKind) {
    const { actor } = await authorized(request, id, 'document');
    const doc = await downloadConsentDocument(app, actor, { consentId: id, kind, requestId: request.id });
    return reply
      .header('content-type', doc.contentType)
      .header('content-disposition', `attachment; filename="${doc.fileName}"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(Buffer.from(doc.bytes.buffer, doc.bytes.byteOffset, doc.bytes.byteLength));
  }

  // --- Acts ----------------------------------------------------------------------------------------------

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
      const { actor } = await authorized(request, request.params.id, 'remind');
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
      const { actor } = await authorized(request, request.params.id, 'cancel');
      const r = await cancelConsent(ctx(), actor, { consentId: request.params.id, requestId: request.id });
      return { consentId: r.consentId, status: r.status, at: r.cancelledAt.toISOString() };
    },
  );

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
      const { actor } = await authorized(request, request.params.id, 'end');
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
      const { actor } = await authorized(request, request.params.id, 'register_withdrawal');
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
      const { actor } = await authorized(request, request.params.id, 'renew');
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

  // --- Status for other HLT systems ----------------------------------------------------------------------

  // The consent's facts are read while the caller is still being resolved (both are one short query,
  // batched with the other requests of the same turn), so a status check waits for one round trip, not two;
  // its audit row is then sent and committed behind the answer (`recordStatusCheck`). Nothing read is used
  // or shown until the caller is authorized.
  const statusReads = new WeakMap<FastifyRequest, Promise<ConsentStatusResult>>();

  app.get(
    '/api/v1/consents/:id/status',
    {
      config: STATUS,
      onRequest: (request, _reply, done) => {
        // Without credentials the caller is turned away before the handler: no read for them.
        if (!request.headers.authorization && !request.headers.cookie) return done();
        const read = refOf((request.params as { id: string }).id);
        // Settled here too: a caller turned away before the handler must not leave a rejection unheard.
        read.catch(() => {});
        statusReads.set(request, read);
        done();
      },
      schema: {
        tags: ['status'],
        summary: 'Whether a consent is in force, right now',
        description:
          'Computed at the moment of asking from the stored facts, so it is right the instant after a ' +
          'withdrawal or at 00:00 on the expiry day. The requesting organisation and the other ' +
          'organisations of its HLT team. Each look-up is an audit event.',
        params: consentParams,
        // 503: too many audit rows of status checks not yet committed (db/write-behind.ts).
        response: { 200: consentStatusSchema, ...errors, 503: problemSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const s = await (statusReads.get(request) ?? refOf(request.params.id));
      authorizeOn(caller, 'status', s);
      await recordStatusCheck(app.db, s, actorOf(caller, s), request.id);
      noStore(reply);
      return statusOut(s);
    },
  );

  app.post(
    '/api/v1/consent-status/search',
    {
      config: STATUS,
      schema: {
        tags: ['status'],
        summary: "A child's consents that the caller's organisation may know of, with status",
        description:
          "The child's personal number goes in the body, never in a URL. Each consent found gets an " +
          'audit event (who asked, when).',
        body: statusSearchBodySchema,
        response: { 200: statusSearchResultSchema, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const found = await findConsentsByChild(app, actorOf(caller), {
        childPersonalNumber: request.body.childPersonalNumber,
        scope: consentVisibility(caller),
        requestId: request.id,
      });
      noStore(reply);
      return {
        checkedAt: found.checkedAt.toISOString(),
        consents: found.consents
          .filter((c) => decide(caller, 'status', c) === 'allow')
          .map((c) => ({ ...statusOut(c), requestedAt: c.requestedAt.toISOString() })),
      };
    },
  );
}

// --- Mapping -------------------------------------------------------------------------------------------

type StatusLike = {
  id: string;
  status: z.infer<typeof consentStatusSchema>['status'];
  reason: z.infer<typeof consentStatusSchema>['reason'];
  validFrom: Date | null;
  validUntil: Date | null;
  checkedAt: Date;
};

function statusOut(s: StatusLike): z.infer<typeof consentStatusSchema> {
  return {
    id: s.id,
    status: s.status,
    reason: s.reason,
    validFrom: iso(s.validFrom),
    validUntil: iso(s.validUntil),
    checkedAt: s.checkedAt.toISOString(),
  };
}

function signerOut(s: ConsentRequestResult['signers'][number]) {
  return {
    role: s.role,
    name: s.name,
    state: s.state,
    ...(s.invitation
      ? { invitation: { url: s.invitation.url, expiresAt: s.invitation.expiresAt.toISOString() } }
      : {}),
  };
}

function requestResultOut(r: ConsentRequestResult): z.infer<typeof consentRequestResultSchema> {
  return {
    id: r.id,
    status: r.status,
    requestedAt: r.requestedAt.toISOString(),
    requestExpiresAt: r.requestExpiresAt.toISOString(),
    renewedFrom: r.renewedFrom,
    replayed: r.replayed,
    signers: r.signers.map(signerOut),
  };
}

/** Details; for the other organisations of the team without contact details, free text or timeline. */
function detailsOut(d: ConsentDetails, requesting: boolean): z.infer<typeof consentDetailsSchema> {
  return {
    id: d.id,
    organisationId: d.organisationId,
    teamId: d.teamId,
    relation: requesting ? 'requesting' : 'team',
    status: d.status,
    reason: d.reason,
    statusSince: d.statusSince.toISOString(),
    checkedAt: d.checkedAt.toISOString(),
    validFrom: iso(d.validFrom),
    validUntil: iso(d.validUntil),
    requestedAt: d.requestedAt.toISOString(),
    requestExpiresAt: d.requestExpiresAt.toISOString(),
    completedAt: iso(d.completedAt),
    awaitingRoles: d.awaitingRoles,
    child: d.child,
    soleGuardian: d.soleGuardian,
    youthSigns: d.youthSigns,
    obtainedBy: d.obtainedBy,
    requestedBy: d.requestedBy,
    signers: d.signers.map((s) => ({
      role: s.role,
      name: s.name,
      state: s.state,
      signedAt: iso(s.signedAt),
      place: s.place,
      identifiedBy: s.identifiedBy,
      declinedAt: iso(s.declinedAt),
      lastRemindedAt: iso(s.lastRemindedAt),
      ...(requesting ? { contact: s.contact } : {}),
    })),
    declined: d.declined
      ? {
          role: d.declined.role,
          at: d.declined.at.toISOString(),
          ...(requesting ? { reason: d.declined.reason } : {}),
        }
      : null,
    withdrawal: d.withdrawal
      ? {
          role: d.withdrawal.role,
          at: d.withdrawal.at.toISOString(),
          channel: d.withdrawal.channel,
          date: d.withdrawal.date,
          ...(requesting ? { note: d.withdrawal.note } : {}),
        }
      : null,
    ended: d.ended
      ? { at: d.ended.at.toISOString(), date: d.ended.date, ...(requesting ? { note: d.ended.note } : {}) }
      : null,
    cancelledAt: iso(d.cancelledAt),
    renewedFrom: d.renewedFrom,
    renewedBy: d.renewedBy,
    documents: d.documents,
    timeline: requesting
      ? d.timeline.map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          action: e.action,
          actor: e.actor,
          requestId: e.requestId,
          details: e.details,
        }))
      : [],
  };
}

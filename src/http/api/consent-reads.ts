// Reading consents (consent:read): the organisation's list, one consent in detail, its audit timeline,
// and its documents. Unrelated callers get 404 as if the consent did not exist.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { listAuditEvents } from '../../consents/audit.repository.ts';
import { recordConsentView } from '../../consents/get-consent.ts';
import { downloadConsentDocument, getConsent, listConsents } from '../../consents/index.ts';
import type { DocumentKind } from '../../db/schema.ts';
import { callerOf } from '../../identity/caller.ts';
import { consentVisibility, decide, relationTo } from '../../identity/policy.ts';
import type { App } from '../types.ts';
import { actorOf, authorizeOn, type ConsentAccess, errors, READ, TAGS } from './access.ts';
import { detailsOut, eventOut, isRequester, iso } from './presenters.ts';
import {
  consentDetailsSchema,
  consentPageSchema,
  consentParams,
  eventsSchema,
  listQuerySchema,
  pdfSchema,
} from './schemas.ts';

export function readRoutes(app: App, access: ConsentAccess) {
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
      // A read of the details is an audit event the guardians see in their access log (issue 16 §3).
      await recordConsentView(app, actorOf(caller, details), {
        consentId: details.id,
        scope: 'content',
        via: 'api',
        requestId: request.id,
      });
      return detailsOut(details, relationTo(caller, details) === 'requesting', isRequester(details, caller));
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
      await access.authorized(request, request.params.id, 'events');
      const events = await listAuditEvents(app.db, request.params.id);
      return {
        events: events.map(eventOut),
      };
    },
  );
}

/** The consent's documents, as PDF downloads. */
export function documentRoutes(app: App, access: ConsentAccess) {
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
    const { actor } = await access.authorized(request, id, 'document');
    const doc = await downloadConsentDocument(app, actor, { consentId: id, kind, requestId: request.id });
    return reply
      .header('content-type', doc.contentType)
      .header('content-disposition', `attachment; filename="${doc.fileName}"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(Buffer.from(doc.bytes.buffer, doc.bytes.byteOffset, doc.bytes.byteLength));
  }
}

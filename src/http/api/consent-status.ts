// Status for other HLT systems (consent:status): whether one consent is in force right now, and a child's
// consents found by personal number (in the body, never in a URL). Each look-up is an audit event.
import type { FastifyRequest } from 'fastify';
import type { ConsentStatusResult } from '../../consents/consent-status.ts';
import { findConsentsByChild, recordStatusCheck } from '../../consents/index.ts';
import { callerOf } from '../../identity/caller.ts';
import { consentVisibility, decide } from '../../identity/policy.ts';
import { problemSchema } from '../problem.ts';
import type { App } from '../types.ts';
import { actorOf, authorizeOn, type ConsentAccess, errors, noStore, STATUS } from './access.ts';
import { statusOut } from './presenters.ts';
import {
  consentParams,
  consentStatusSchema,
  statusSearchBodySchema,
  statusSearchResultSchema,
} from './schemas.ts';

export function statusRoutes(app: App, access: ConsentAccess) {
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
        const read = access.refOf((request.params as { id: string }).id);
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
      const s = await (statusReads.get(request) ?? access.refOf(request.params.id));
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

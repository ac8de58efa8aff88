// Status for other HLT systems (consent:status): whether one consent is in force right now, and a child's
// consents found by personal number (in the body, never in a URL). Each look-up is an audit event.
import type { FastifyRequest } from 'fastify';
import type { ConsentStatusResult } from '../../consents/consent-status.ts';
import { recordStatusCheck } from '../../consents/index.ts';
import { AppError } from '../../errors.ts';
import { bearsTokenFor, callerOf } from '../../identity/caller.ts';
import { quotaMessage, searchByChild } from '../child-lookup.ts';
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
  // For a caller with an access token, the consent's facts are read while its client's access is read (both
  // are one short query, batched with the other requests of the same turn), so a status check waits for one
  // round trip, not two; its audit row is then sent and committed behind the answer (`recordStatusCheck`).
  // Only once the token is authenticated (signature, expiry, the scope in its claims: in memory, no query):
  // a request without one, with an invalid token or with only a cookie has nothing read about the consent
  // before its caller is resolved (issue 15 §5). Nothing read is used or shown until the caller is authorized.
  const statusReads = new WeakMap<FastifyRequest, Promise<ConsentStatusResult>>();

  app.get(
    '/api/v1/consents/:id/status',
    {
      config: STATUS,
      onRequest: (request, _reply, done) => {
        // Anyone else is resolved first, in the preHandler, and read for in the handler if authorized.
        if (!bearsTokenFor(request, STATUS.auth.scope)) return done();
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
      // Per API client or staff member, once the caller is known (after the auth hook).
      preHandler: app.limits.childSearch.hook,
      schema: {
        tags: ['status'],
        summary: "A child's consents that the caller's organisation may know of, with status",
        description:
          "The child's personal number goes in the body, never in a URL. Every search is recorded, " +
          'found or not (who asked, when, how many consents were shown; never the number), and each ' +
          'consent shown gets an audit event. A caller has a quota of searches in a sliding window ' +
          '(CHILD_LOOKUP_QUOTA per CHILD_LOOKUP_QUOTA_WINDOW_MINUTES); past it, 429 with Retry-After.',
        body: statusSearchBodySchema,
        // 429: too many searches by this caller in a minute (RATE_LIMIT_CHILD_SEARCH_PER_CALLER), or past
        // its quota (CHILD_LOOKUP_QUOTA).
        response: { 200: statusSearchResultSchema, ...errors, 429: problemSchema },
      },
    },
    async (request, reply) => {
      const found = await searchByChild(request, reply, 'api', {
        childPersonalNumber: request.body.childPersonalNumber,
      });
      if (found.refused) throw new AppError('too_many_requests', quotaMessage(found.retryAfterSeconds));
      noStore(reply);
      return {
        checkedAt: found.checkedAt.toISOString(),
        consents: found.consents.map((c) => ({ ...statusOut(c), requestedAt: c.requestedAt.toISOString() })),
      };
    },
  );
}

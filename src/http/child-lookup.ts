// The search by child as both the API (POST /api/v1/consent-status/search) and the staff page
// (POST /personal/sok) make it: who searches and what the policy lets them see, the quota's Retry-After,
// and a burst made visible (issue 15 §2) — a warning when a caller reaches its quota (ids, organisations,
// count and window; never the number) and the counters of /metrics (metrics.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findConsentsByChild } from '../consents/index.ts';
import type { FindByChildResult } from '../consents/find-by-child.ts';
import { AppError } from '../errors.ts';
import { callerOf } from '../identity/caller.ts';
import { consentVisibility, decide, organisationsOf } from '../identity/policy.ts';
import { actorOf } from './api/access.ts';

export async function searchByChild(
  request: FastifyRequest,
  reply: FastifyReply,
  via: 'api' | 'staff_page',
  input: { childPersonalNumber: string; includeNames?: boolean },
): Promise<FindByChildResult> {
  const app = request.server;
  const caller = callerOf(request);
  if (caller.kind === 'signer') throw new AppError('forbidden');
  const actor =
    caller.kind === 'api_client'
      ? { type: 'api_client' as const, id: caller.clientId }
      : { type: 'staff' as const, id: caller.staffId };
  const organisationIds = organisationsOf(caller);
  const result = await findConsentsByChild(
    app,
    { actor, organisationIds, via },
    {
      childPersonalNumber: input.childPersonalNumber,
      scope: consentVisibility(caller),
      shownAs: (consent) =>
        decide(caller, 'status', consent) === 'allow' ? actorOf(caller, consent) : undefined,
      requestId: request.id,
      ...(input.includeNames ? { includeNames: true } : {}),
    },
  );
  const outcome = result.refused ? 'refused' : result.consents.length > 0 ? 'hit' : 'miss';
  app.metrics.childLookups.inc({ via, outcome });
  if (result.refused) {
    reply.header('retry-after', String(result.retryAfterSeconds));
    return result;
  }
  if (result.quota.used === result.quota.quota) {
    app.metrics.childLookupQuotaReached.inc({ via, caller: actor.type });
    request.log.warn(
      {
        event: 'child_lookup_quota_reached',
        callerType: actor.type,
        callerId: actor.id,
        organisationIds,
        count: result.quota.used,
        windowSeconds: result.quota.windowSeconds,
      },
      'searches by child: quota reached',
    );
  }
  return result;
}

/** The Swedish words for a refusal (the API's problem detail, the staff page's message). */
export function quotaMessage(retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return (
    'Du har sökt på för många personnummer under kort tid. ' +
    `Försök igen om ${minutes <= 1 ? 'en minut' : `${minutes} minuter`}.`
  );
}

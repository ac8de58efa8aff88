// What every consent API route shares: who may call it (`config.auth`), its error answers, and the way
// it checks the caller against the consent (policy.ts `authorize`) and names the actor the use case
// records.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getConsentStatus } from '../../consents/index.ts';
import type { OrganisationActor } from '../../consents/context.ts';
import { AppError } from '../../errors.ts';
import { type Caller, callerOf } from '../../identity/caller.ts';
import {
  actingOrganisationId,
  assertAllowed,
  type ConsentAction,
  type ConsentRef,
  decide,
  organisationsOf,
} from '../../identity/policy.ts';
import { problemSchema } from '../problem.ts';
import type { App } from '../types.ts';

export const TAGS = ['consents'];
export const READ = { auth: { scope: 'consent:read' } } as const;
export const WRITE = { auth: { scope: 'consent:write' } } as const;
export const STATUS = { auth: { scope: 'consent:status' } } as const;

export const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };
export const withConflict = { ...errors, 409: problemSchema };

export const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

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

/**
 * `authorize`, with the policy's `not_found` worded exactly as the use cases word a consent that does
 * not exist: an unrelated caller must not tell the two apart, not even by the text.
 */
export function authorizeOn(caller: Caller, action: ConsentAction, ref: ConsentRef): void {
  const decision = decide(caller, action, ref);
  if (decision === 'not_found') throw new AppError('not_found', 'Samtycket finns inte.');
  assertAllowed(decision);
}

export interface ConsentAccess {
  /** What the policy needs about a consent (one query); 404 when there is none. */
  refOf(id: string): ReturnType<typeof getConsentStatus>;
  /** Loads the consent, authorizes the caller for `action`, and gives the actor to record. */
  authorized(
    request: FastifyRequest,
    id: string,
    action: ConsentAction,
  ): Promise<{ caller: Caller; ref: ConsentRef; actor: OrganisationActor }>;
}

export function consentAccess(app: App): ConsentAccess {
  const refOf = (id: string) => getConsentStatus(app, id);
  return {
    refOf,
    async authorized(request, id, action) {
      const caller = callerOf(request);
      const ref = await refOf(id);
      authorizeOn(caller, action, ref);
      return { caller, ref, actor: actorOf(caller, ref) };
    },
  };
}

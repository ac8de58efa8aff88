// What every admin route shares: its auth, its base path, and the check that the caller administers the
// organisation of the path.
import type { FastifyRequest } from 'fastify';
import { callerOf } from '../../identity/caller.ts';
import { assertAllowed, decideAdmin } from '../../identity/policy.ts';

export const ADMIN = { auth: { staff: true, admin: true } } as const;
export const BASE = '/api/v1/admin/organisations/:organisationId';

/** The admin's caller, after checking they administer the organisation (403 own staff, 404 others). */
export function requireAdmin(request: FastifyRequest, organisationId: string) {
  const caller = callerOf(request);
  assertAllowed(decideAdmin(caller, organisationId));
  return caller;
}

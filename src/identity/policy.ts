// Who may do what to which consent: the one authorization policy, called from every route and never
// re-implemented in one. Pure functions over the caller (caller.ts), a reference to the consent and what
// the lifecycle code knows about the caller's link to it. Rules: issue 6, "Who may see what".
//
// - The requesting organisation (its staff and its API clients): everything about its consents, always.
//   API clients need the action's scope; staff sessions hold every consent scope.
// - The other organisations of the consent's HLT team: its status at any time; the form and document only
//   while the consent is `active` — that is what the consent allows.
// - Signers: their own consents (matched by personal number by the lifecycle code: `isSigner`).
// - Anyone else, including another organisation's staff or clients: `not_found`, exactly as if the
//   consent did not exist, so that its existence does not leak. Never `forbidden` for them.
// - Staff with role `admin` manage their organisation's staff and API clients (`decideAdmin`).
import type { ConsentStatus } from '../domain/consent.ts';
import { AppError } from '../errors.ts';
import type { ConsentScope } from './api-clients.ts';
import type { Caller } from './caller.ts';

export const CONSENT_ACTIONS = [
  'status',
  'read',
  'document',
  'events',
  'remind',
  'cancel',
  'end',
  'register_withdrawal',
  'renew',
  'withdraw',
  'create',
] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

/** What the other organisations of the consent's HLT team may do. */
export type TeamAccess = 'always' | 'while_active' | 'never';

export interface ActionRule {
  /** The scope an API client's token must carry. Staff sessions hold every consent scope. */
  scope: ConsentScope;
  /** The requesting organisation may (false only for a signer's own act). */
  requesting: boolean;
  team: TeamAccess;
  /** A signer of the consent may, on their own consent. */
  signer: boolean;
}

/** THE table. Change a rule here and the table-driven test (test/identity/policy.test.ts). */
export const CONSENT_POLICY: Readonly<Record<ConsentAction, ActionRule>> = {
  status: { scope: 'consent:status', requesting: true, team: 'always', signer: true },
  read: { scope: 'consent:read', requesting: true, team: 'while_active', signer: true },
  document: { scope: 'consent:read', requesting: true, team: 'while_active', signer: true },
  events: { scope: 'consent:read', requesting: true, team: 'never', signer: false },
  remind: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
  cancel: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
  end: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
  register_withdrawal: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
  renew: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
  // A signer withdraws their own consent ("Mina samtycken"); the organisation uses register_withdrawal.
  withdraw: { scope: 'consent:write', requesting: false, team: 'never', signer: true },
  create: { scope: 'consent:write', requesting: true, team: 'never', signer: false },
};

/**
 * The consent acted on. For `create`: the organisation the request is made for and the chosen team
 * (the status is ignored).
 */
export interface ConsentRef {
  organisationId: string;
  teamId: string;
  status: ConsentStatus;
}

export interface PolicyContext {
  /** The caller (a signer) is one of the consent's signers, as matched by the lifecycle code. */
  isSigner?: boolean;
}

/**
 * `allow`; `not_found` (answer 404 as if the consent did not exist); `forbidden` (the caller may know the
 * consent but not do this); `insufficient_scope` (an API client of a related organisation lacks the scope).
 */
export type Decision = 'allow' | 'not_found' | 'forbidden' | 'insufficient_scope';

/** How an organisation caller relates to a consent. */
export type Relation = 'requesting' | 'team' | 'none';

/** The organisations a caller acts for: a client's one, a staff member's active memberships. */
export function organisationsOf(caller: Caller): string[] {
  if (caller.kind === 'api_client') return [caller.organisationId];
  if (caller.kind === 'staff') return caller.memberships.map((m) => m.organisationId);
  return [];
}

export function relationTo(caller: Caller, ref: Pick<ConsentRef, 'organisationId' | 'teamId'>): Relation {
  if (caller.kind === 'signer') return 'none';
  if (organisationsOf(caller).includes(ref.organisationId)) return 'requesting';
  return caller.teams.some((t) => t.teamId === ref.teamId) ? 'team' : 'none';
}

const hasScope = (caller: Caller, scope: ConsentScope) =>
  caller.kind === 'staff' || (caller.kind === 'api_client' && caller.scopes.includes(scope));

export function decide(
  caller: Caller,
  action: ConsentAction,
  ref: ConsentRef,
  context: PolicyContext = {},
): Decision {
  const rule = CONSENT_POLICY[action];
  if (caller.kind === 'signer') {
    if (action === 'create' || !context.isSigner) return 'not_found';
    return rule.signer ? 'allow' : 'forbidden';
  }
  if (action === 'create') {
    if (!organisationsOf(caller).includes(ref.organisationId)) return 'forbidden';
    // The team must be one the requesting organisation belongs to; another team is unknown to it.
    if (!caller.teams.some((t) => t.teamId === ref.teamId && t.organisationId === ref.organisationId))
      return 'not_found';
    return hasScope(caller, rule.scope) ? 'allow' : 'insufficient_scope';
  }
  const relation = relationTo(caller, ref);
  if (relation === 'none') return 'not_found';
  if (!hasScope(caller, rule.scope)) return 'insufficient_scope';
  if (relation === 'requesting') return rule.requesting ? 'allow' : 'forbidden';
  const teamMay = rule.team === 'always' || (rule.team === 'while_active' && ref.status === 'active');
  return teamMay ? 'allow' : 'forbidden';
}

/** Turns a decision into the error the route answers with (nothing for `allow`). */
export function assertAllowed(decision: Decision): void {
  if (decision === 'allow') return;
  throw new AppError(decision);
}

/** `decide` + `assertAllowed`: what a route calls. */
export function authorize(
  caller: Caller,
  action: ConsentAction,
  ref: ConsentRef,
  context: PolicyContext = {},
): void {
  assertAllowed(decide(caller, action, ref, context));
}

/**
 * The organisation a staff member or client acts for on this consent (for audit events): the requesting
 * organisation if they belong to it, else their organisation in the consent's team.
 */
export function actingOrganisationId(
  caller: Caller,
  ref: Pick<ConsentRef, 'organisationId' | 'teamId'>,
): string | undefined {
  if (caller.kind === 'signer') return undefined;
  const orgs = organisationsOf(caller);
  if (orgs.includes(ref.organisationId)) return ref.organisationId;
  return caller.teams.find((t) => t.teamId === ref.teamId && orgs.includes(t.organisationId))?.organisationId;
}

/**
 * What a list or search query may look at: consents of these organisations, and of these teams (for which
 * each row must still pass `decide`). Signers are matched by personal number instead.
 */
export function consentVisibility(caller: Caller): { organisationIds: string[]; teamIds: string[] } {
  if (caller.kind === 'signer') return { organisationIds: [], teamIds: [] };
  return {
    organisationIds: organisationsOf(caller),
    teamIds: [...new Set(caller.teams.map((t) => t.teamId))],
  };
}

/**
 * Managing an organisation's staff and API clients: its admins may; its other staff get `forbidden`;
 * everyone else `not_found`.
 */
export function decideAdmin(caller: Caller, organisationId: string): Decision {
  if (caller.kind !== 'staff') return 'not_found';
  const membership = caller.memberships.find((m) => m.organisationId === organisationId);
  if (!membership) return 'not_found';
  return membership.role === 'admin' ? 'allow' : 'forbidden';
}

// GET /personal: the staff start. Logged out: a page with "Logga in". Logged in: the consents of the
// staff member's organisations and of their HLT teams (policy.ts `consentVisibility`), newest first, with
// filters (a GET form) and a keyset "Fler" link. Never a personal number; the child's name only where the
// policy lets the caller read the consent.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FILTER_DATE_MESSAGE } from '../../consents/list-consents.ts';
import { listConsents } from '../../consents/index.ts';
import { CONSENT_STATUSES, type ConsentStatus } from '../../domain/consent.ts';
import { isDateInWindow, isLocalDate, type LocalDate } from '../../domain/dates.ts';
import type { StaffCaller } from '../../identity/caller.ts';
import { sessionExpired } from '../../identity/sessions.ts';
import { consentVisibility } from '../../identity/policy.ts';
import type { App } from '../types.ts';
import { fieldErrors, isValidationError, statusLabel, staffFrame, text } from './common.ts';
import { consentRow } from './search.ts';
import { organisationNames, teamNames } from './directory.ts';

export const LOGIN_HREF = '/auth/staff/login?returnTo=%2Fpersonal';

export function loginPage(reply: FastifyReply, status = 200, notice?: string) {
  return reply.page(
    'staff/login',
    { title: 'Logga in som personal', area: 'staff', loginHref: LOGIN_HREF, notice },
    status,
  );
}

interface Filters {
  status: string;
  teamId: string;
  from: string;
  to: string;
}

export default async function listRoutes(app: App) {
  app.get('/personal', { schema: { hide: true }, config: { auth: false } }, async (request, reply) => {
    const caller = await request.getCaller();
    if (!caller || caller.kind !== 'staff')
      return loginPage(
        reply,
        200,
        sessionExpired(request) ? 'Du har varit inaktiv för länge. Logga in igen.' : undefined,
      );
    if (caller.memberships.length === 0)
      return loginPage(reply, 403, 'Ditt konto har ingen aktiv behörighet i någon verksamhet.');
    return listPage(app, request, reply, caller);
  });
}

async function listPage(app: App, request: FastifyRequest, reply: FastifyReply, caller: StaffCaller) {
  const q = request.query;
  const filters: Filters = {
    status: text(q, 'status'),
    teamId: text(q, 'team'),
    from: text(q, 'from'),
    to: text(q, 'to'),
  };
  const errors: Record<string, string> = {};
  const status = (CONSENT_STATUSES as readonly string[]).includes(filters.status)
    ? (filters.status as ConsentStatus)
    : undefined;
  const date = (name: 'from' | 'to'): LocalDate | undefined => {
    const v = filters[name];
    if (v === '') return undefined;
    if (isDateInWindow(v)) return v;
    errors[name] = isLocalDate(v) ? FILTER_DATE_MESSAGE : 'Ange datumet som ÅÅÅÅ-MM-DD.';
    return undefined;
  };
  const requestedFrom = date('from');
  const requestedTo = date('to');
  const visibility = consentVisibility(caller);
  const teamIds = visibility.teamIds;
  const teamId = teamIds.includes(filters.teamId) ? filters.teamId : undefined;
  const cursor = text(q, 'cursor') || undefined;

  let page: Awaited<ReturnType<typeof listConsents>> = { items: [], nextCursor: null, checkedAt: new Date() };
  try {
    page = await listConsents(
      { db: app.db, keys: app.keys, clock: app.clock },
      {
        scope: visibility,
        ...(status ? { status } : {}),
        ...(teamId ? { teamId } : {}),
        ...(requestedFrom ? { requestedFrom } : {}),
        ...(requestedTo ? { requestedTo } : {}),
        ...(cursor ? { cursor } : {}),
        includeNames: true,
      },
    );
  } catch (e) {
    if (!isValidationError(e)) throw e;
    Object.assign(errors, { cursor: fieldErrors(e).list[0]?.message ?? 'Ogiltig sida.' });
  }

  const [teams, orgs] = await Promise.all([
    teamNames(app.db, teamIds),
    organisationNames(app.db, [
      ...new Set([
        ...caller.memberships.map((m) => m.organisationId),
        ...page.items.map((i) => i.organisationId),
      ]),
    ]),
  ]);
  const rows = page.items.map((item) => {
    const signed = item.signers.filter((s) => s.state === 'signed').length;
    return {
      ...consentRow(caller, item, { orgs, teams }),
      signatures: `${signed} av ${item.signers.length}`,
    };
  });
  const keep = new URLSearchParams();
  if (status) keep.set('status', status);
  if (teamId) keep.set('team', teamId);
  if (requestedFrom) keep.set('from', requestedFrom);
  if (requestedTo) keep.set('to', requestedTo);
  const moreHref = page.nextCursor
    ? `/personal?${new URLSearchParams([...keep, ['cursor', page.nextCursor]]).toString()}`
    : null;

  return reply.page('staff/list', {
    ...staffFrame(request, 'Samtycken', '/personal'),
    csrf: request.session?.csrfToken ?? '',
    rows,
    filters,
    errors,
    errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
    statuses: CONSENT_STATUSES.map((s) => ({ value: s, label: statusLabel(s) })),
    teams: [...teams].map(([id, name]) => ({ id, name })),
    moreHref,
    firstHref: cursor ? `/personal${keep.size ? `?${keep.toString()}` : ''}` : null,
    filtered: keep.size > 0,
    canCreate: caller.teams.some((t) =>
      caller.memberships.some((m) => m.organisationId === t.organisationId),
    ),
  });
}

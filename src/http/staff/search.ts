// POST /personal/sok: search the consents the caller may know of by the child's personal number. A POST
// form, so that the number never lands in a URL, the browser history or a log; every search is recorded
// and counted against the staff member's quota, and each consent shown gets an audit event
// (find-by-child.ts, http/child-lookup.ts), as the API's search does. The child's name only where the
// policy lets the caller read the consent; a row without it says why.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChildConsent } from '../../consents/find-by-child.ts';
import { callerOf, type StaffCaller } from '../../identity/caller.ts';
import { requireCsrf } from '../../identity/csrf.ts';
import { decide, relationTo } from '../../identity/policy.ts';
import { quotaMessage, searchByChild } from '../child-lookup.ts';
import type { App } from '../types.ts';
import { fieldErrors, fmtDate, isValidationError, lastDay, staffFrame, statusLabel, text } from './common.ts';
import { organisationNames, teamNames } from './directory.ts';

const STAFF_ONLY = { auth: { staff: true } } as const;

/** A consent row as the list and the search show it. */
export function consentRow(
  caller: StaffCaller,
  item: Pick<ChildConsent, 'id' | 'organisationId' | 'teamId' | 'status' | 'requestedAt' | 'validUntil'> & {
    childName?: string | undefined;
  },
  names: { orgs: Map<string, string>; teams: Map<string, string> },
) {
  const ref = { organisationId: item.organisationId, teamId: item.teamId, status: item.status };
  const mayRead = decide(caller, 'read', ref) === 'allow';
  return {
    id: item.id,
    href: `/samtycken/${item.id}`,
    requestedAt: fmtDate(item.requestedAt),
    child: mayRead ? (item.childName ?? '') : null,
    own: relationTo(caller, ref) === 'requesting',
    organisation: names.orgs.get(item.organisationId) ?? '',
    team: names.teams.get(item.teamId) ?? '',
    status: item.status,
    statusLabel: statusLabel(item.status),
    validUntil: item.status === 'active' ? lastDay(item.validUntil) : '',
  };
}

async function searchPage(
  app: App,
  request: FastifyRequest,
  reply: FastifyReply,
  state: { value: string; error?: string; found?: ChildConsent[]; refused?: string },
) {
  const caller = callerOf(request) as StaffCaller;
  const found = state.found ?? [];
  const [orgs, teams] = await Promise.all([
    organisationNames(app.db, [...new Set(found.map((c) => c.organisationId))]),
    teamNames(app.db, [...new Set(found.map((c) => c.teamId))]),
  ]);
  return reply.page(
    'staff/search',
    {
      ...staffFrame(request, state.error ? 'Fel i formuläret – Sök på personnummer' : 'Sök på personnummer'),
      csrf: request.session?.csrfToken ?? '',
      value: state.value,
      error: state.error,
      refused: state.refused,
      searched: state.found !== undefined,
      rows: found.map((c) => consentRow(caller, c, { orgs, teams })),
    },
    state.refused ? 429 : state.error ? 400 : 200,
  );
}

export default async function searchRoutes(app: App) {
  app.get('/personal/sok', { schema: { hide: true }, config: STAFF_ONLY }, async (request, reply) =>
    searchPage(app, request, reply, { value: '' }),
  );

  app.post(
    '/personal/sok',
    { schema: { hide: true }, config: STAFF_ONLY, preHandler: [app.limits.childSearch.hook, requireCsrf] },
    async (request, reply) => {
      const value = text(request.body, 'personalNumber');
      if (value === '')
        return searchPage(app, request, reply, { value, error: 'Ange barnets personnummer.' });
      try {
        // Recorded and counted against the caller's quota, with every organisation it belongs to.
        const result = await searchByChild(request, reply, 'staff_page', {
          childPersonalNumber: value,
          includeNames: true,
        });
        if (result.refused)
          return searchPage(app, request, reply, {
            value: '',
            refused: quotaMessage(result.retryAfterSeconds),
          });
        return searchPage(app, request, reply, { value, found: result.consents });
      } catch (e) {
        if (!isValidationError(e)) throw e;
        const message = fieldErrors(e).list[0]?.message ?? 'Ogiltigt personnummer.';
        return searchPage(app, request, reply, {
          value,
          error:
            message === 'Ogiltigt personnummer.'
              ? 'Personnumret är inte giltigt. Kontrollera siffrorna.'
              : message,
        });
      }
    },
  );
}

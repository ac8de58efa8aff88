// Read: the guardians' access log (issue 16 §3). Who outside the family has opened, downloaded, checked
// or searched a consent: the organisation, the staff member or system, what, and when — per Swedish day,
// so that a system's status checks are one line a day ("14 times on 3 December"). What Swedish patients
// can ask for as a log extract (patientdatalagen, SFS 2008:355); here it is always at hand.
//
// Authorisation is the caller's: only a signer of the consent may see it (http/signer/common.ts
// `ownConsent`). The log names staff and systems, never a person's number; the signers' own acts are left
// out (they know them), and so are the service's own, which read nothing for anyone.
import { isUuid } from '../db/uuid.ts';
import { isLocalDate, type LocalDate } from '../domain/dates.ts';
import { type AccessKind, ACCESS_KINDS, accessLogGroups } from './access-log.repository.ts';
import type { ConsentContext } from './context.ts';

export type { AccessKind };

/** Groups per page: a year of daily checks by two systems is a handful of pages. */
export const ACCESS_LOG_PAGE_SIZE = 50;
/** Pages beyond this are not asked for (a crafted `page` must not make a huge OFFSET). */
export const ACCESS_LOG_MAX_PAGE = 1000;

export interface AccessLogEntry {
  /** The Swedish local day of the acts. */
  day: LocalDate;
  kind: AccessKind;
  /** Who: a staff member (name and title) or a system (the API client's name); null when unknown. */
  by:
    | { type: 'staff'; name: string | null; title: string | null }
    | { type: 'api_client'; name: string | null };
  /** The organisation they acted for. */
  organisationName: string | null;
  /** How many times that day. */
  count: number;
  firstAt: Date;
  lastAt: Date;
}

export interface AccessLog {
  entries: AccessLogEntry[];
  /** 1-based. */
  page: number;
  /** At least 1. */
  pageCount: number;
}

const isKind = (k: string): k is AccessKind => (ACCESS_KINDS as readonly string[]).includes(k);

/** One page of the consent's access log, newest first. An unknown consent has an empty log. */
export async function getAccessLog(
  ctx: Pick<ConsentContext, 'db'>,
  consentId: string,
  input: { page?: number } = {},
): Promise<AccessLog> {
  const wanted = Math.trunc(input.page ?? 1);
  const page = Number.isFinite(wanted) ? Math.min(Math.max(wanted, 1), ACCESS_LOG_MAX_PAGE) : 1;
  if (!isUuid(consentId)) return { entries: [], page, pageCount: 1 };
  const { rows, total } = await accessLogGroups(ctx.db, consentId, {
    limit: ACCESS_LOG_PAGE_SIZE,
    offset: (page - 1) * ACCESS_LOG_PAGE_SIZE,
  });
  const entries = rows.flatMap((r): AccessLogEntry[] => {
    if (!isKind(r.kind) || !isLocalDate(r.day)) return [];
    return [
      {
        day: r.day,
        kind: r.kind,
        by:
          r.actorType === 'staff'
            ? { type: 'staff', name: r.staffName, title: r.staffTitle }
            : { type: 'api_client', name: r.clientName },
        organisationName: r.organisationName,
        count: r.count,
        firstAt: r.firstAt,
        lastAt: r.lastAt,
      },
    ];
  });
  return { entries, page, pageCount: Math.max(1, Math.ceil(total / ACCESS_LOG_PAGE_SIZE)) };
}

// The access log in plain Swedish, one sentence per line: who (staff member or system, and the
// organisation), what, how many times, and when — e.g. "Elevhälsans system (verksamhetssystem,
// Björkskolan) kontrollerade status 14 gånger den 3 december 2026, kl. 08:00–16:30."
import type { AccessKind, AccessLog, AccessLogEntry } from '../../consents/access-log.ts';
import { swedishDate } from '../../domain/dates.ts';
import { swedishTime } from './common.ts';

const WHAT: Record<AccessKind, string> = {
  consent_viewed: 'öppnade samtycket',
  status_checked: 'kontrollerade status',
  form_downloaded: 'laddade ner det signerade dokumentet',
  unsigned_form_downloaded: 'laddade ner blanketten',
  receipt_downloaded: 'laddade ner kvittensen',
  looked_up_by_child: 'sökte på barnets personnummer',
};

export interface AccessLogLine {
  /** The staff member's or system's name. */
  who: string;
  /** Title and organisation, or "verksamhetssystem" and organisation. */
  about: string;
  /** What, how many times, on which day (the day is `day`, kept apart for its <time> element). */
  what: string;
  /** YYYY-MM-DD, for <time datetime>. */
  date: string;
  day: string;
  /** "kl. 14:05" or "kl. 08:00–16:30". */
  at: string;
}

const times = (n: number) => (n === 1 ? '' : ` ${n} gånger`);

export function accessLogLine(e: AccessLogEntry): AccessLogLine {
  const who = e.by.type === 'staff' ? (e.by.name ?? 'En anställd') : (e.by.name ?? 'Ett verksamhetssystem');
  const about = [e.by.type === 'staff' ? e.by.title : 'verksamhetssystem', e.organisationName]
    .filter((x): x is string => Boolean(x))
    .join(', ');
  const first = swedishTime(e.firstAt);
  const last = swedishTime(e.lastAt);
  return {
    who,
    about,
    what: `${WHAT[e.kind]}${times(e.count)}`,
    date: e.day,
    day: swedishDate(e.day),
    at: first === last ? `kl. ${last}` : `kl. ${first}–${last}`,
  };
}

/** The page's lines and the links to newer and older pages (`base` is the page's own path). */
export function accessLogView(log: AccessLog, base: string) {
  const link = (page: number) => (page === 1 ? base : `${base}?sida=${page}`);
  return {
    lines: log.entries.map(accessLogLine),
    page: log.page,
    pageCount: log.pageCount,
    newer: log.page > 1 ? link(Math.min(log.page - 1, log.pageCount)) : null,
    older: log.page < log.pageCount ? link(log.page + 1) : null,
  };
}

// The consent's timeline in plain Swedish: what happened, to whom, by which channel, and who did it.
// Built from the audit trail's details (kinds, roles, channels, dates: never personal data) and, for a
// registered withdrawal or end, the staff member's note stored on the consent itself.
import type { ConsentDetails } from '../../consents/get-consent.ts';
import type { AuditEvent } from '../../consents/audit.repository.ts';
import { isSignerRole, type SignerRole } from '../../domain/roles.ts';
import { CHANNEL_LABELS, fmtDateTime, ROLE_LABELS } from './common.ts';

const ACTION_LABELS: Record<string, string> = {
  consent_requested: 'Förfrågan skapades',
  consent_renewed: 'Förnyades med en ny förfrågan',
  signed: 'Signerade',
  completed: 'Alla hade signerat – samtycket började gälla',
  declined: 'Avböjde',
  withdrawn: 'Samtycket återkallades',
  ended: 'Samtycket avslutades: de samordnade insatserna har upphört',
  cancelled: 'Förfrågan avbröts',
  reminded: 'Påminnelse begärdes',
  request_expired: 'Förfrågan förföll',
  expired: 'Samtycket gick ut',
  wrong_person: 'Fel person försökte öppna en länk',
  notification_sent: 'Meddelande skickades',
  document_downloaded: 'Dokument laddades ner',
  // Left out of the timeline (get-consent.ts NOT_IN_TIMELINE); named in case a view ever shows it.
  consent_viewed: 'Samtycket öppnades',
};

/** Which message (notify/payload.ts NOTIFICATION_KINDS). */
const MESSAGE_LABELS: Record<string, string> = {
  invitation: 'Inbjudan att signera',
  reminder: 'Påminnelse om att signera',
  signed_by_all: 'Besked om att alla har signerat',
  declined: 'Besked om att någon avböjde',
  withdrawn: 'Besked om att samtycket återkallats',
  ending_soon: 'Besked om att samtycket snart slutar gälla',
  expired: 'Besked om att samtycket har gått ut',
  request_expired: 'Besked om att förfrågan förföll',
};

const MESSAGE_CHANNELS: Record<string, string> = { email: 'med e-post', sms: 'med sms' };

const DOCUMENT_LABELS: Record<string, string> = {
  form: 'Blanketten laddades ner',
  receipt: 'Kvittensen laddades ner',
};

const role = (r: unknown): SignerRole | null => (isSignerRole(r) ? r : null);
const roleText = (r: SignerRole) => ROLE_LABELS[r].toLowerCase();
const roleList = (v: unknown): string =>
  (Array.isArray(v) ? v : [])
    .map(role)
    .filter((r): r is SignerRole => r !== null)
    .map(roleText)
    .join(', ');

export interface TimelineEntry {
  at: string;
  what: string;
  /** Who did it; empty when the sentence already says it (messages the service sent). */
  who: string;
  /** The staff member's note of a registered withdrawal or end. */
  note: string | null;
}

/** One sentence per event, e.g. "Inbjudan att signera skickades till vårdnadshavare 1 med sms". */
export function describe(e: AuditEvent, consent: ConsentDetails): { what: string; note: string | null } {
  const d = e.details;
  switch (e.action) {
    case 'notification_sent': {
      const kind = MESSAGE_LABELS[String(d.kind)] ?? 'Meddelande';
      const r = role(d.role);
      const to =
        d.recipient === 'signer' && r
          ? ` till ${roleText(r)}`
          : d.recipient === 'staff'
            ? ' till personal'
            : d.recipient === 'api_client'
              ? ' till verksamhetssystemet'
              : '';
      const channel = MESSAGE_CHANNELS[String(d.channel)] ?? '';
      return { what: `${kind} skickades${to}${channel ? ` ${channel}` : ''}`, note: null };
    }
    case 'reminded': {
      const roles = roleList(d.roles);
      return { what: `Påminnelse begärdes${roles ? ` till ${roles}` : ''}`, note: null };
    }
    case 'withdrawn': {
      const r = role(d.role);
      const channel = CHANNEL_LABELS[String(d.channel) as keyof typeof CHANNEL_LABELS];
      const registered = e.actor.type === 'staff' || e.actor.type === 'api_client';
      const what = registered
        ? `Återkallelse registrerades: ${r ? roleText(r) : 'en av de tillfrågade'} återkallade${
            channel ? ` ${channel}` : ''
          }${typeof d.date === 'string' ? ` ${d.date}` : ''}`
        : 'Samtycket återkallades i tjänsten';
      return { what, note: registered ? (consent.withdrawal?.note ?? null) : null };
    }
    case 'ended':
      return {
        what: `${ACTION_LABELS.ended}${typeof d.date === 'string' ? ` (${d.date})` : ''}`,
        note: consent.ended?.note ?? null,
      };
    case 'document_downloaded':
      return { what: DOCUMENT_LABELS[String(d.kind)] ?? ACTION_LABELS.document_downloaded!, note: null };
    default:
      return { what: ACTION_LABELS[e.action] ?? e.action, note: null };
  }
}

export function timelineOf(consent: ConsentDetails, staff: Map<string, string>): TimelineEntry[] {
  const who = (e: AuditEvent): string => {
    const a = e.actor;
    if (a.type === 'signer' && a.role && isSignerRole(a.role)) return ROLE_LABELS[a.role];
    if (a.type === 'staff') return (a.id && staff.get(a.id)) || 'Personal';
    if (a.type === 'api_client') return 'Verksamhetssystem';
    // The service itself (messages, time events): the sentence says it all.
    return '';
  };
  return consent.timeline.map((e) => ({ at: fmtDateTime(e.at), ...describe(e, consent), who: who(e) }));
}

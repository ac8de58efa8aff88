// The texts of every message, in plain Swedish. A message carries a link and nothing else of the case:
// no names, no personal numbers, no organisation names (an envelope from social services is itself
// sensitive), never an attachment. What it is about is behind the link, after e-identification or login.
import { type LocalDate, swedishDate } from '../domain/dates.ts';
import type { NotificationKind } from './payload.ts';

export type Audience = 'signer' | 'organisation';

export interface MessageData {
  /** Where the recipient goes next. */
  link: string;
  /** The last day a link or a consent is good for (Swedish local date). */
  lastDay?: LocalDate | undefined;
  /** Days left before the consent ends (ending soon). */
  daysLeft?: number | undefined;
}

export interface ComposedMessage {
  subject: string;
  /** The e-mail body, plain text. */
  text: string;
  /** The SMS: short, the link included. */
  sms: string;
}

const SIGNATURE = 'Hälsningar\nSamtycke HLT (Hälsa, Lärande, Trygghet)';
const NO_REPLY = 'Det här meddelandet går inte att svara på.';
const NOT_EXPECTED = 'Om du inte väntar dig det här meddelandet kan du bortse från det.';

const until = (data: MessageData, text: string): string =>
  data.lastDay ? `${text} ${swedishDate(data.lastDay)}.` : '';

type Compose = (data: MessageData) => ComposedMessage;

const body = (...paragraphs: string[]): string => `${paragraphs.filter(Boolean).join('\n\n')}\n`;

/**
 * The service's own address, for those wary of links: the request is also under Mina samtycken after
 * logging in there. (The link's origin is the service's: PUBLIC_BASE_URL.)
 */
const ownAddress = (d: MessageData): string => {
  try {
    return `Vill du hellre inte öppna en länk? Gå då själv till ${new URL(d.link).origin}/mina-samtycken och logga in med e-legitimation. Där finns förfrågan också.`;
  } catch {
    return '';
  }
};

const SIGNER: Record<NotificationKind, Compose | undefined> = {
  invitation: (d) => ({
    subject: 'Du har fått en förfrågan om samtycke',
    text: body(
      'Hej!',
      'Du har fått en förfrågan om samtycke. Öppna länken, legitimera dig med e-legitimation (till exempel BankID) och läs förfrågan. Sedan väljer du om du vill signera eller avböja.',
      d.link,
      until(d, 'Länken gäller till och med'),
      ownAddress(d),
      NOT_EXPECTED,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Du har fått en förfrågan om samtycke. Öppna länken och legitimera dig: ${d.link}`,
  }),
  reminder: (d) => ({
    subject: 'Påminnelse: en förfrågan om samtycke väntar på ditt svar',
    text: body(
      'Hej!',
      'En förfrågan om samtycke väntar fortfarande på ditt svar. Öppna länken, legitimera dig med e-legitimation och välj om du vill signera eller avböja.',
      d.link,
      until(d, 'Länken gäller till och med'),
      'Tidigare länkar du har fått slutar gälla när den här skickas.',
      ownAddress(d),
      NOT_EXPECTED,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Påminnelse: en förfrågan om samtycke väntar på ditt svar. ${d.link}`,
  }),
  signed_by_all: (d) => ({
    subject: 'Samtycket är signerat av alla',
    text: body(
      'Hej!',
      'Alla har nu signerat samtycket, och det gäller från och med nu. Du kan se samtycket och ladda ner dokumentet när du har loggat in:',
      d.link,
      'Du kan när som helst återkalla samtycket på samma sida.',
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Alla har signerat samtycket. Logga in för att se det: ${d.link}`,
  }),
  declined: (d) => ({
    subject: 'Förfrågan om samtycke har avböjts',
    text: body(
      'Hej!',
      'Förfrågan om samtycke som du har fått har avböjts och gäller inte längre. Du behöver inte göra något mer.',
      'Logga in för att se mer:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Förfrågan om samtycke har avböjts och gäller inte längre. ${d.link}`,
  }),
  withdrawn: (d) => ({
    subject: 'Samtycket har återkallats',
    text: body(
      'Hej!',
      'Samtycket har återkallats och gäller inte längre, för någon av er.',
      'Logga in för att se mer:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Samtycket har återkallats och gäller inte längre. ${d.link}`,
  }),
  expired: (d) => ({
    subject: 'Samtycket gäller inte längre',
    text: body(
      'Hej!',
      'Tiden för samtycket har gått ut och det gäller inte längre. Om det behövs kan du få en ny förfrågan.',
      'Logga in för att se mer:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Samtycket har gått ut och gäller inte längre. ${d.link}`,
  }),
  request_expired: (d) => ({
    subject: 'Förfrågan om samtycke har gått ut',
    text: body(
      'Hej!',
      'Tiden för att svara på förfrågan om samtycke har gått ut. Förfrågan gäller inte längre och du behöver inte göra något.',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Förfrågan om samtycke har gått ut och gäller inte längre. ${d.link}`,
  }),
  ending_soon: undefined,
};

const ORGANISATION: Record<NotificationKind, Compose | undefined> = {
  invitation: undefined,
  reminder: undefined,
  signed_by_all: (d) => ({
    subject: 'Ett samtycke är signerat av alla',
    text: body(
      'Hej!',
      'Ett samtycke som du har begärt är nu signerat av alla och gäller från och med nu.',
      'Logga in för att se det:',
      d.link,
      'Dokumentet skickas aldrig med e-post. Du laddar ner det i tjänsten.',
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Ett samtycke du begärt är signerat av alla. ${d.link}`,
  }),
  declined: (d) => ({
    subject: 'En förfrågan om samtycke har avböjts',
    text: body(
      'Hej!',
      'En förfrågan om samtycke som du har skickat har avböjts.',
      'Logga in för att se den:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `En förfrågan om samtycke har avböjts. ${d.link}`,
  }),
  withdrawn: (d) => ({
    subject: 'Ett samtycke har återkallats',
    text: body(
      'Hej!',
      'Ett samtycke som du har begärt har återkallats och gäller inte längre. Uppgifter får inte längre delas med stöd av det.',
      'Logga in för att se det:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Ett samtycke har återkallats och gäller inte längre. ${d.link}`,
  }),
  ending_soon: (d) => ({
    subject: 'Ett samtycke upphör snart',
    text: body(
      'Hej!',
      `Ett samtycke som du har begärt upphör att gälla${d.daysLeft === undefined ? ' snart' : ` om ${d.daysLeft} ${d.daysLeft === 1 ? 'dag' : 'dagar'}`}.${d.lastDay ? ` Sista giltiga dag är ${swedishDate(d.lastDay)}.` : ''}`,
      'Om de samordnade insatserna fortsätter kan du förnya samtycket. Logga in för att göra det:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Ett samtycke du begärt upphör snart. ${d.link}`,
  }),
  expired: (d) => ({
    subject: 'Ett samtycke har upphört att gälla',
    text: body(
      'Hej!',
      'Tiden för ett samtycke som du har begärt har gått ut. Det gäller inte längre, och uppgifter får inte längre delas med stöd av det.',
      'Logga in för att se det eller förnya det:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `Ett samtycke har upphört att gälla. ${d.link}`,
  }),
  request_expired: (d) => ({
    subject: 'En förfrågan om samtycke har gått ut',
    text: body(
      'Hej!',
      'En förfrågan om samtycke som du har skickat har gått ut innan alla hann signera. Den gäller inte längre.',
      'Logga in för att se den eller skicka en ny:',
      d.link,
      NO_REPLY,
      SIGNATURE,
    ),
    sms: `En förfrågan om samtycke har gått ut. ${d.link}`,
  }),
};

/** The message of a kind for an audience; undefined when that audience never gets that kind. */
export function composeMessage(
  kind: NotificationKind,
  audience: Audience,
  data: MessageData,
): ComposedMessage | undefined {
  return (audience === 'signer' ? SIGNER : ORGANISATION)[kind]?.(data);
}

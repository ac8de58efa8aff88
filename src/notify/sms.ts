// Text messages. No provider is chosen yet: an interface, and a development implementation that keeps
// the messages in memory (shown on /dev/mail). Production has no SMS sender until one is chosen; SMS
// notifications are then skipped (the e-mail, where given, still goes).
export interface SmsMessage {
  /** The phone number as entered. Never log it. */
  to: string;
  text: string;
}

export interface SmsSender {
  readonly description: string;
  send(message: SmsMessage): Promise<void>;
}

export interface CapturedSms extends SmsMessage {
  id: number;
  receivedAt: Date;
}

const LIMIT = 200;
const store: CapturedSms[] = [];
let nextId = 1;

/** Development SMS "sent", newest first. */
export function listCapturedSms(): CapturedSms[] {
  return [...store].reverse();
}

export function clearCapturedSms(): void {
  store.length = 0;
}

export class DevelopmentSmsSender implements SmsSender {
  readonly description = 'development SMS capture (in memory)';

  async send(message: SmsMessage): Promise<void> {
    store.push({ id: nextId++, receivedAt: new Date(), to: message.to, text: message.text });
    if (store.length > LIMIT) store.splice(0, store.length - LIMIT);
  }
}

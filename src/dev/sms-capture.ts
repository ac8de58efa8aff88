// Development SMS "sending": the messages are kept in memory (the last 200) for the /dev/mail page and for
// tests. Loaded by the notify plugin in development only; production has no SMS sender yet (src/notify/sms.ts).
import type { SmsMessage, SmsSender } from '../notify/sms.ts';

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

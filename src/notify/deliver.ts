// Hands one composed message to its transport: the mailer for e-mail, the SMS sender for text messages.
// Plain data in (channel, address, texts): deciding who is told what, and recording it, is the consent
// use case's (src/consents/notifications/send-notification.ts).
import type { NotifyChannel } from './payload.ts';
import type { Notifier } from './registry.ts';

export interface OutgoingMessage {
  channel: NotifyChannel;
  /** The e-mail address or phone number. Never log it. */
  to: string;
  subject: string;
  /** The e-mail body, plain text. */
  text: string;
  /** The SMS text. */
  sms: string;
}

/** Whether the notifier has a transport for the channel (no SMS sender in production, for now). */
export const canDeliver = (notifier: Notifier, channel: NotifyChannel): boolean =>
  channel === 'email' || notifier.sms !== undefined;

export async function deliver(notifier: Notifier, message: OutgoingMessage): Promise<void> {
  if (message.channel === 'email') {
    await notifier.mailer.send({ to: message.to, subject: message.subject, text: message.text });
    return;
  }
  if (!notifier.sms) throw new Error('no SMS sender configured');
  await notifier.sms.send({ to: message.to, text: message.sms });
}

// Text messages. No provider is chosen yet: an interface here, and a development implementation that keeps
// the messages in memory (src/dev/sms-capture.ts, shown on /dev/mail). Production has no SMS sender until
// one is chosen; SMS notifications are then skipped (the e-mail, where given, still goes).
export interface SmsMessage {
  /** The phone number as entered. Never log it. */
  to: string;
  text: string;
}

export interface SmsSender {
  readonly description: string;
  send(message: SmsMessage): Promise<void>;
}

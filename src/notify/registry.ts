// How a job handler finds the app's mailer and SMS sender. The job context (src/jobs/define.ts) carries
// db, config, clock and log only, so the notify plugin registers its notifier under the app's `db`
// instance, which is one per app (two apps in one process, as in the tests, keep theirs apart).
import type { Mailer } from './mailer.ts';
import type { SmsSender } from './sms.ts';

export interface Notifier {
  mailer: Mailer;
  /** Absent where no SMS provider is configured (production, for now). */
  sms?: SmsSender | undefined;
}

const notifiers = new WeakMap<object, Notifier>();

export function registerNotifier(owner: object, notifier: Notifier): void {
  notifiers.set(owner, notifier);
}

export function unregisterNotifier(owner: object): void {
  notifiers.delete(owner);
}

export function notifierFor(owner: object): Notifier | undefined {
  return notifiers.get(owner);
}

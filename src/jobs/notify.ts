// Sends one notification (src/consents/notifications/send-notification.ts). Queued by the use cases
// inside their transactions and by the sweeps; the ledger makes a second send of the same message
// impossible.
import { sendNotification } from '../consents/notifications/send-notification.ts';
import { NOTIFY_JOB, notificationPayload } from '../notify/payload.ts';
import { notifierFor } from '../notify/registry.ts';
import { defineJob } from './define.ts';

export const notify = defineJob({
  name: NOTIFY_JOB,
  payload: notificationPayload,
  // A burst of requests is a burst of messages, each mostly waiting on the database and the mail server.
  // Six at a time met issue 13's goal (p95 ≤ 2 s from commit to the transport for a burst of 50 requests,
  // `npm run bench notify`) on a loaded 2-core machine, and leave four of the app's ten database
  // connections to the requests themselves (a send holds one for its transaction).
  workers: 6,
  async handler(payload, { db, keys, clock, config, log }) {
    const notifier = notifierFor(db);
    // The notify plugin registers before the workers start; if it is missing the app is misassembled.
    if (!notifier) throw new Error('notify plugin is not registered');
    const outcome = await sendNotification({ db, keys, clock, config, log, notifier }, payload);
    log.info({ kind: payload.kind, channel: payload.channel, ...outcome }, 'notification');
    return outcome;
  },
});

// Sends one notification (src/notify/send.ts). Queued by the use cases inside their transactions and by
// the sweeps; the ledger makes a second send of the same message impossible.
import { NOTIFY_JOB, notificationPayload } from '../notify/payload.ts';
import { notifierFor } from '../notify/registry.ts';
import { sendNotification } from '../notify/send.ts';
import { defineJob } from './define.ts';

export const notify = defineJob({
  name: NOTIFY_JOB,
  payload: notificationPayload,
  async handler(payload, { db, clock, config, log }) {
    const notifier = notifierFor(db);
    // The notify plugin registers before the workers start; if it is missing the app is misassembled.
    if (!notifier) throw new Error('notify plugin is not registered');
    const outcome = await sendNotification({ db, clock, config, log, notifier }, payload);
    log.info({ kind: payload.kind, channel: payload.channel, ...outcome }, 'notification');
    return outcome;
  },
});

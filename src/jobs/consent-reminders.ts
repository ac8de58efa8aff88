// The daily reminder sweep: reminders to signers who have not answered (src/consents/remind-due-signers.ts).
// Scheduled runs are deduplicated across instances; the notify job's singleton key and the send ledger
// (notifications_sent) keep a second run from sending anything twice.
import { remindDueSigners } from '../consents/remind-due-signers.ts';
import { defineJob, sweepPayload } from './define.ts';

export const consentReminders = defineJob({
  name: 'consent-reminders',
  payload: sweepPayload,
  schedule: { cron: '0 9 * * *', data: { batchSize: 200 } },
  handler: ({ batchSize }, ctx) => remindDueSigners(ctx, { batchSize }),
});

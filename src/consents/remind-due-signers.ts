// The automatic reminders: to signers who have not answered, `config.rules.reminderDays` (default 3 and
// 7) days after the request. Only the latest reminder that is due is sent (a request first swept on day 8
// gets the day-7 reminder, not both), and not to a signer staff reminded by hand since it fell due
// (remind-signers.ts), nor twice (the send ledger). The notify job checks again at send time that the
// request still waits for that signer. Run daily by src/jobs/consent-reminders.ts, in bounded batches.
import { listSentNotifications } from './notifications/notifications.repository.ts';
import { queueNotifications } from './notifications/queue-notifications.ts';
import { toSigners } from './notifications/recipients.ts';
import type { ConsentContext } from './context.ts';
import { findOpenRequestsToRemind, listSignersOfConsents, type SweepCursor } from './sweeps.repository.ts';

const DAY_MS = 86_400_000;

export async function remindDueSigners(
  ctx: ConsentContext,
  { batchSize }: { batchSize: number },
): Promise<{ consents: number; queued: number }> {
  const now = ctx.clock.now();
  const days = [...new Set(ctx.config.rules.reminderDays)].filter((d) => d > 0).sort((a, b) => a - b);
  const first = days[0];
  if (first === undefined) return { consents: 0, queued: 0 };
  let cursor: SweepCursor | undefined;
  let consents = 0;
  let queued = 0;
  for (;;) {
    const rows = await findOpenRequestsToRemind(ctx.db, {
      requestedBefore: new Date(now.getTime() - first * DAY_MS),
      now,
      after: cursor,
      limit: batchSize,
    });
    const ids = rows.map((r) => r.id);
    const [signers, sent] = await Promise.all([
      listSignersOfConsents(ctx.db, ids),
      listSentNotifications(ctx.db, 'reminder', ids),
    ]);
    for (const row of rows) {
      cursor = { at: row.requestedAt, id: row.id };
      const due = days.filter((d) => row.requestedAt.getTime() + d * DAY_MS <= now.getTime()).at(-1)!;
      const dueAt = new Date(row.requestedAt.getTime() + due * DAY_MS);
      const occasion = `d${due}`;
      const waiting = signers.filter(
        (s) =>
          s.consentId === row.id &&
          !s.signedAt &&
          !s.declinedAt &&
          !(s.lastRemindedAt && s.lastRemindedAt >= dueAt) &&
          !sent.some(
            (n) => n.consentId === row.id && n.occasion === occasion && n.recipient === `signer:${s.role}`,
          ),
      );
      if (waiting.length === 0) continue;
      consents++;
      queued += await queueNotifications(
        ctx.db,
        ctx.jobs,
        toSigners('reminder', row.id, waiting, { occasion }),
      );
    }
    if (rows.length < batchSize) break;
  }
  return { consents, queued };
}

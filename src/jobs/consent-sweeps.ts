// Sweeps over consents. Each works in bounded batches (keyset on a time column and the id) and queues one
// job per item. Item jobs lock the consent row and check again with the domain rules, and the
// notification ledger (notifications_sent) makes a second send of the same message impossible, so two
// instances running the same sweep never send anything twice. These jobs never store a status (it is
// computed at read time); they send the notices and record the time events in the audit trail.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { appendAuditEvent } from '../consents/audit.ts';
import { getLoadedConsent } from '../consents/consent.repository.ts';
import { SYSTEM } from '../consents/context.ts';
import type { Database } from '../db/index.ts';
import { endingSoon, statusAt } from '../domain/consent.ts';
import { addDays, localDateOf, startOfLocalDay, TIME_ZONE } from '../domain/dates.ts';
import {
  NOTIFY_JOB,
  type NotificationRequest,
  notificationKey,
  notificationPayload,
} from '../notify/payload.ts';
import { toRequester, toSigners } from '../notify/recipients.ts';
import { defineJob, type JobContext } from './define.ts';

const DAY_MS = 86_400_000;
const NO_ID = '00000000-0000-0000-0000-000000000000';
const batchPayload = z.object({ batchSize: z.number().int().min(1).max(10_000).default(200) }).strict();
const consentPayload = z.object({ consentId: z.uuid() }).strict();

/**
 * Queues notification jobs through the job context. Item jobs call this inside their transaction but
 * before it commits: a rollback then leaves jobs whose message still holds (the ledger and the send-time
 * check keep them right), while a commit can never go without its messages.
 */
async function sendNotifications(ctx: JobContext, items: readonly NotificationRequest[]): Promise<number> {
  let queued = 0;
  for (const item of items) {
    const payload = notificationPayload.parse(item);
    if (await ctx.send(NOTIFY_JOB, payload, { singletonKey: notificationKey(payload) })) queued++;
  }
  return queued;
}

/** Open by its facts: not completed, declined, cancelled, withdrawn, ended, nor already handled by time. */
const openRequest = (eb: ExpressionBuilder<Database, 'consents'>): Expression<SqlBool> =>
  eb.and([
    eb('completed_at', 'is', null),
    eb('declined_at', 'is', null),
    eb('cancelled_at', 'is', null),
    eb('withdrawn_at', 'is', null),
    eb('ended_at', 'is', null),
    eb('lapse_handled_at', 'is', null),
  ]);

/** 00:00 Stockholm time on the child's 18th birthday (PostgreSQL clamps 29 February as addYears does). */
const adulthood = sql<Date>`((child_birth_date + interval '18 years')::timestamp AT TIME ZONE ${sql.lit(TIME_ZONE)})`;

const after = (cursor: { at: Date; id: string } | undefined, column: 'requested_at' | 'valid_until') =>
  cursor
    ? sql<SqlBool>`(${sql.ref(column)}, id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
    : sql<SqlBool>`true`;

// --- Reminders -------------------------------------------------------------------------------------------

/**
 * Reminders to signers who have not answered, `config.rules.reminderDays` (default 3 and 7) days after
 * the request. Only the latest reminder that is due is sent (a request first swept on day 8 gets the
 * day-7 reminder, not both), and not to a signer staff reminded by hand since it fell due. The reminder
 * job checks at send time that the request still waits for that signer.
 */
export const consentReminders = defineJob({
  name: 'consent-reminders',
  payload: batchPayload,
  schedule: { cron: '0 9 * * *', data: { batchSize: 200 } },
  async handler({ batchSize }, ctx) {
    const now = ctx.clock.now();
    const days = [...new Set(ctx.config.rules.reminderDays)].filter((d) => d > 0).sort((a, b) => a - b);
    const first = days[0];
    if (first === undefined) return { consents: 0, queued: 0 };
    let cursor: { at: Date; id: string } | undefined;
    let consents = 0;
    let queued = 0;
    for (;;) {
      const rows = await ctx.db
        .selectFrom('consents')
        .select(['id', 'requested_at'])
        .where(openRequest)
        .where('requested_at', '<=', new Date(now.getTime() - first * DAY_MS))
        .where('request_expires_at', '>', now)
        .where(adulthood, '>', now)
        .where(after(cursor, 'requested_at'))
        .orderBy('requested_at', 'asc')
        .orderBy('id', 'asc')
        .limit(batchSize)
        .execute();
      const ids = rows.length > 0 ? rows.map((r) => r.id) : [NO_ID];
      const [signers, sent] = await Promise.all([
        ctx.db
          .selectFrom('consent_signers')
          .select(['consent_id', 'role', 'phone', 'email', 'signed_at', 'declined_at', 'last_reminded_at'])
          .where('consent_id', 'in', ids)
          .execute(),
        ctx.db
          .selectFrom('notifications_sent')
          .select(['consent_id', 'occasion', 'recipient'])
          .where('kind', '=', 'reminder')
          .where('consent_id', 'in', ids)
          .execute(),
      ]);
      for (const row of rows) {
        cursor = { at: row.requested_at, id: row.id };
        const due = days.filter((d) => row.requested_at.getTime() + d * DAY_MS <= now.getTime()).at(-1)!;
        const dueAt = new Date(row.requested_at.getTime() + due * DAY_MS);
        const occasion = `d${due}`;
        const waiting = signers.filter(
          (s) =>
            s.consent_id === row.id &&
            !s.signed_at &&
            !s.declined_at &&
            !(s.last_reminded_at && s.last_reminded_at >= dueAt) &&
            !sent.some(
              (n) => n.consent_id === row.id && n.occasion === occasion && n.recipient === `signer:${s.role}`,
            ),
        );
        if (waiting.length === 0) continue;
        consents++;
        queued += await sendNotifications(ctx, toSigners('reminder', row.id, waiting, { occasion }));
      }
      if (rows.length < batchSize) break;
    }
    return { consents, queued };
  },
});

// --- Time events: request expiry, expiry, ending soon --------------------------------------------------

/**
 * Finds requests that lapsed (the request lifetime passed, or the child turned 18 first), consents whose
 * time ran out (a year from the first signature, or the child's 18th birthday), and consents ending within
 * `config.rules.endingSoonDays`; queues one item job per consent.
 */
export const consentTimeEvents = defineJob({
  name: 'consent-time-events',
  payload: batchPayload,
  schedule: { cron: '30 6 * * *', data: { batchSize: 200 } },
  async handler({ batchSize }, ctx) {
    const now = ctx.clock.now();
    let lapsed = 0;
    let soon = 0;

    let cursor: { at: Date; id: string } | undefined;
    for (;;) {
      const rows = await ctx.db
        .selectFrom('consents')
        .select(['id', 'requested_at'])
        .where(openRequest)
        .where((eb) => eb.or([eb('request_expires_at', '<=', now), eb(adulthood, '<=', now)]))
        .where(after(cursor, 'requested_at'))
        .orderBy('requested_at', 'asc')
        .orderBy('id', 'asc')
        .limit(batchSize)
        .execute();
      for (const row of rows) {
        cursor = { at: row.requested_at, id: row.id };
        if (await ctx.send(consentLapse.name, { consentId: row.id }, { singletonKey: `lapse:${row.id}` }))
          lapsed++;
      }
      if (rows.length < batchSize) break;
    }

    // In force by the facts, with a validity that has passed or ends within the notice period.
    const soonBefore = startOfLocalDay(addDays(localDateOf(now), ctx.config.rules.endingSoonDays + 1));
    let last: { at: Date; id: string } | undefined;
    for (;;) {
      const rows = await ctx.db
        .selectFrom('consents')
        .select(['id', 'valid_until', 'ending_soon_handled_at'])
        .where('completed_at', 'is not', null)
        .where('withdrawn_at', 'is', null)
        .where('ended_at', 'is', null)
        .where('lapse_handled_at', 'is', null)
        .where('valid_until', '<', soonBefore)
        .where(after(last, 'valid_until'))
        .orderBy('valid_until', 'asc')
        .orderBy('id', 'asc')
        .limit(batchSize)
        .execute();
      for (const row of rows) {
        const until = row.valid_until!;
        last = { at: until, id: row.id };
        if (until.getTime() <= now.getTime()) {
          if (await ctx.send(consentLapse.name, { consentId: row.id }, { singletonKey: `lapse:${row.id}` }))
            lapsed++;
        } else if (!row.ending_soon_handled_at) {
          const key = `ending-soon:${row.id}`;
          if (await ctx.send(consentEndingSoon.name, { consentId: row.id }, { singletonKey: key })) soon++;
        }
      }
      if (rows.length < batchSize) break;
    }
    return { lapsed, endingSoon: soon };
  },
});

/**
 * One consent whose request lapsed or whose time ran out: records the event in the audit trail once (at
 * the instant it happened), marks it handled, and queues the notices to the requester and the signers.
 */
export const consentLapse = defineJob({
  name: 'consent-lapse',
  payload: consentPayload,
  async handler({ consentId }, ctx) {
    return ctx.db.transaction().execute(async (tx) => {
      const loaded = await getLoadedConsent(tx, consentId, { lock: true });
      if (loaded.consent.lapseHandledAt) return { handled: false };
      const now = ctx.clock.now();
      const status = statusAt(loaded.facts, now);
      if (status.status !== 'request_expired' && status.status !== 'expired') return { handled: false };
      await tx.updateTable('consents').set({ lapse_handled_at: now }).where('id', '=', consentId).execute();
      await appendAuditEvent(tx, {
        consentId,
        action: status.status,
        actor: SYSTEM,
        at: status.since,
        details: { reason: status.reason, recordedAt: now.toISOString() },
      });
      await sendNotifications(ctx, [
        ...toRequester(status.status, loaded.consent),
        ...toSigners(status.status, consentId, loaded.signers),
      ]);
      return { handled: true, status: status.status };
    });
  },
});

/** One consent ending within `endingSoonDays`: the notice to the requester (to renew it), once. */
export const consentEndingSoon = defineJob({
  name: 'consent-ending-soon',
  payload: consentPayload,
  async handler({ consentId }, ctx) {
    return ctx.db.transaction().execute(async (tx) => {
      const loaded = await getLoadedConsent(tx, consentId, { lock: true });
      if (loaded.consent.endingSoonHandledAt) return { handled: false };
      const now = ctx.clock.now();
      if (!endingSoon(loaded.facts, now, ctx.config.rules.endingSoonDays)) return { handled: false };
      await tx
        .updateTable('consents')
        .set({ ending_soon_handled_at: now })
        .where('id', '=', consentId)
        .execute();
      await sendNotifications(ctx, toRequester('ending_soon', loaded.consent));
      return { handled: true };
    });
  },
});

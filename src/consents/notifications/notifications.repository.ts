// The send ledger, notifications_sent: one row per message sent, keyed by consent, kind, occasion,
// recipient and channel (the same key as the notify job's singleton key, src/notify/payload.ts).
import type { DbOrTx } from '../../db/index.ts';
import type { NotificationKind, NotifyChannel } from '../../notify/payload.ts';

export interface LedgerEntry {
  consentId: string;
  kind: NotificationKind;
  occasion: string;
  /** `recipientKey(recipient)`: 'signer:guardian1', 'staff:{id}', 'api_client:{id}'. */
  recipient: string;
  channel: NotifyChannel;
  sentAt: Date;
}

/**
 * Claims the message's row. False when it is already there: sent before, or claimed by a transaction
 * that committed meanwhile (a second claimer waits for the first on the unique key, then finds the row).
 */
export async function claimNotification(tx: DbOrTx, entry: LedgerEntry): Promise<boolean> {
  const claimed = await tx
    .insertInto('notifications_sent')
    .values({
      consent_id: entry.consentId,
      kind: entry.kind,
      occasion: entry.occasion,
      recipient: entry.recipient,
      channel: entry.channel,
      sent_at: entry.sentAt,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('consent_id')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** The messages of one kind already sent about the given consents (occasion and recipient key). */
export async function listSentNotifications(
  db: DbOrTx,
  kind: NotificationKind,
  consentIds: readonly string[],
): Promise<{ consentId: string; occasion: string; recipient: string }[]> {
  if (consentIds.length === 0) return [];
  const rows = await db
    .selectFrom('notifications_sent')
    .select(['consent_id', 'occasion', 'recipient'])
    .where('kind', '=', kind)
    .where('consent_id', 'in', consentIds)
    .execute();
  return rows.map((r) => ({ consentId: r.consent_id, occasion: r.occasion, recipient: r.recipient }));
}

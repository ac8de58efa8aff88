// Sends one notification, exactly once. In one transaction: check the message still makes sense (a
// reminder to someone who signed meanwhile does not), claim its row in the ledger (notifications_sent:
// unique per consent, kind, occasion, recipient and channel — a second claimer waits for the first and
// then finds the row), make the link (a new invitation token for invitations and reminders), hand the
// message to its transport (src/notify/deliver.ts), and record an audit event. A failed send rolls all of
// it back, so a retry can send again.
import type { KeyRing } from '../../db/encryption.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { Config } from '../../config.ts';
import type { Db, DbOrTx } from '../../db/index.ts';
import { endingSoon, statusAt } from '../../domain/consent.ts';
import { type LocalDate, lastDayBefore, localDateOf } from '../../domain/dates.ts';
import { getApiClient } from '../../identity/api-clients.ts';
import { getStaff } from '../../identity/staff.ts';
import { canDeliver, deliver } from '../../notify/deliver.ts';
import { invitationLink, signerOverviewLink, staffConsentLink } from '../../notify/links.ts';
import { composeMessage } from '../../notify/messages.ts';
import { type NotificationPayload, type Recipient, recipientKey } from '../../notify/payload.ts';
import type { Notifier } from '../../notify/registry.ts';
import { appendAuditEvent } from '../audit.repository.ts';
import { type LoadedConsent, loadConsent } from '../consent.repository.ts';
import { SYSTEM } from '../context.ts';
import { issueInvitation } from '../invitations.repository.ts';
import { claimNotification } from './notifications.repository.ts';

export interface SendDeps {
  db: Db;
  keys: KeyRing;
  clock: Clock;
  config: Config;
  log: FastifyBaseLogger;
  notifier: Notifier;
}

export type SendOutcome =
  | { sent: true }
  | { sent: false; reason: 'no_consent' | 'not_relevant' | 'no_address' | 'no_sms_sender' | 'already_sent' };

/** Whether the message still makes sense now (the state may have moved on since it was queued). */
function stillRelevant(p: NotificationPayload, loaded: LoadedConsent, now: Date, config: Config): boolean {
  const { consent, facts, signers } = loaded;
  const status = statusAt(facts, now).status;
  switch (p.kind) {
    case 'invitation':
    case 'reminder': {
      if (p.recipient.type !== 'signer') return false;
      const role = p.recipient.role;
      const signer = signers.find((s) => s.role === role);
      return status === 'pending' && !!signer && !signer.signedAt && !signer.declinedAt;
    }
    case 'signed_by_all':
      return consent.completedAt !== null;
    case 'declined':
      return consent.declinedAt !== null;
    case 'withdrawn':
      return consent.withdrawnAt !== null;
    case 'request_expired':
      return status === 'request_expired';
    case 'expired':
      return status === 'expired';
    case 'ending_soon':
      return endingSoon(facts, now, config.rules.endingSoonDays);
  }
}

/** The recipient's address on the channel: the signer's as given on the request, else the account's. */
async function addressOf(
  db: DbOrTx,
  loaded: LoadedConsent,
  recipient: Recipient,
  channel: 'email' | 'sms',
): Promise<string | null> {
  if (recipient.type === 'signer') {
    const signer = loaded.signers.find((s) => s.role === recipient.role);
    return (channel === 'email' ? signer?.email : signer?.phone) ?? null;
  }
  if (channel !== 'email') return null;
  if (recipient.type === 'staff') {
    const staff = await getStaff(db, recipient.staffId);
    return staff && !staff.disabledAt ? staff.email : null;
  }
  const client = await getApiClient(db, recipient.clientId);
  return client && !client.disabledAt ? client.contactEmail : null;
}

export async function sendNotification(deps: SendDeps, p: NotificationPayload): Promise<SendOutcome> {
  const { db, keys, clock, config, notifier } = deps;
  return db.transaction().execute(async (tx): Promise<SendOutcome> => {
    const loaded = await loadConsent(tx, keys, p.consentId);
    if (!loaded) return { sent: false, reason: 'no_consent' };
    const now = clock.now();
    if (!stillRelevant(p, loaded, now, config)) return { sent: false, reason: 'not_relevant' };
    const address = await addressOf(tx, loaded, p.recipient, p.channel);
    if (!address) return { sent: false, reason: 'no_address' };
    if (!canDeliver(notifier, p.channel)) return { sent: false, reason: 'no_sms_sender' };
    const audience = p.recipient.type === 'signer' ? 'signer' : 'organisation';
    if (!composeMessage(p.kind, audience, { link: '' })) return { sent: false, reason: 'not_relevant' };

    const claimed = await claimNotification(tx, {
      consentId: p.consentId,
      kind: p.kind,
      occasion: p.occasion,
      recipient: recipientKey(p.recipient),
      channel: p.channel,
      sentAt: now,
    });
    if (!claimed) return { sent: false, reason: 'already_sent' };

    const { consent, facts } = loaded;
    let link: string;
    let lastDay: LocalDate | undefined;
    let daysLeft: number | undefined;
    if (p.recipient.type === 'signer' && (p.kind === 'invitation' || p.kind === 'reminder')) {
      const invitation = await issueInvitation(tx, {
        consentId: consent.id,
        role: p.recipient.role,
        channel: p.channel,
        expiresAt: consent.requestExpiresAt,
        now,
      });
      link = invitationLink(config, invitation.token);
      lastDay = lastDayBefore(consent.requestExpiresAt);
    } else {
      link =
        p.recipient.type === 'signer' ? signerOverviewLink(config) : staffConsentLink(config, consent.id);
    }
    if (p.kind === 'ending_soon') {
      const until = statusAt(facts, now).validUntil;
      if (until) {
        lastDay = lastDayBefore(until);
        // Whole local days from today to the day it no longer holds ('YYYY-MM-DD' parses as UTC midnight).
        daysLeft = Math.round((Date.parse(localDateOf(until)) - Date.parse(localDateOf(now))) / 86_400_000);
      }
    }
    const message = composeMessage(p.kind, audience, { link, lastDay, daysLeft })!;

    // Handed to the transport before the audit event: the event takes the consent's audit chain head (one
    // writer at a time per consent, db: audit_chain_heads) until the commit, and a transport may take
    // seconds (an SMTP server's answer). Held across it, every other event of the consent (its status
    // checks', the other messages of the same act) waited for the mail server. If sending fails, the claim
    // and the new link roll back with it and a retry sends again.
    await deliver(notifier, { channel: p.channel, to: address, ...message });
    await appendAuditEvent(tx, {
      consentId: consent.id,
      action: 'notification_sent',
      actor: SYSTEM,
      at: now,
      details: {
        kind: p.kind,
        channel: p.channel,
        recipient: p.recipient.type,
        ...(p.recipient.type === 'signer' ? { role: p.recipient.role } : {}),
        ...(p.occasion ? { occasion: p.occasion } : {}),
      },
    });
    return { sent: true };
  });
}

// The notification job's payload. Job payloads are stored in pg-boss's tables, so they carry references
// (the consent, the signer's role, the staff member's or API client's id), never an address, a name or a
// token: the address is loaded and the link made when the message is sent.
import { z } from 'zod';
import { SIGNER_ROLES } from '../domain/roles.ts';

export const NOTIFY_JOB = 'notify';

export const NOTIFICATION_KINDS = [
  'invitation',
  'reminder',
  'signed_by_all',
  'declined',
  'withdrawn',
  'ending_soon',
  'expired',
  'request_expired',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const recipientSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('signer'), role: z.enum(SIGNER_ROLES) }).strict(),
  z.object({ type: z.literal('staff'), staffId: z.uuid() }).strict(),
  z.object({ type: z.literal('api_client'), clientId: z.uuid() }).strict(),
]);
export type Recipient = z.infer<typeof recipientSchema>;

export const NOTIFY_CHANNELS = ['email', 'sms'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

export const notificationPayload = z
  .object({
    kind: z.enum(NOTIFICATION_KINDS),
    consentId: z.uuid(),
    recipient: recipientSchema,
    channel: z.enum(NOTIFY_CHANNELS),
    /** Tells repeated messages of one kind apart: the reminder day ('d3'), a manual reminder's id. */
    occasion: z
      .string()
      .regex(/^[a-z0-9:_-]{0,64}$/)
      .default(''),
  })
  .strict();
export type NotificationPayload = z.output<typeof notificationPayload>;
export type NotificationRequest = z.input<typeof notificationPayload>;

export const recipientKey = (r: Recipient): string =>
  r.type === 'signer'
    ? `signer:${r.role}`
    : r.type === 'staff'
      ? `staff:${r.staffId}`
      : `api_client:${r.clientId}`;

/** The key pg-boss and the ledger (notifications_sent) both use for one message. */
export const notificationKey = (p: NotificationPayload): string =>
  `${p.consentId}:${p.kind}:${p.occasion}:${recipientKey(p.recipient)}:${p.channel}`;

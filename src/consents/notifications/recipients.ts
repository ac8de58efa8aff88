// Who gets a message about a consent, as notification requests (references only, see
// src/notify/payload.ts).
import type { SignerRole } from '../../domain/roles.ts';
import type { NotificationKind, NotificationRequest, Recipient } from '../../notify/payload.ts';
import type { ConsentRecord, SignerRecord } from '../consent.repository.ts';

/** One request per channel the signer gave (e-mail and/or phone). */
export function toSigners(
  kind: NotificationKind,
  consentId: string,
  signers: readonly Pick<SignerRecord, 'role' | 'email' | 'phone'>[],
  options: { roles?: readonly SignerRole[]; occasion?: string } = {},
): NotificationRequest[] {
  return signers
    .filter((s) => !options.roles || options.roles.includes(s.role))
    .flatMap((s) =>
      [...(s.email ? (['email'] as const) : []), ...(s.phone ? (['sms'] as const) : [])].map(
        (channel): NotificationRequest => ({
          kind,
          consentId,
          recipient: { type: 'signer', role: s.role },
          channel,
          occasion: options.occasion ?? '',
        }),
      ),
    );
}

/** The requesting staff member, or the API client's contact, by e-mail. */
export function toRequester(
  kind: NotificationKind,
  consent: Pick<ConsentRecord, 'id' | 'requestedByStaffId' | 'requestedByClientId'>,
  options: { occasion?: string } = {},
): NotificationRequest[] {
  const recipient: Recipient | undefined = consent.requestedByStaffId
    ? { type: 'staff', staffId: consent.requestedByStaffId }
    : consent.requestedByClientId
      ? { type: 'api_client', clientId: consent.requestedByClientId }
      : undefined;
  if (!recipient) return [];
  return [{ kind, consentId: consent.id, recipient, channel: 'email', occasion: options.occasion ?? '' }];
}

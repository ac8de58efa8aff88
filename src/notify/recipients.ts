// Who gets a message about a consent, as notification requests (references only, see payload.ts).
import type { ConsentRecord, SignerRecord } from '../consents/consent.repository.ts';
import type { SignerRole } from '../domain/roles.ts';
import type { NotificationKind, NotificationRequest } from './payload.ts';

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
  const occasion = options.occasion ?? '';
  if (consent.requestedByStaffId)
    return [
      {
        kind,
        consentId: consent.id,
        recipient: { type: 'staff', staffId: consent.requestedByStaffId },
        channel: 'email',
        occasion,
      },
    ];
  if (consent.requestedByClientId)
    return [
      {
        kind,
        consentId: consent.id,
        recipient: { type: 'api_client', clientId: consent.requestedByClientId },
        channel: 'email',
        occasion,
      },
    ];
  return [];
}

// The links messages carry. One place, so that the pages (HTTP layer) and the messages agree. A link
// names no person: the invitation token is random, a consent id is a random uuid that means nothing
// without logging in.
import type { Config } from '../config.ts';

type Base = Pick<Config, 'publicBaseUrl'>;

/** The signer's invitation page (`/s/{token}`). */
export const invitationLink = (config: Base, token: string): string => `${config.publicBaseUrl}/s/${token}`;

/** "Mina samtycken": the signer logs in and sees their consents. */
export const signerOverviewLink = (config: Base): string => `${config.publicBaseUrl}/mina-samtycken`;

/** The consent's page for staff (after login). */
export const staffConsentLink = (config: Base, consentId: string): string =>
  `${config.publicBaseUrl}/samtycken/${consentId}`;

// Accounts of the development IdP: what the tester chose on the login page (person, claim profile, …)
// decides which claims the IdP issues. The account id (`sub`) is an opaque hash of those choices, stable
// across restarts, so the same person with the same choices always gets the same subject.
import { createHash } from 'node:crypto';
import type { Account, AccountClaims } from 'oidc-provider';
import type { ClaimProfile } from '../../config.ts';
import { SWEDISH_OIDC } from '../../identity/claims.ts';

/** How the number and name reach the relying party: in the ID token, or only from the userinfo endpoint. */
export type ClaimDelivery = 'id_token' | 'userinfo';

export interface DevAccount {
  /** The number as the IdP issues it (normally 12 digits; anything when the tester sends it unchecked). */
  number: string;
  givenName?: string;
  familyName?: string;
  name: string;
  email?: string;
  profile: ClaimProfile;
  /** ISO 3166-1 alpha-2, for the `nin` profile. */
  country: string;
  delivery: ClaimDelivery;
  /** Leave the number out altogether (to test refusal). */
  omitNumber: boolean;
}

export class DevAccounts {
  readonly #accounts = new Map<string, DevAccount>();

  /** Stores the account and returns its id (the `sub` the IdP issues). */
  add(account: DevAccount): string {
    const { number, profile, country, delivery, omitNumber } = account;
    const digest = createHash('sha256')
      .update(JSON.stringify(['samtycke-dev-idp', number, profile, country, delivery, omitNumber]))
      .digest('base64url');
    const id = `dev-${digest.slice(0, 27)}`;
    this.#accounts.set(id, account);
    return id;
  }

  find(id: string): Account | undefined {
    const account = this.#accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: (use) => claimsFor(id, account, use) };
  }

  clear(): void {
    this.#accounts.clear();
  }
}

function claimsFor(sub: string, account: DevAccount, use: 'id_token' | 'userinfo'): AccountClaims {
  const claims: AccountClaims = { sub };
  if (account.email) {
    claims.email = account.email;
    claims.email_verified = true;
  }
  if (use === 'id_token' && account.delivery === 'userinfo') return claims;
  claims.name = account.name;
  if (account.givenName) claims.given_name = account.givenName;
  if (account.familyName) claims.family_name = account.familyName;
  if (account.omitNumber) return claims;
  switch (account.profile) {
    case 'swedish-oidc': {
      // A coordination number has day of birth + 60 (folkbokföringslagen 18 a §).
      const day = Number(account.number.slice(6, 8));
      const claim = day > 60 ? SWEDISH_OIDC.coordinationNumber : SWEDISH_OIDC.personalIdentityNumber;
      claims[claim] = account.number;
      break;
    }
    case 'ssn':
      claims.ssn = account.number;
      break;
    case 'nin':
      claims.nin = account.number;
      claims.nin_type = 'PERSON';
      claims.nin_issuing_country = account.country;
      break;
  }
  return claims;
}

/** Scope → claims of the dev IdP (oidc-provider `claims` configuration). */
export const DEV_IDP_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name'],
  email: ['email', 'email_verified'],
  [SWEDISH_OIDC.scope]: [SWEDISH_OIDC.personalIdentityNumber, SWEDISH_OIDC.coordinationNumber],
  ssn: ['ssn'],
  nin: ['nin', 'nin_type', 'nin_issuing_country'],
};

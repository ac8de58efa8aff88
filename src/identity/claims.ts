// Claim profiles: how a provider's claims (ID token claims merged with userinfo) become one identity.
// Providers differ only in claim names, so the profile is configuration (OIDC_CLAIM_PROFILE), not code.
// Error messages here are shown to the person logging in and logged: they never contain the number or name.
import type { ClaimProfile } from '../config.ts';
import { localDateOf } from '../domain/dates.ts';
import { type ActIdentificationProblem, actIdentificationProblem } from '../domain/identification.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import { hasForbiddenCharacter } from '../domain/text.ts';
import { AppError } from '../errors.ts';

export type { ClaimProfile } from '../config.ts';

/** A person identified by e-identification. */
export interface Identity {
  /** 12 digits YYYYMMDDNNNC (a coordination number has day + 60). Never log it. */
  personalNumber: string;
  name: string;
  /** The provider's issuer identifier; with `subject`, the stable key of the person at that provider. */
  issuer: string;
  subject: string;
  /** Authentication context class (level of assurance or method) the provider reports. */
  acr?: string;
  /** When the person actually authenticated (the `auth_time` claim). */
  authTime?: Date;
}

/** A staff member identified by their organisation's provider: matched by issuer + subject, then e-mail. */
export interface StaffIdentity {
  issuer: string;
  subject: string;
  name?: string;
  email?: string;
  emailVerified?: boolean;
  acr?: string;
  authTime?: Date;
}

/** Claims as the provider delivers them: ID token claims merged with the userinfo response. */
export type ProviderClaims = Readonly<Record<string, unknown>>;

/** The Swedish OIDC profile (Sweden Connect / Digg, "OpenID Connect Claims and Scopes Specification"). */
export const SWEDISH_OIDC = {
  scope: 'https://id.oidc.se/scope/naturalPersonNumber',
  personalIdentityNumber: 'https://id.oidc.se/claim/personalIdentityNumber',
  coordinationNumber: 'https://id.oidc.se/claim/coordinationNumber',
} as const;

/** Level of assurance URIs (Digg, formerly Elegitimationsnämnden). LoA 3 is BankID-class. */
export const LOA = {
  loa2: 'http://id.elegnamnden.se/loa/1.0/loa2',
  loa3: 'http://id.elegnamnden.se/loa/1.0/loa3',
} as const;

/** Default scopes per profile, used when OIDC_SCOPES is not set. */
export const DEFAULT_SCOPES: Readonly<Record<ClaimProfile, readonly string[]>> = {
  'swedish-oidc': ['openid', 'profile', SWEDISH_OIDC.scope],
  ssn: ['openid', 'profile', 'ssn'],
  nin: ['openid', 'profile', 'nin'],
};

/** Default scopes for staff login (config: STAFF_OIDC_SCOPES). */
export const STAFF_DEFAULT_SCOPES: readonly string[] = ['openid', 'profile', 'email'];

/** Why an identity was refused, for the login failure page (`AppError.extra.reason`). */
export type IdentityProblem =
  | 'missing_number'
  | 'invalid_number'
  | 'not_swedish'
  | 'missing_name'
  | 'missing_subject'
  | 'forbidden_character';

const MESSAGES: Record<IdentityProblem, string> = {
  missing_number: 'Legitimeringen innehöll inget personnummer.',
  invalid_number: 'Personnumret från legitimeringen är inte giltigt.',
  not_swedish: 'Legitimeringen gäller ett identitetsnummer från ett annat land än Sverige.',
  missing_name: 'Legitimeringen innehöll inget namn.',
  missing_subject: 'Legitimeringen saknar en identifierare för personen.',
  forbidden_character: 'Legitimeringen innehöll tecken som inte kan tas emot (till exempel styrtecken).',
};

function refuse(reason: IdentityProblem, detail?: Record<string, unknown>): AppError {
  return new AppError('identity_invalid', MESSAGES[reason], { extra: { reason, ...detail } });
}

/** The claims each profile reads the number from, in order of preference. */
const NUMBER_CLAIMS: Readonly<Record<ClaimProfile, readonly string[]>> = {
  'swedish-oidc': [SWEDISH_OIDC.personalIdentityNumber, SWEDISH_OIDC.coordinationNumber],
  ssn: ['ssn'],
  nin: ['nin'],
};

/** Whether `claims` already hold what `profile` needs, so the userinfo request can be skipped. */
export function hasProfileClaims(profile: ClaimProfile, claims: ProviderClaims): boolean {
  const hasNumber = NUMBER_CLAIMS[profile].some((c) => nonEmpty(claims[c]) !== undefined);
  return hasNumber && nameOf(claims) !== undefined;
}

/** Whether `claims` hold what a staff login needs (an e-mail address). */
export function hasStaffClaims(claims: ProviderClaims): boolean {
  return nonEmpty(claims.email) !== undefined;
}

export interface MapOptions {
  /** The moment of the login; its Stockholm date is the reference date for reading the number. */
  now: Date;
}

/**
 * Maps a provider's claims to an identity with the given profile. Throws `AppError('identity_invalid')` with
 * `extra.reason` (an IdentityProblem) when the number is missing, invalid or not Swedish, or the name is missing.
 */
export function mapClaims(profile: ClaimProfile, claims: ProviderClaims, options: MapOptions): Identity {
  const base = subjectOf(claims);
  const personalNumber = numberFor(profile, claims, options.now);
  const name = nameOf(claims);
  if (name === undefined) throw refuse('missing_name');
  return withoutForbiddenCharacters({ ...base, personalNumber, name });
}

/** Maps a staff provider's claims. Staff need no personal number: they are matched by issuer, subject and e-mail. */
export function mapStaffClaims(claims: ProviderClaims): StaffIdentity {
  const identity: StaffIdentity = subjectOf(claims);
  const name = nameOf(claims);
  if (name !== undefined) identity.name = name;
  const email = nonEmpty(claims.email);
  if (email !== undefined) identity.email = email.toLowerCase();
  if (typeof claims.email_verified === 'boolean') identity.emailVerified = claims.email_verified;
  return withoutForbiddenCharacters(identity);
}

/**
 * The provider's words are input like any other: a name (or subject, acr, e-mail) with a control character
 * cannot be stored (PostgreSQL refuses U+0000) and is no one's name. Refused, naming the claim, never its value.
 */
function withoutForbiddenCharacters<T extends Identity | StaffIdentity>(identity: T): T {
  for (const [claim, value] of Object.entries(identity))
    if (typeof value === 'string' && hasForbiddenCharacter(value))
      throw refuse('forbidden_character', { claim });
  return identity;
}

function subjectOf(claims: ProviderClaims): Omit<Identity, 'personalNumber' | 'name'> {
  const issuer = nonEmpty(claims.iss);
  const subject = nonEmpty(claims.sub);
  if (issuer === undefined || subject === undefined) throw refuse('missing_subject');
  const out: Omit<Identity, 'personalNumber' | 'name'> = { issuer, subject };
  const acr = nonEmpty(claims.acr);
  if (acr !== undefined) out.acr = acr;
  if (typeof claims.auth_time === 'number' && Number.isFinite(claims.auth_time)) {
    out.authTime = new Date(claims.auth_time * 1000);
  }
  return out;
}

function numberFor(profile: ClaimProfile, claims: ProviderClaims, now: Date): string {
  const referenceDate = localDateOf(now);
  switch (profile) {
    case 'swedish-oidc': {
      // The profile keeps the two kinds apart: a coordination number in the personal identity number
      // claim (or the other way round) is a provider error, not something to guess around.
      const pin = nonEmpty(claims[SWEDISH_OIDC.personalIdentityNumber]);
      if (pin !== undefined) return parseNumber(pin, referenceDate, 'personal');
      const coordination = nonEmpty(claims[SWEDISH_OIDC.coordinationNumber]);
      if (coordination !== undefined) return parseNumber(coordination, referenceDate, 'coordination');
      throw refuse('missing_number');
    }
    case 'ssn': {
      const ssn = nonEmpty(claims.ssn);
      if (ssn === undefined) throw refuse('missing_number');
      return parseNumber(ssn, referenceDate, 'any');
    }
    case 'nin': {
      const nin = nonEmpty(claims.nin);
      if (nin === undefined) throw refuse('missing_number');
      // ISO 3166-1 alpha-2. Without a country we cannot know the number is Swedish: refuse.
      const country = nonEmpty(claims.nin_issuing_country)?.toUpperCase();
      if (country !== 'SE') throw refuse('not_swedish');
      return parseNumber(nin, referenceDate, 'any');
    }
  }
}

function parseNumber(
  input: string,
  referenceDate: ReturnType<typeof localDateOf>,
  kind: 'personal' | 'coordination' | 'any',
): string {
  const result = PersonalNumber.parse(input, { referenceDate, allowCoordinationNumber: kind !== 'personal' });
  if (!result.ok) throw refuse('invalid_number', { numberProblem: result.reason });
  if (kind === 'coordination' && !result.value.isCoordinationNumber) {
    throw refuse('invalid_number', { numberProblem: 'not_coordination_number' });
  }
  return result.value.digits;
}

/** `name`, or `given_name` + `family_name`. */
function nameOf(claims: ProviderClaims): string | undefined {
  const name = nonEmpty(claims.name);
  if (name !== undefined) return name;
  const parts = [nonEmpty(claims.given_name), nonEmpty(claims.family_name)].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function nonEmpty(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Refuses an authentication context class that is not in `accepted` (OIDC_ACR_VALUES). An empty list
 * accepts any value, also none.
 */
export function assertAcrAccepted(acr: string | undefined, accepted: readonly string[]): void {
  if (accepted.length === 0) return;
  if (acr === undefined || !accepted.includes(acr)) {
    throw new AppError(
      'acr_not_accepted',
      'Legitimeringsmetoden räcker inte för detta. Använd e-legitimation.',
      {
        extra: { acr: acr ?? null },
      },
    );
  }
}

const ACT_PROBLEM_MESSAGES: Record<ActIdentificationProblem, string> = {
  no_auth_time:
    'Legitimeringstjänsten sa inte när du legitimerade dig. Därför kan det inte räknas som din underskrift. Försök igen.',
  before_act:
    'Legitimeringstjänsten svarade med en tidigare inloggning i stället för att be dig legitimera dig nu. En underskrift eller återkallelse kräver att du legitimerar dig just för den. Försök igen.',
  in_future: 'Tiden för din legitimering stämmer inte. Försök igen.',
  act_too_old: 'Det tog för lång tid. Börja om och legitimera dig igen.',
};

/**
 * Requires an authentication made for the act that started at `actStartedAt` (the login attempt made by
 * "Signera" or "Återkalla", sent with prompt=login and max_age=0): its `auth_time` not before the act's
 * start (domain/identification.ts), within `maxActSeconds` (FRESH_AUTH_MAX_AGE_SECONDS). OIDC Core 1.0
 * §3.1.2.1 (max_age) and §2 (auth_time).
 */
export function assertIdentifiedForAct(
  authTime: Date | undefined,
  actStartedAt: Date,
  now: Date,
  maxActSeconds: number,
): void {
  const problem = actIdentificationProblem(authTime, actStartedAt, now, maxActSeconds);
  if (problem)
    throw new AppError('fresh_auth_required', ACT_PROBLEM_MESSAGES[problem], { extra: { reason: problem } });
}

// The relying party: OpenID Connect authorization code flow with PKCE (S256) on openid-client v6.
// `beginLogin` makes a login attempt (state, nonce, PKCE verifier) that the caller stores server-side;
// `completeLogin` takes the callback URL and that stored attempt, exchanges the code, validates the ID token
// (signature, issuer, audience, expiry, nonce — OIDC Core 1.0 §3.1.3.7), reads userinfo when the claims are
// not in the ID token, and maps the claims to an identity.
//
// Every failure becomes an AppError with a stable code. The original error is kept as `cause`, redacted:
// openid-client attaches the ID token claims or callback parameters to some errors, and those may hold a
// personal identity number, so only names, messages, codes and stacks of the error chain are kept.
import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { type Clock, systemClock } from '../clock.ts';
import type { ClaimProfile } from '../config.ts';
import { AppError } from '../errors.ts';
import {
  assertAcrAccepted,
  assertIdentifiedForAct,
  DEFAULT_SCOPES,
  hasProfileClaims,
  hasStaffClaims,
  type Identity,
  mapClaims,
  mapStaffClaims,
  type ProviderClaims,
  STAFF_DEFAULT_SCOPES,
  type StaffIdentity,
} from './claims.ts';
import { type ClientKey, loadClientKey } from './client-key.ts';

export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface RelyingPartyOptions {
  /** Issuer identifier; discovery reads `{issuer}/.well-known/openid-configuration`. */
  issuer: string | URL;
  clientId: string;
  clientSecret?: string;
  /** File with the private key for private_key_jwt (OIDC_CLIENT_KEY). */
  clientKeyFile?: string;
  /** An already loaded key (instead of clientKeyFile). */
  clientKey?: ClientKey;
  /**
   * Default: private_key_jwt with a key, client_secret_basic with a secret (the OIDC default), otherwise
   * none (a public client; PKCE still binds the code).
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Where the provider sends the browser back (PUBLIC_BASE_URL/auth/callback). */
  redirectUri: string;
  /** Default: the profile's DEFAULT_SCOPES. */
  scopes?: readonly string[];
  /** Accepted `acr` values (OIDC_ACR_VALUES). Empty: any. Also sent as `acr_values` unless requestAcrValues is false. */
  acrValues?: readonly string[];
  requestAcrValues?: boolean;
  /** Allow http:// and other insecure requests. Development only: pass `!config.production`. */
  allowInsecure?: boolean;
  /** Seconds of clock difference tolerated when checking ID token times (default 30). */
  clockTolerance?: number;
  /**
   * How long an act may take from its start (the login attempt) to the identification's return
   * (FRESH_AUTH_MAX_AGE_SECONDS, default 300); `auth_time` must be after the act's start.
   */
  freshAuthMaxAgeSeconds?: number;
  /** How long a login attempt may wait for its callback (default 600 seconds). */
  loginAttemptMaxAgeSeconds?: number;
  /** Verify the ID token signature against the provider's JWKS (default true). */
  verifyIdTokenSignature?: boolean;
  /**
   * Send the act's user message where the provider announces support for it (OIDC_USER_MESSAGE, default
   * true).
   */
  sendUserMessage?: boolean;
  /** Timeout for each request to the provider, in seconds (default 10). */
  timeoutSeconds?: number;
  /** The fetch used for every request to the provider (an outgoing proxy, extra CA, or a test's network). */
  fetch?: client.CustomFetch;
  clock?: Clock;
}

export interface SignerRelyingPartyOptions extends RelyingPartyOptions {
  claimProfile: ClaimProfile;
}

export interface BeginLoginOptions {
  /** An identification made for this act (signing, withdrawing): prompt=login and max_age=0. */
  fresh?: boolean;
  /**
   * A short text naming the act, shown by the provider during the identification where it announces
   * support for the Swedish OIDC profile's Client Provided User Message. Never personal data.
   */
  userMessage?: string;
}

/** What the caller stores server-side (login attempt row), looked up by `state` at the callback. */
export interface StoredLoginAttempt {
  state: string;
  nonce: string;
  codeVerifier: string;
  fresh: boolean;
  createdAt: Date;
}

export interface LoginAttempt extends StoredLoginAttempt {
  /** Where to send the browser. Contains no personal data. */
  url: string;
}

export interface EndSessionOptions {
  postLogoutRedirectUri: string;
  state?: string;
}

export interface RelyingParty<I> {
  readonly issuer: string;
  /** The scopes requested. */
  readonly scopes: readonly string[];
  beginLogin(options?: BeginLoginOptions): Promise<LoginAttempt>;
  /**
   * Completes a login from the callback URL and the attempt stored for its `state` (undefined when none was
   * found: answers login_state_invalid). The caller deletes the attempt first, so it is used once.
   */
  completeLogin(callbackUrl: URL, attempt: StoredLoginAttempt | undefined | null): Promise<I>;
  /**
   * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): the provider's end-session URL with
   * `client_id` and `post_logout_redirect_uri`, undefined when the provider has no end_session_endpoint.
   *
   * Deliberately without `id_token_hint`: the ID token carries the personal identity number (the Swedish
   * profile puts it there), and a URL ends up in browser history and access logs. The spec allows
   * `client_id` instead; the provider may then ask the person to confirm. (A POST with the hint is no way
   * out: SameSite=Lax keeps the provider's session cookie off a cross-site POST, so it cannot log out.)
   */
  endSessionUrl(options: EndSessionOptions): string | undefined;
}

export type SignerRelyingParty = RelyingParty<Identity>;
export type StaffRelyingParty = RelyingParty<StaffIdentity>;

interface Mapper<I> {
  /** Whether the ID token already holds the claims, so userinfo can be skipped. */
  complete(claims: ProviderClaims): boolean;
  map(claims: ProviderClaims, now: Date): I;
}

/** A relying party for signers (guardians, youths): identity with a Swedish personal number by claim profile. */
export function createRelyingParty(options: SignerRelyingPartyOptions): Promise<SignerRelyingParty> {
  const profile = options.claimProfile;
  return create(options, DEFAULT_SCOPES[profile], {
    complete: (claims) => hasProfileClaims(profile, claims),
    map: (claims, now) => mapClaims(profile, claims, { now }),
  });
}

/** A relying party for staff: matched by issuer + subject (first login by the invited e-mail address). */
export function createStaffRelyingParty(options: RelyingPartyOptions): Promise<StaffRelyingParty> {
  return create(options, STAFF_DEFAULT_SCOPES, {
    complete: hasStaffClaims,
    map: (claims) => mapStaffClaims(claims),
  });
}

async function create<I>(
  options: RelyingPartyOptions,
  defaultScopes: readonly string[],
  mapper: Mapper<I>,
): Promise<RelyingParty<I>> {
  const issuerUrl = new URL(options.issuer);
  const allowInsecure = options.allowInsecure ?? false;
  if (issuerUrl.protocol !== 'https:' && !allowInsecure) {
    throw new Error('OIDC issuer must be an https:// URL (http is allowed in development only)');
  }
  const clock = options.clock ?? systemClock;
  const scopes = options.scopes && options.scopes.length > 0 ? [...options.scopes] : [...defaultScopes];
  if (!scopes.includes('openid')) scopes.unshift('openid');
  const acrValues = [...(options.acrValues ?? [])];
  const clockTolerance = options.clockTolerance ?? 30;
  const freshMaxAge = options.freshAuthMaxAgeSeconds ?? 300;
  const attemptMaxAgeMs = (options.loginAttemptMaxAgeSeconds ?? 600) * 1000;

  const clientKey =
    options.clientKey ?? (options.clientKeyFile ? await loadClientKey(options.clientKeyFile) : undefined);
  const metadata: Partial<client.ClientMetadata> = { [client.clockTolerance]: clockTolerance };
  if (options.clientSecret) metadata.client_secret = options.clientSecret;

  const auth = clientAuth(options, clientKey);
  let config: client.Configuration;
  try {
    config = await client.discovery(issuerUrl, options.clientId, metadata, auth, {
      execute: allowInsecure ? [client.allowInsecureRequests] : [],
      timeout: options.timeoutSeconds ?? 10,
      ...(options.fetch ? { [client.customFetch]: options.fetch } : {}),
    });
  } catch (error) {
    throw new AppError('service_unavailable', 'Legitimeringstjänsten kan inte nås just nu.', {
      cause: redact(error),
    });
  }
  if (options.verifyIdTokenSignature ?? true) client.enableNonRepudiationChecks(config);
  const server = config.serverMetadata();
  const userMessageSupported = (options.sendUserMessage ?? true) && announcesUserMessage(server);

  async function beginLogin(o: BeginLoginOptions = {}): Promise<LoginAttempt> {
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const parameters: Record<string, string> = {
      redirect_uri: options.redirectUri,
      scope: scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ui_locales: 'sv',
    };
    if (acrValues.length > 0 && (options.requestAcrValues ?? true))
      parameters.acr_values = acrValues.join(' ');
    const fresh = o.fresh ?? false;
    if (fresh) {
      // OIDC Core 1.0 §3.1.2.1: prompt=login asks for a new authentication, max_age=0 makes auth_time required.
      parameters.prompt = 'login';
      parameters.max_age = '0';
    }
    if (o.userMessage && userMessageSupported)
      parameters[USER_MESSAGE_PARAMETER] = userMessageValue(o.userMessage);
    const url = client.buildAuthorizationUrl(config, parameters).href;
    return { url, state, nonce, codeVerifier, fresh, createdAt: clock.now() };
  }

  async function completeLogin(callbackUrl: URL, attempt: StoredLoginAttempt | undefined | null): Promise<I> {
    const now = clock.now();
    const state = callbackUrl.searchParams.get('state');
    if (!attempt || state === null || !sameString(state, attempt.state)) throw stateInvalid();
    const age = now.getTime() - attempt.createdAt.getTime();
    if (!(age <= attemptMaxAgeMs && age >= -clockTolerance * 1000)) throw stateInvalid();

    let claims: ProviderClaims;
    try {
      const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: attempt.codeVerifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token in the token response');
      claims = idClaims;
      if (!mapper.complete(idClaims) && server.userinfo_endpoint) {
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // The ID token's claims win: they are signed and carry iss, sub, acr and auth_time.
        claims = { ...userinfo, ...idClaims };
      }
    } catch (error) {
      throw loginFailed(error);
    }

    const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
    assertAcrAccepted(acr, acrValues);
    const checkedAt = clock.now();
    if (attempt.fresh) {
      const authTime = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : undefined;
      assertIdentifiedForAct(authTime, attempt.createdAt, checkedAt, freshMaxAge);
    }
    return mapper.map(claims, checkedAt);
  }

  function endSessionParameters(o: EndSessionOptions): Record<string, string> {
    const p: Record<string, string> = {
      client_id: options.clientId,
      post_logout_redirect_uri: o.postLogoutRedirectUri,
    };
    if (o.state) p.state = o.state;
    return p;
  }

  return {
    issuer: server.issuer,
    scopes,
    beginLogin,
    completeLogin,
    endSessionUrl: (o) =>
      server.end_session_endpoint
        ? client.buildEndSessionUrl(config, endSessionParameters(o)).href
        : undefined,
  };
}

function clientAuth(options: RelyingPartyOptions, key: ClientKey | undefined): client.ClientAuth {
  const method: TokenEndpointAuthMethod =
    options.tokenEndpointAuthMethod ??
    (key ? 'private_key_jwt' : options.clientSecret ? 'client_secret_basic' : 'none');
  switch (method) {
    case 'private_key_jwt':
      if (!key) throw new Error('OIDC private_key_jwt needs a client key (OIDC_CLIENT_KEY)');
      return client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });
    case 'client_secret_basic':
    case 'client_secret_post': {
      if (!options.clientSecret) throw new Error(`OIDC ${method} needs a client secret (OIDC_CLIENT_SECRET)`);
      return method === 'client_secret_basic'
        ? client.ClientSecretBasic(options.clientSecret)
        : client.ClientSecretPost(options.clientSecret);
    }
    case 'none':
      return client.None();
  }
}

/**
 * Authentication Request Parameter Extensions for the Swedish OpenID Connect Profile, §2.1 and §3.1
 * (https://www.oidc.se/specifications/request-parameter-extensions.html): the parameter, and the discovery
 * flag a provider announces it with.
 */
export const USER_MESSAGE_PARAMETER = 'https://id.oidc.se/param/userMessage';
export const USER_MESSAGE_DISCOVERY = 'https://id.oidc.se/disco/userMessageSupported';

function announcesUserMessage(server: client.ServerMetadata): boolean {
  return (server as Record<string, unknown>)[USER_MESSAGE_DISCOVERY] === true;
}

/** The parameter's value: JSON with the base64 of the UTF-8 text, per language (`message#sv`), plain text. */
export function userMessageValue(text: string): string {
  return JSON.stringify({
    'message#sv': Buffer.from(text, 'utf8').toString('base64'),
    mime_type: 'text/plain',
  });
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function stateInvalid(): AppError {
  return new AppError('login_state_invalid', 'Inloggningen har gått ut eller är ogiltig. Börja om.');
}

/** Network failures and timeouts: the provider is unreachable rather than the login wrong. */
function isUnreachable(error: unknown): boolean {
  if (
    error instanceof client.ClientError &&
    (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')
  ) {
    return true;
  }
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

function loginFailed(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isUnreachable(error)) {
    return new AppError('service_unavailable', 'Legitimeringstjänsten kan inte nås just nu.', {
      cause: redact(error),
    });
  }
  const providerError =
    error instanceof Error && 'error' in error && typeof error.error === 'string' ? error.error : undefined;
  const message =
    providerError === 'access_denied' ? 'Inloggningen avbröts.' : 'Inloggningen misslyckades. Försök igen.';
  return new AppError('login_failed', message, {
    cause: redact(error),
    ...(providerError ? { extra: { providerError } } : {}),
  });
}

/** An error from the provider or the protocol library, without any attached data (claims, parameters). */
export class RedactedError extends Error {
  readonly code: string | undefined;
  constructor(original: Error, depth = 0) {
    const next = original.cause;
    super(
      original.message,
      next instanceof Error && depth < 5 ? { cause: new RedactedError(next, depth + 1) } : undefined,
    );
    this.name = original.name;
    const code = (original as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
    this.stack = original.stack;
  }
}

function redact(error: unknown): Error {
  return error instanceof Error ? new RedactedError(error) : new Error('non-error thrown');
}

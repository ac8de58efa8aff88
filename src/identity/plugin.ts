// The `identity` plugin: OpenID Connect login for signers and staff, server-side sessions, CSRF protection.
// - builds the signer and the staff relying party from the configuration (discovery on first use, retried
//   after a failure, and tried once when the server starts listening so a wrong issuer shows in the log);
// - in development without OIDC_ISSUER, mounts the development IdP (src/dev/idp/, imported only then) at
//   `${PUBLIC_BASE_URL}/dev-idp` with our client registered; production refuses it here as well as in the
//   configuration;
// - decorates `app.identity` and `request.session`. The login routes are transport: http/auth/.
// Registers @fastify/cookie and @fastify/formbody when not yet registered: other plugins rely on them
// through `dependencies: ['identity']`.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../clock.ts';
import { type ClientKey, loadClientKey } from './client-key.ts';
import { writeCsrfCookie } from './csrf.ts';
import { DevIdpProductionError } from './dev-idp-refused.ts';
import { LOGIN_ATTEMPT_TTL_SECONDS } from './login-attempts.ts';
import type {
  RelyingPartyOptions,
  SignerRelyingParty,
  StaffRelyingParty,
  TokenEndpointAuthMethod,
} from './oidc-client.ts';
import { cookieNames, loadSession } from './sessions.ts';

export { csrfToken, requireCsrf } from './csrf.ts';
export { type Audience, requireSession, type SessionData, sessionExpired } from './sessions.ts';

export interface IdentityService {
  /** The signers' relying party (discovered on first use, then kept). */
  signer(): Promise<SignerRelyingParty>;
  /** The staff relying party (STAFF_OIDC_*, defaulting to the signers' provider). */
  staff(): Promise<StaffRelyingParty>;
  /** The development IdP running in this app (src/dev/idp/), or null (a real provider is configured). */
  readonly devIdp: MountedDevIdp | null;
  /** `${PUBLIC_BASE_URL}/auth/callback`: register it at the provider. */
  readonly redirectUri: string;
  /** `${PUBLIC_BASE_URL}/auth/logged-out`: register it at the provider for RP-initiated logout. */
  readonly postLogoutRedirectUri: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    identity: IdentityService;
  }
}

/** What the rest of the service knows of the development IdP (its module stays in src/dev/idp/). */
export interface MountedDevIdp {
  readonly issuer: string;
  /** The path prefix it answers under, e.g. `/dev-idp`. */
  readonly mountPath: string;
}

/** What the signer and the staff provider settings have in common (config.oidc.signer / .staff). */
interface ProviderSettings {
  issuer: string | undefined;
  clientId: string;
  clientSecret: string | undefined;
  clientKeyFile: string | undefined;
  clientAuthMethod: TokenEndpointAuthMethod | undefined;
  scopes: readonly string[] | undefined;
  acrValues: readonly string[];
}

interface IdentityUrls {
  redirectUri: string;
  postLogoutRedirectUri: string;
}

/** Discovery once, kept; a failure is not kept, so the next call tries again. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= make().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function identityPlugin(app: FastifyInstance) {
  const { config } = app;
  const clock: Clock = app.clock;
  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);

  const urls: IdentityUrls = {
    redirectUri: `${config.publicBaseUrl}/auth/callback`,
    postLogoutRedirectUri: `${config.publicBaseUrl}/auth/logged-out`,
  };
  const signerSettings: ProviderSettings = config.oidc.signer;
  const staffSettings: ProviderSettings = config.oidc.staff;
  // Keys are read now: a missing or unreadable key file stops the start, not the first login.
  const signerKey = signerSettings.clientKeyFile
    ? await loadClientKey(signerSettings.clientKeyFile)
    : undefined;
  const staffKey =
    staffSettings.clientKeyFile === signerSettings.clientKeyFile
      ? signerKey
      : staffSettings.clientKeyFile
        ? await loadClientKey(staffSettings.clientKeyFile)
        : undefined;

  let devIdp: MountedDevIdp | null = null;
  const devIssuer = `${config.publicBaseUrl}/dev-idp`;
  if (!signerSettings.issuer || !staffSettings.issuer) {
    // Config refuses this too; a second lock, since this would be a login anyone can pass.
    if (config.production) throw new DevIdpProductionError();
    // Imported here, not at the top: src/dev/ is development only, and a service configured with real
    // providers never loads oidc-provider (nor prints its runtime warnings).
    const { mountDevIdp } = await import('../dev/idp/mount.ts');
    devIdp = await mountDevIdp(app, {
      issuer: devIssuer,
      audiences: [
        ...(signerSettings.issuer ? [] : [{ settings: signerSettings, key: signerKey }]),
        ...(staffSettings.issuer ? [] : [{ settings: staffSettings, key: staffKey }]),
      ],
      urls,
      clock,
    });
    app.log.info({ issuer: devIssuer }, 'development IdP mounted');
  }

  const common = (s: ProviderSettings, key: ClientKey | undefined): RelyingPartyOptions => ({
    issuer: s.issuer ?? devIssuer,
    clientId: s.clientId,
    ...(s.clientSecret ? { clientSecret: s.clientSecret } : {}),
    ...(key ? { clientKey: key } : {}),
    ...(s.clientAuthMethod ? { tokenEndpointAuthMethod: s.clientAuthMethod } : {}),
    redirectUri: urls.redirectUri,
    ...(s.scopes ? { scopes: s.scopes } : {}),
    acrValues: s.acrValues,
    allowInsecure: !config.production,
    freshAuthMaxAgeSeconds: config.oidc.freshAuthMaxAgeSeconds,
    sendUserMessage: config.oidc.userMessage,
    loginAttemptMaxAgeSeconds: LOGIN_ATTEMPT_TTL_SECONDS,
    clock,
  });
  // The OpenID Connect client (openid-client) loads with the first login or discovery, not at start.
  const relyingParties = () => import('./oidc-client.ts');
  const signer = once(async () =>
    (await relyingParties()).createRelyingParty({
      ...common(signerSettings, signerKey),
      claimProfile: config.oidc.signer.claimProfile,
    }),
  );
  const staff = once(async () =>
    (await relyingParties()).createStaffRelyingParty(common(staffSettings, staffKey)),
  );

  app.decorate('identity', { signer, staff, devIdp, ...urls } satisfies IdentityService);
  app.decorateRequest('session', null);
  // Callback hooks, not async ones: these run on every request, and most (API calls with a token) carry no
  // session cookie and get no CSRF cookie, so they finish at once without a promise.
  const sessionCookie = cookieNames(config.production).session;
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.cookies[sessionCookie]) return done();
    loadSession(request, reply).then(() => done(), done);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    writeCsrfCookie(request, reply);
    done(null, payload);
  });

  // Discovery when the server listens (not before: the development IdP answers through this very server),
  // without holding the start up: a provider that is down now may be up at the first login.
  // The development IdP is this very app: nothing to find out, and discovering it would load it (it loads
  // at the first login instead).
  app.addHook('onListen', async () => {
    for (const [audience, rp, settings] of [
      ['signer', signer, signerSettings],
      ['staff', staff, staffSettings],
    ] as const) {
      if (!settings.issuer) continue;
      rp().catch((err: unknown) =>
        app.log.warn({ err, audience }, 'OpenID provider discovery failed; trying again at the next login'),
      );
    }
  });
}

export default fp(identityPlugin, { name: 'identity', dependencies: ['db'], fastify: '5.x' });

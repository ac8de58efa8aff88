// The `identity` plugin: OpenID Connect login for signers and staff, server-side sessions, CSRF protection.
// - builds the signer and the staff relying party from the configuration (discovery on first use, retried
//   after a failure, and tried once when the server starts listening so a wrong issuer shows in the log);
// - in development without OIDC_ISSUER, runs the development IdP at `${PUBLIC_BASE_URL}/dev-idp` with our
//   client registered, created on its first request (its key generation costs time every app would pay);
//   production refuses it here as well as in the configuration;
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
import { DevIdpProductionError } from './dev-idp/errors.ts';
import devIdpPlugin from './dev-idp/fastify.ts';
// Types only: the module itself (and oidc-provider with it) is imported on the development IdP's first
// request, so a service configured with a real provider never loads it (nor prints its runtime warnings).
import type { DevIdp, DevIdpClient, DevIdpOptions } from './dev-idp/index.ts';
import { LOGIN_ATTEMPT_TTL_SECONDS } from './login-attempts.ts';
import {
  createRelyingParty,
  createStaffRelyingParty,
  type RelyingPartyOptions,
  type SignerRelyingParty,
  type StaffRelyingParty,
  type TokenEndpointAuthMethod,
} from './oidc-client.ts';
import { cookieNames, loadSession } from './sessions.ts';

export { csrfToken, requireCsrf } from './csrf.ts';
export { type Audience, requireSession, type SessionData, sessionExpired } from './sessions.ts';

export interface IdentityService {
  /** The signers' relying party (discovered on first use, then kept). */
  signer(): Promise<SignerRelyingParty>;
  /** The staff relying party (STAFF_OIDC_*, defaulting to the signers' provider). */
  staff(): Promise<StaffRelyingParty>;
  /** The development IdP running in this app, or null (a real provider is configured). */
  readonly devIdp: DevIdp | null;
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

function authMethodOf(s: ProviderSettings, key: ClientKey | undefined): TokenEndpointAuthMethod {
  return s.clientAuthMethod ?? (key ? 'private_key_jwt' : s.clientSecret ? 'client_secret_basic' : 'none');
}

/** Our client as the development IdP registers it. */
function devClient(s: ProviderSettings, key: ClientKey | undefined, service: IdentityUrls): DevIdpClient {
  const method = authMethodOf(s, key);
  return {
    client_id: s.clientId,
    client_name: 'Samtycke',
    redirect_uris: [service.redirectUri],
    post_logout_redirect_uris: [service.postLogoutRedirectUri],
    token_endpoint_auth_method: method,
    ...(s.clientSecret && method.startsWith('client_secret') ? { client_secret: s.clientSecret } : {}),
    ...(key && method === 'private_key_jwt' ? { jwks: { keys: [key.publicJwk] } } : {}),
  };
}

interface IdentityUrls {
  redirectUri: string;
  postLogoutRedirectUri: string;
}

/**
 * A development IdP created on its first request. `issuer`, `mountPath` and `matches` are known at once
 * (they are what the Fastify plugin needs at start); the provider itself (its keys cost time every app
 * would pay) comes when a browser or our relying party first asks for it. `create` is `createDevIdp`,
 * passed in so that oidc-provider is imported only where a development IdP is mounted.
 */
export function lazyDevIdp(options: DevIdpOptions, create: (o: DevIdpOptions) => DevIdp): DevIdp {
  if (options.production !== false) throw new DevIdpProductionError();
  const issuer = new URL(options.issuer).href.replace(/\/+$/, '');
  const mountPath = new URL(issuer).pathname.replace(/\/+$/, '');
  let instance: DevIdp | undefined;
  const get = (): DevIdp => {
    instance ??= create(options);
    return instance;
  };
  return {
    issuer,
    mountPath,
    get provider() {
      return get().provider;
    },
    get people() {
      return get().people;
    },
    // As createDevIdp's: the mount path itself, or below it.
    matches: (url) =>
      mountPath === '' ||
      url === mountPath ||
      url.startsWith(`${mountPath}/`) ||
      url.startsWith(`${mountPath}?`),
    handler: (req, res) => get().handler(req, res),
    close: async () => instance?.close(),
  };
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

  let devIdp: DevIdp | null = null;
  const devIssuer = `${config.publicBaseUrl}/dev-idp`;
  if (!signerSettings.issuer || !staffSettings.issuer) {
    // Config refuses this too; a second lock, since this would be a login anyone can pass.
    if (config.production) throw new DevIdpProductionError();
    const clients = new Map<string, DevIdpClient>();
    if (!signerSettings.issuer)
      clients.set(signerSettings.clientId, devClient(signerSettings, signerKey, urls));
    if (!staffSettings.issuer && !clients.has(staffSettings.clientId))
      clients.set(staffSettings.clientId, devClient(staffSettings, staffKey, urls));
    // Imported here, not at the top: a service configured with real providers never loads oidc-provider
    // (nor prints its runtime warnings).
    const { createDevIdp } = await import('./dev-idp/index.ts');
    devIdp = lazyDevIdp(
      { issuer: devIssuer, clients: [...clients.values()], production: false, clock },
      createDevIdp,
    );
    await app.register(devIdpPlugin, { devIdp });
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
  const signer = once(() =>
    createRelyingParty({
      ...common(signerSettings, signerKey),
      claimProfile: config.oidc.signer.claimProfile,
    }),
  );
  const staff = once(() => createStaffRelyingParty(common(staffSettings, staffKey)));

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
  app.addHook('onListen', async () => {
    for (const [audience, rp] of [
      ['signer', signer],
      ['staff', staff],
    ] as const) {
      rp().catch((err: unknown) =>
        app.log.warn({ err, audience }, 'OpenID provider discovery failed; trying again at the next login'),
      );
    }
  });
}

export default fp(identityPlugin, { name: 'identity', dependencies: ['db'], fastify: '5.x' });

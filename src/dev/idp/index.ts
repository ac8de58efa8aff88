// The development OpenID provider: oidc-provider in-process, with our own small login page listing the
// fictional test people. Development and tests only; `createDevIdp` refuses to run in production.
//
// Mounting: the issuer's path is the mount path (`http://localhost:3000/dev-idp` → `/dev-idp`). `handler`
// is a plain Node callback that strips that prefix from `req.url` and keeps the original in
// `req.originalUrl`, which oidc-provider reads to build its URLs ("Mounting oidc-provider" in its docs: the
// connect/express/nest recipes do the same). So it works on its own port (`startDevIdpServer`), behind
// Fastify (`./fastify.ts`, an onRequest hook that hands the raw request over before Fastify reads the
// body) or under express/connect (`app.use('/dev-idp', handler)`, already stripped).
import { generateKeyPairSync, type JsonWebKey, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Configuration, type ErrorOut, type KoaContextWithOIDC, Provider } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import { type Clock, systemClock } from '../../clock.ts';
import { localDateOf } from '../../domain/dates.ts';
import { DEV_IDP_CLAIMS, DevAccounts } from './accounts.ts';
import { DevIdpProductionError } from '../../identity/dev-idp-refused.ts';
import { interactionError, interactionHandler, send } from './interactions.ts';
import { DEV_ACR_CHOICES, errorPage, loggedOutPage, logoutPage, PAGE_CSP } from './pages.ts';
import { createTestPeople, type TestPeople } from '../people.ts';

export type { TestPeople, TestPerson } from '../people.ts';

export interface DevIdpClient {
  client_id: string;
  client_secret?: string;
  client_name?: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** Public keys of a private_key_jwt client (see `ClientKey.publicJwk`). */
  jwks?: { keys: JsonWebKey[] };
}

/** Lifetimes in seconds. Short ones let tests see expiry. */
export interface DevIdpTtl {
  IdToken?: number;
  AccessToken?: number;
  AuthorizationCode?: number;
  Interaction?: number;
  Session?: number;
  Grant?: number;
}

export interface DevIdpOptions {
  /** The issuer identifier; its path is the mount path. Use the same value everywhere (RP config, links). */
  issuer: string;
  clients: DevIdpClient[];
  /** Pass `config.production`. True makes createDevIdp throw: the dev IdP never runs in production. */
  production: boolean;
  ttl?: DevIdpTtl;
  /** Defaults to the fictional test people as of the clock's date. */
  people?: TestPeople;
  clock?: Clock;
  /** Trust X-Forwarded-* headers (only behind a proxy that sets them). */
  proxy?: boolean;
}

export interface DevIdp {
  readonly issuer: string;
  /** The path prefix the IdP answers under ('' at the root). */
  readonly mountPath: string;
  readonly provider: Provider;
  readonly people: TestPeople;
  /** Whether a request URL (path and query) belongs to this IdP. */
  matches(url: string): boolean;
  /** Node http callback. Answers 404 for URLs outside the mount path. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

const DEFAULT_TTL: Required<DevIdpTtl> = {
  IdToken: 600,
  AccessToken: 600,
  AuthorizationCode: 60,
  Interaction: 900,
  Session: 8 * 3600,
  Grant: 8 * 3600,
};

export { DevIdpProductionError };

export function createDevIdp(options: DevIdpOptions): DevIdp {
  if (options.production !== false) throw new DevIdpProductionError();
  const issuerUrl = new URL(options.issuer);
  if (issuerUrl.search || issuerUrl.hash) throw new Error('Dev IdP issuer: no query or fragment allowed');
  const issuer = issuerUrl.href.replace(/\/+$/, '');
  const mountPath = issuerUrl.pathname.replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const people = options.people ?? createTestPeople(localDateOf(clock.now()));
  const accounts = new DevAccounts();
  const clientNames = new Map(options.clients.map((c) => [c.client_id, c.client_name ?? c.client_id]));

  const provider = new Provider(issuer, providerConfiguration(options, mountPath, accounts));
  provider.proxy = options.proxy ?? false;
  const callback = provider.callback();

  const matches = (url: string): boolean =>
    mountPath === '' ||
    url === mountPath ||
    url.startsWith(`${mountPath}/`) ||
    url.startsWith(`${mountPath}?`);

  /** Strips the mount path; false when the URL is not ours. */
  function enter(req: IncomingMessage & { originalUrl?: string }): boolean {
    const url = req.url ?? '/';
    // Mounted by express/connect: the prefix is already gone and originalUrl kept.
    if (req.originalUrl !== undefined && req.originalUrl !== url) return true;
    if (!matches(url)) return false;
    if (mountPath !== '') {
      req.originalUrl = url;
      const rest = url.slice(mountPath.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
    }
    return true;
  }

  const interactions = interactionHandler({ provider, mountPath, people, accounts, clientNames, clock });

  function handler(req: IncomingMessage, res: ServerResponse): void {
    if (!enter(req)) {
      send(res, 404, errorPage('Finns inte', 'Sidan finns inte.'));
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login)?$/.exec(path);
    if (m) {
      interactions(req, res, m[1]!, m[2] !== undefined).catch((error: unknown) =>
        interactionError(res, error),
      );
      return;
    }
    void callback(req, res);
  }

  return {
    issuer,
    mountPath,
    provider,
    people,
    matches,
    handler,
    close: async () => accounts.clear(),
  };
}

function providerConfiguration(
  options: DevIdpOptions,
  mountPath: string,
  accounts: DevAccounts,
): Configuration {
  // A fresh signing key per instance: nothing signed by a dev IdP outlives it.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `dev-${randomBytes(6).toString('hex')}`,
    use: 'sig',
    alg: 'RS256',
  };
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const };
  return {
    adapter: createMemoryAdapter(),
    // auth_time in every ID token, not only when max_age asks for it.
    clients: options.clients.map((c) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      require_auth_time: true,
      // So that `acr` is in every ID token (oidc-provider adds it only when acr_values asks for it).
      default_acr_values: DEV_ACR_CHOICES.map((a) => a.value),
      ...c,
    })),
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: 'dev_idp_session', interaction: 'dev_idp_interaction', resume: 'dev_idp_resume' },
      // The session cookie stays under the mount path, away from the main app's own cookies.
      long: { ...cookieOptions, path: mountPath || '/' },
      short: cookieOptions,
    },
    claims: {
      // Claims outside any scope (null): always included where they apply, as in oidc-provider's defaults.
      acr: null,
      auth_time: null,
      sid: null,
      iss: null,
      ...Object.fromEntries(Object.entries(DEV_IDP_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    },
    scopes: ['openid', ...Object.keys(DEV_IDP_CLAIMS).filter((s) => s !== 'openid')],
    // Custom claims (number, name) in the ID token as well, like the Swedish OIDC profile delivers them.
    conformIdTokenClaims: false,
    acrValues: DEV_ACR_CHOICES.map((a) => a.value),
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => html(ctx, logoutPage(form)),
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => html(ctx, loggedOutPage()),
      },
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${mountPath}/interaction/${interaction.uid}`,
    },
    findAccount: (_ctx: unknown, id: string) => accounts.find(id),
    loadExistingGrant,
    renderError: (ctx: KoaContextWithOIDC, out: ErrorOut) =>
      html(ctx, errorPage('Något gick fel', [out.error, out.error_description].filter(Boolean).join(': '))),
    ttl: { ...DEFAULT_TTL, ...options.ttl },
  };
}

function html(ctx: KoaContextWithOIDC, body: string): void {
  ctx.type = 'html';
  ctx.set('content-security-policy', PAGE_CSP);
  ctx.body = body;
}

/**
 * Consent is implied (a development IdP for our own service): grant what the client asks for, so the
 * consent prompt never appears. Pattern from oidc-provider's docs, "Skipping consent for first-party apps".
 */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const clientId = oidc.client?.clientId;
  const accountId = oidc.session?.accountId;
  if (!clientId || !accountId) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  const grant =
    (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ??
    new oidc.provider.Grant({ clientId, accountId });
  grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

export interface DevIdpServer {
  devIdp: DevIdp;
  server: Server;
  issuer: string;
  close(): Promise<void>;
}

/**
 * Starts a dev IdP on its own port (tests, or a separate local port in development). The issuer is
 * `http://{host}:{port}{path}`, built from the port actually bound (port 0 picks a free one).
 */
export async function startDevIdpServer(
  options: Omit<DevIdpOptions, 'issuer'> & { host?: string; port?: number; path?: string },
): Promise<DevIdpServer> {
  const { host = '127.0.0.1', port = 0, path = '', ...rest } = options;
  let idp: DevIdp | undefined;
  const server = createServer((req, res) => {
    if (idp) idp.handler(req, res);
    else send(res, 503, errorPage('Startar', 'Utvecklings-IdP:n startar.'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const issuer = `http://${hostPart}:${address.port}${path}`;
  try {
    idp = createDevIdp({ ...rest, issuer });
  } catch (error) {
    server.close();
    throw error;
  }
  const devIdp = idp;
  return {
    devIdp,
    server,
    issuer: devIdp.issuer,
    close: async () => {
      await devIdp.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

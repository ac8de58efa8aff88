// Mounts the development IdP in the app at `${PUBLIC_BASE_URL}/dev-idp` with our clients registered.
// Imported by the identity plugin (dynamically, in development without OIDC_ISSUER or STAFF_OIDC_ISSUER
// only). The IdP itself (./index.ts, with oidc-provider and its key generation) is loaded and created on
// its first request, a login: every start would pay for it, and a service configured with real providers
// never loads it (nor prints oidc-provider's runtime warnings).
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.ts';
import type { ClientKey } from '../../identity/client-key.ts';
import { DevIdpProductionError } from '../../identity/dev-idp-refused.ts';
import type { TokenEndpointAuthMethod } from '../../identity/oidc-client.ts';
import devIdpPlugin from './fastify.ts';
import type { DevIdp, DevIdpClient, DevIdpOptions } from './index.ts';

/** A provider setting with no issuer of its own (config.oidc.signer / .staff), and its client key. */
export interface DevIdpAudience {
  settings: {
    clientId: string;
    clientSecret: string | undefined;
    clientAuthMethod: TokenEndpointAuthMethod | undefined;
  };
  key: ClientKey | undefined;
}

/** Where the provider sends the browser back (the identity plugin's URLs). */
interface IdentityUrls {
  redirectUri: string;
  postLogoutRedirectUri: string;
}

export interface MountDevIdpOptions {
  issuer: string;
  /** The signer and staff settings that have no issuer (one or both). */
  audiences: DevIdpAudience[];
  urls: IdentityUrls;
  clock: Clock;
}

/** Our client as the development IdP registers it. */
function devClient({ settings: s, key }: DevIdpAudience, urls: IdentityUrls): DevIdpClient {
  const method =
    s.clientAuthMethod ?? (key ? 'private_key_jwt' : s.clientSecret ? 'client_secret_basic' : 'none');
  return {
    client_id: s.clientId,
    client_name: 'Samtycke',
    redirect_uris: [urls.redirectUri],
    post_logout_redirect_uris: [urls.postLogoutRedirectUri],
    token_endpoint_auth_method: method,
    ...(s.clientSecret && method.startsWith('client_secret') ? { client_secret: s.clientSecret } : {}),
    ...(key && method === 'private_key_jwt' ? { jwks: { keys: [key.publicJwk] } } : {}),
  };
}

export async function mountDevIdp(app: FastifyInstance, options: MountDevIdpOptions): Promise<DevIdp> {
  const clients = new Map<string, DevIdpClient>();
  for (const audience of options.audiences)
    if (!clients.has(audience.settings.clientId))
      clients.set(audience.settings.clientId, devClient(audience, options.urls));
  const devIdp = lazyDevIdp(
    { issuer: options.issuer, clients: [...clients.values()], production: false, clock: options.clock },
    async (o) => (await import('./index.ts')).createDevIdp(o),
  );
  await app.register(devIdpPlugin, { devIdp });
  return devIdp;
}

/**
 * A development IdP created on its first request. `issuer`, `mountPath` and `matches` are known at once
 * (they are what the Fastify plugin needs at start); the provider itself comes when a browser or our
 * relying party first asks for it. `create` is `createDevIdp` behind an import().
 */
export function lazyDevIdp(
  options: DevIdpOptions,
  create: (o: DevIdpOptions) => DevIdp | Promise<DevIdp>,
): DevIdp {
  if (options.production !== false) throw new DevIdpProductionError();
  const issuer = new URL(options.issuer).href.replace(/\/+$/, '');
  const mountPath = new URL(issuer).pathname.replace(/\/+$/, '');
  let instance: DevIdp | undefined;
  let loading: Promise<DevIdp> | undefined;
  const load = (): Promise<DevIdp> =>
    (loading ??= Promise.resolve()
      .then(() => create(options))
      .then(
        (idp) => (instance = idp),
        (error: unknown) => {
          loading = undefined; // the next request tries again
          throw error;
        },
      ));
  const get = (): DevIdp => {
    if (!instance) throw new Error('The development IdP is created on its first request; none came yet');
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
    handler: (req, res) => {
      if (instance) return instance.handler(req, res);
      // The requests that wait for the IdP to load close their connection when answered: an app closed
      // meanwhile would otherwise wait for that keep-alive connection (Fastify keeps one open for 72 s).
      res.shouldKeepAlive = false;
      load().then(
        (idp) => idp.handler(req, res),
        (error: unknown) => {
          // Development only: say why on the page that asked (there is no logger at this level).
          res.statusCode = 500;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(`The development IdP could not start: ${(error as Error).message}`);
        },
      );
    },
    close: async () => {
      await loading?.catch(() => undefined);
      await instance?.close();
    },
  };
}

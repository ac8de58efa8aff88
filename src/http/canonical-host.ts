// Development only: a browser that opened the service under another host name than PUBLIC_BASE_URL's
// (typically http://127.0.0.1:3000, the address Fastify prints, instead of http://localhost:3000) is sent
// to the same path on PUBLIC_BASE_URL. Otherwise the login breaks in a confusing way: the session and CSRF
// cookies are set for one host name and the OpenID provider (the development IdP's issuer) returns the
// browser to the other, where the login attempt's cookie does not exist.
// Production never redirects: there a reverse proxy owns host names, and trustProxy changes what
// `request.host` means.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.ts';

/**
 * The onRequest hook, or undefined when none is needed (production, or a PUBLIC_BASE_URL on port 0,
 * which is a socket for tests and not an address anyone can open).
 */
export function canonicalHostRedirect(
  config: Pick<Config, 'production' | 'publicBaseUrl'>,
): onRequestHookHandler | undefined {
  if (config.production) return undefined;
  const base = new URL(config.publicBaseUrl);
  if (base.port === '0') return undefined;
  // Cookies are bound to the host name, not to the port: compare names only (an injected request says
  // `localhost:80` for a service whose address is http://localhost:3000).
  const hostname = base.hostname.toLowerCase();
  const origin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, '');
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    // Only what a browser opens or reloads: a form post must not be replayed on another origin, and API
    // clients, health checks and benchmarks (which ask for no HTML page) keep their answers.
    if (request.method !== 'GET' && request.method !== 'HEAD') return done();
    if (!(request.headers.accept ?? '').includes('text/html')) return done();
    if (request.hostname.toLowerCase() === hostname) return done();
    // 308 keeps the method; the path and query go along unchanged (they carry no personal data: the
    // service keeps that out of URLs).
    void reply
      .code(308)
      .header('location', `${origin}${basePath}${request.url}`)
      .header('cache-control', 'no-store')
      .send();
  };
}

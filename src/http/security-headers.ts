// Headers on every answer (issue 15 §4), set before any route runs so that JSON, problem+json, PDFs,
// pages, 404s and redirects all carry them:
// - helmet: the pages' Content-Security-Policy (below) as the policy of every answer, `nosniff`,
//   `X-Frame-Options: DENY` with `frame-ancestors 'none'`, `Referrer-Policy: same-origin`, HSTS in
//   production only (development runs on http://localhost), and helmet's other defaults (COOP, CORP, …).
//   Answers with a policy of their own set it themselves: the login's self-contained pages (inline style,
//   auth/pages.ts), Swagger UI at /docs (openapi.ts), the development IdP's pages (src/dev/idp).
// - `Cache-Control: no-store` on every answer unless its route says otherwise. Nearly every answer is
//   someone's data (consents, signers, staff, clients, tokens, PDFs) or depends on who asks; the few that
//   are the same for everyone and may be kept (the stylesheet, the OpenAPI document, Swagger UI's files)
//   set their own `Cache-Control`. A forgotten route thus errs on the side of not being stored.
//
// - The machine API's answers (`/api/`, `/oauth/`, `/health/`: JSON, problem+json, the PDF download) get
//   the set the OWASP REST Security Cheat Sheet names for API responses, precomputed: `no-store`,
//   `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`, nosniff, `X-Frame-Options:
//   DENY`, HSTS in production, and the same Referrer-Policy and Cross-Origin-Resource-Policy as the pages.
//   helmet's other headers (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
//   X-Permitted-Cross-Domain-Policies, X-XSS-Protection) only act on HTML documents. An API answer is
//   about 250 bytes shorter, and measured in one process, alternating, the status check answers 2–4 %
//   more requests a second than with helmet's whole set.
//
// helmet itself, built once here, not the @fastify/helmet plugin: that one builds helmet's middleware anew
// on every request (parsing the policy's directives again), about 8 µs of CPU a request and more than half
// of what helmet allocated under the soak (`npm run bench soak` with SOAK_ALLOCATIONS). The headers are
// the same; what remains is the cost of sending a dozen more headers.
import fp from 'fastify-plugin';
import helmet from 'helmet';

/**
 * The pages' policy: no script at all, our own stylesheet and images (QR codes are inline SVG, a few
 * images `data:`), forms that post to us or to the identity providers (the login redirect there), no
 * <base>, no framing. Directive names as they go on the wire, in this order.
 */
export function pageDirectives(formTargets: readonly string[]): Record<string, string[]> {
  return {
    'default-src': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'form-action': ["'self'", ...formTargets],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
}

/** The pages' policy as one header value (for tests and pages written by hand). */
export function contentSecurityPolicy(formTargets: readonly string[]): string {
  return Object.entries(pageDirectives(formTargets))
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/**
 * For Fastify's early answers (a bad URL, a path parameter over its limit: errors.ts), which no hook
 * sees: problem+json or a self-contained page, so the strictest policy fits (a page sets its own).
 */
export const EARLY_ANSWER_HEADERS = {
  'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

/** HSTS: a year, subdomains too (RFC 6797). Production only: development is plain http://localhost. */
const HSTS = { maxAge: 365 * 24 * 3600, includeSubDomains: true };

/** Where the machine API answers: no answer there is an HTML document (`machineApiHeaders`). */
const MACHINE_API = /^\/(?:api|oauth|health)\//;

/** The headers of every machine API answer (OWASP REST Security Cheat Sheet, "Security Headers"). */
export function machineApiHeaders(production: boolean): readonly (readonly [string, string])[] {
  return [
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'same-origin'],
    ['cross-origin-resource-policy', 'same-origin'],
    ...(production
      ? ([['strict-transport-security', `max-age=${HSTS.maxAge}; includeSubDomains`]] as const)
      : []),
  ];
}

export default fp<{ formTargets: readonly string[] }>(
  async (app, opts) => {
    const headers = helmet({
      contentSecurityPolicy: { useDefaults: false, directives: pageDirectives(opts.formTargets) },
      // Not `no-referrer`: under it browsers send `Origin: null` on our own form posts (Fetch standard);
      // `same-origin` still keeps every URL from leaving the site.
      referrerPolicy: { policy: 'same-origin' },
      frameguard: { action: 'deny' },
      strictTransportSecurity: app.config.production ? HSTS : false,
    });
    // On the raw response, so that answers written past Fastify (the development IdP) carry them too; a
    // header Fastify's reply sets (a page's own policy, a public Cache-Control) takes precedence.
    const apiHeaders = machineApiHeaders(app.config.production);
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('cache-control', 'no-store');
      if (MACHINE_API.test(request.url)) {
        for (const [name, value] of apiHeaders) reply.raw.setHeader(name, value);
        return done();
      }
      // (helmet calls back at once; since 8.1 it throws rather than passing an error on.)
      headers(request.raw, reply.raw, () => done());
    });
  },
  { name: 'security-headers' },
);

// The OpenAPI document is generated from the route schemas (zod), served at /openapi.json and /docs when
// API_DOCS is on, and written to openapi.yaml by `npm run openapi` (a test fails when that file is out of
// date).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { SCOPE_DESCRIPTIONS } from '../identity/api-clients.ts';
import { cookieNames } from '../identity/sessions.ts';
import { projectRoot } from '../paths.ts';

/**
 * Swagger UI's scripts, styles and images are ours to serve (no CDN); it fetches only the document. Its
 * bundle adds one <style> element of fixed content, allowed by its hash (a new Swagger UI version with
 * another one fails test/browser/api-docs.test.ts, which names the new hash).
 */
export const SWAGGER_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The problem details schema (src/http/problem.ts) as route schemas name it. */
const PROBLEM_REF = '#/components/schemas/Problem';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** What an error answer means, for integrators (Fastify's own text is "Default Response"). */
const PROBLEM_DESCRIPTIONS: Record<string, string> = {
  '400': 'The request is not valid (`code`, for example `validation_failed` with the fields at fault).',
  '401': 'No valid credentials (`unauthorized`).',
  '403':
    'Not allowed (`forbidden`, `insufficient_scope`), or a session without its CSRF token (`csrf_failed`).',
  '404': 'Not found, or not visible to the caller (`not_found`).',
  '409': 'Conflicts with the current state (`consent_state_conflict`, `idempotency_conflict`, `conflict`).',
  '413': 'The body is larger than this operation takes (`payload_too_large`).',
  '415': 'The body is not of a media type or charset this operation takes (`unsupported_media_type`).',
  '429': 'Too many requests (`too_many_requests`); `Retry-After` says when to try again.',
  '503': 'The service cannot take this now (`service_unavailable`); try again shortly.',
};

type Response = { description?: string; content?: Record<string, { schema?: { $ref?: string } }> };
type Operation = { requestBody?: unknown; responses?: Record<string, Response> };

const isProblem = (response: Response | undefined) =>
  Object.values(response?.content ?? {}).some((media) => media.schema?.$ref === PROBLEM_REF);

/**
 * The error answers as they are served: problem details go out as `application/problem+json`
 * (src/http/errors.ts), not as the `application/json` the route schemas imply. An operation that takes a
 * body and answers its errors as problems also answers 413 and 415: Fastify refuses a body that is too
 * large or of another media type before the route runs, and the error handler makes them problems. (The
 * token endpoint answers those as its RFC 6749 400, and keeps its own shape.)
 */
export function documentProblems<T extends { paths?: object }>(doc: T): T {
  for (const methods of Object.values(doc.paths ?? {}) as Record<string, Operation>[]) {
    for (const op of Object.values(methods)) {
      const responses = op.responses;
      if (!responses) continue;
      for (const [code, response] of Object.entries(responses)) {
        if (!isProblem(response)) continue;
        const schema = Object.values(response.content!)[0]!.schema;
        response.content = { [PROBLEM_MEDIA_TYPE]: { schema: schema! } };
        if (response.description === 'Default Response' && PROBLEM_DESCRIPTIONS[code])
          response.description = PROBLEM_DESCRIPTIONS[code];
      }
      if (op.requestBody && isProblem(responses['400'])) {
        for (const code of ['413', '415'])
          responses[code] ??= {
            description: PROBLEM_DESCRIPTIONS[code],
            content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_REF } } },
          };
      }
      op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  return doc;
}

const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };

export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Samtycke API',
          description:
            'Digital consent (samtycke) and e-signature for HLT — Hälsa, Lärande, Trygghet. ' +
            'Errors are RFC 9457 problem details (application/problem+json).',
          version: pkg.version,
        },
        tags: [
          { name: 'health', description: 'Liveness and readiness' },
          {
            name: 'oauth',
            description: 'Access tokens for other HLT systems (OAuth 2.0 client credentials)',
          },
          { name: 'admin', description: "An organisation's staff users and API clients (its admins only)" },
        ],
        // Which scheme a route takes comes from its `config.auth` (src/identity/caller.ts).
        components: {
          securitySchemes: {
            oauth2: {
              type: 'oauth2',
              description: 'Other HLT systems: a Bearer access token from POST /oauth/token.',
              flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: { ...SCOPE_DESCRIPTIONS } } },
            },
            session: {
              type: 'apiKey',
              in: 'cookie',
              name: cookieNames(false).session,
              description:
                'A staff or signer session after OpenID Connect login (`__Host-` prefixed in production). ' +
                "POST/PUT/PATCH/DELETE under /api/ also need the session's CSRF token in `x-csrf-token`.",
            },
            clientSecretBasic: {
              type: 'http',
              scheme: 'basic',
              description: 'client_id and client_secret of an API client (token endpoint only).',
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (input) => documentProblems(jsonSchemaTransformObject(input)),
    });
    // The document is always built (`npm run openapi` writes it); serving it is a setting (API_DOCS, off in
    // production by default: it tells anyone every route and parameter).
    if (!app.config.apiDocs) return;
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // No call to validator.swagger.io (a third party) for its badge.
      uiConfig: { docExpansion: 'list', validatorUrl: null },
      // Its own policy, on its routes only: Swagger UI runs its own scripts (the pages run none).
      staticCSP: SWAGGER_UI_CSP,
    });
    // The same for everyone and changed only by a new version: may be cached.
    app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(app.swagger()),
    );
  },
  { name: 'openapi' },
);

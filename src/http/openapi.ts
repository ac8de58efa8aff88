// The OpenAPI document is generated from the route schemas (zod), served at /openapi.json and /docs,
// and written to openapi.yaml by `npm run openapi` (a test fails when that file is out of date).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { SCOPE_DESCRIPTIONS } from '../identity/api-clients.ts';
import { cookieNames } from '../identity/sessions.ts';
import { projectRoot } from '../paths.ts';

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
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);

// The OpenAPI document is generated from the route schemas (zod), served at /openapi.json and /docs,
// and written to openapi.yaml by `npm run openapi` (a test fails when that file is out of date).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
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
        tags: [{ name: 'health', description: 'Liveness and readiness' }],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);

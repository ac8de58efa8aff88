// The admin API for an organisation's API clients: list, register (the secret shown once), disable, and
// secret rotation (add a second secret, revoke the old one).
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  addClientSecret,
  createApiClient,
  disableApiClient,
  getApiClient,
  listApiClients,
  listClientSecrets,
  revokeClientSecret,
} from '../../identity/api-clients.ts';
import type { Db } from '../../db/index.ts';
import type { App } from '../types.ts';
import { ADMIN, BASE, requireAdmin } from './common.ts';
import { clientOut } from './presenters.ts';
import {
  apiClientSchema,
  clientParams,
  createdClientSchema,
  errors,
  newClientSchema,
  newSecretSchema,
  orgParams,
  secretParams,
  withConflict,
} from './schemas.ts';

/** The organisation's client with its secrets; 404 for another organisation's client. */
async function clientOf(db: Db, organisationId: string, apiClientId: string) {
  const client = await getApiClient(db, apiClientId);
  if (!client || client.organisationId !== organisationId) throw new AppError('not_found');
  const secrets = await listClientSecrets(db, [client.id]);
  return clientOut(client, secrets.get(client.id) ?? []);
}

export function clientRoutes(app: App) {
  const { db } = app;

  app.get(
    `${BASE}/clients`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "The organisation's API clients",
        params: orgParams,
        response: { 200: z.object({ clients: z.array(apiClientSchema) }), ...errors },
      },
    },
    async (request) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      const clients = await listApiClients(db, organisationId);
      const secrets = await listClientSecrets(
        db,
        clients.map((c) => c.id),
      );
      return { clients: clients.map((c) => clientOut(c, secrets.get(c.id) ?? [])) };
    },
  );

  app.post(
    `${BASE}/clients`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Register an API client (the answer holds its secret, once)',
        params: orgParams,
        body: newClientSchema,
        response: { 201: createdClientSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      const { client, secret } = await createApiClient(db, app.config.clientSecretHmacKey, {
        organisationId,
        ...request.body,
      });
      request.log.info({ organisationId, apiClient: client.id }, 'api client created');
      reply.header('cache-control', 'no-store');
      return reply
        .code(201)
        .send({ client: await clientOf(db, organisationId, client.id), clientSecret: secret });
    },
  );

  app.post(
    `${BASE}/clients/:apiClientId/disable`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Disable an API client (its tokens stop working at once)',
        params: clientParams,
        response: { 200: apiClientSchema, ...errors },
      },
    },
    async (request) => {
      const { organisationId, apiClientId } = request.params;
      requireAdmin(request, organisationId);
      await clientOf(db, organisationId, apiClientId);
      await disableApiClient(db, apiClientId, app.clock.now());
      request.log.info({ organisationId, apiClient: apiClientId }, 'api client disabled');
      return clientOf(db, organisationId, apiClientId);
    },
  );
}

/** Secret rotation without downtime: add a second secret, deploy it, revoke the old one. */
export function secretRoutes(app: App) {
  const { db } = app;

  app.post(
    `${BASE}/clients/:apiClientId/secrets`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Add a second secret (rotation, step 1; the answer holds it, once)',
        description:
          'A client has at most two active secrets. Rotate without downtime: add a secret, deploy it in the ' +
          'client, then revoke the old one.',
        params: clientParams,
        response: { 201: newSecretSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { organisationId, apiClientId } = request.params;
      requireAdmin(request, organisationId);
      await clientOf(db, organisationId, apiClientId);
      const { secretId, secret } = await addClientSecret(db, app.config.clientSecretHmacKey, apiClientId);
      request.log.info({ organisationId, apiClient: apiClientId, secretId }, 'api client secret added');
      const client = await clientOf(db, organisationId, apiClientId);
      const info = client.secrets.find((s) => s.id === secretId);
      if (!info) throw new AppError('internal_error', 'the new secret is missing');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ secret: info, clientSecret: secret });
    },
  );

  app.post(
    `${BASE}/clients/:apiClientId/secrets/:secretId/revoke`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Revoke a secret (rotation, step 2)',
        description: 'The last active secret cannot be revoked (409); disable the client instead.',
        params: secretParams,
        response: { 200: apiClientSchema, ...withConflict },
      },
    },
    async (request) => {
      const { organisationId, apiClientId, secretId } = request.params;
      requireAdmin(request, organisationId);
      await clientOf(db, organisationId, apiClientId);
      await revokeClientSecret(db, apiClientId, secretId, app.clock.now());
      request.log.info({ organisationId, apiClient: apiClientId, secretId }, 'api client secret revoked');
      return clientOf(db, organisationId, apiClientId);
    },
  );
}

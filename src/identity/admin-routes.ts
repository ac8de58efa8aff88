// The admin API: an organisation's admins manage its API clients and staff users.
// /api/v1/admin/organisations/{organisationId}/…, staff session with role `admin` in that organisation
// (policy.ts `decideAdmin`: the organisation's other staff get 403, everyone else 404).
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { problemSchema } from '../http/problem.ts';
import type { App } from '../http/types.ts';
import {
  type ApiClient,
  addClientSecret,
  type ClientSecretInfo,
  CONSENT_SCOPES,
  createApiClient,
  disableApiClient,
  getApiClient,
  listApiClients,
  listClientSecrets,
  revokeClientSecret,
} from './api-clients.ts';
import { callerOf } from './caller.ts';
import { getOrganisations, ORGANISATION_TYPES, type Organisation } from './organisations.ts';
import { assertAllowed, decideAdmin } from './policy.ts';
import {
  disableMembership,
  getOrganisationStaff,
  inviteStaff,
  listOrganisationStaff,
  type OrganisationStaff,
  STAFF_ROLES,
} from './staff.ts';

// --- Schemas ---------------------------------------------------------------------------------------------

const timestamp = z.iso.datetime();
const text = (max: number) => z.string().trim().min(1).max(max);

const organisationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: z.enum(ORGANISATION_TYPES),
    municipality: z.string(),
    hltArea: z.string(),
  })
  .meta({ id: 'Organisation' });

const secretInfoSchema = z
  .object({ id: z.uuid(), createdAt: timestamp, revokedAt: timestamp.nullable() })
  .meta({ id: 'ClientSecretInfo', description: 'A client secret (never the secret itself)' });

const apiClientSchema = z
  .object({
    id: z.uuid(),
    clientId: z.string().meta({ description: 'The OAuth client_id' }),
    name: z.string(),
    scopes: z.array(z.enum(CONSENT_SCOPES)),
    contactName: z.string().nullable(),
    contactEmail: z.string().nullable(),
    disabledAt: timestamp.nullable(),
    createdAt: timestamp,
    secrets: z.array(secretInfoSchema),
  })
  .meta({ id: 'ApiClient' });

const newClientSchema = z
  .object({
    name: text(200),
    scopes: z.array(z.enum(CONSENT_SCOPES)).min(1).max(CONSENT_SCOPES.length),
    contactName: text(200).optional(),
    contactEmail: z.email().max(254).optional(),
  })
  .refine((b) => !b.scopes.includes('consent:write') || b.contactName !== undefined, {
    path: ['contactName'],
    message: 'krävs för consent:write (den som står som "samtycke inhämtat av")',
  })
  .meta({ id: 'NewApiClient' });

const createdClientSchema = z
  .object({
    client: apiClientSchema,
    clientSecret: z.string().meta({ description: 'Shown only in this answer; store it now' }),
  })
  .meta({ id: 'CreatedApiClient' });

const newSecretSchema = z
  .object({
    secret: secretInfoSchema,
    clientSecret: z.string().meta({ description: 'Shown only in this answer; store it now' }),
  })
  .meta({ id: 'NewClientSecret' });

const staffSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    title: z.string().nullable(),
    phone: z.string().nullable(),
    role: z.enum(STAFF_ROLES),
    loginBound: z.boolean().meta({ description: 'Has logged in (bound to a provider account)' }),
    lastLoginAt: timestamp.nullable(),
    disabledAt: timestamp.nullable().meta({ description: 'When the membership (or the user) was disabled' }),
    createdAt: timestamp,
  })
  .meta({ id: 'OrganisationStaff' });

const inviteSchema = z
  .object({
    email: z.email().max(254),
    name: text(200),
    role: z.enum(STAFF_ROLES).default('staff'),
    title: text(200).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 ()-]{5,30}$/, 'ogiltigt telefonnummer')
      .optional(),
  })
  .meta({ id: 'StaffInvitation' });

const orgParams = z.object({ organisationId: z.uuid() });
const clientParams = orgParams.extend({ apiClientId: z.uuid() });
const secretParams = clientParams.extend({ secretId: z.uuid() });
const staffParams = orgParams.extend({ staffId: z.uuid() });

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };
const withConflict = { ...errors, 409: problemSchema };

// --- Mapping ---------------------------------------------------------------------------------------------

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

const organisationOut = (o: Organisation) => ({
  id: o.id,
  name: o.name,
  type: o.type,
  municipality: o.municipality,
  hltArea: o.hltArea,
});

const secretOut = (s: ClientSecretInfo) => ({
  id: s.id,
  createdAt: s.createdAt.toISOString(),
  revokedAt: iso(s.revokedAt),
});

const clientOut = (c: ApiClient, secrets: ClientSecretInfo[]) => ({
  id: c.id,
  clientId: c.clientId,
  name: c.name,
  scopes: c.scopes,
  contactName: c.contactName,
  contactEmail: c.contactEmail,
  disabledAt: iso(c.disabledAt),
  createdAt: c.createdAt.toISOString(),
  secrets: secrets.map(secretOut),
});

const staffOut = (s: OrganisationStaff) => ({
  id: s.id,
  email: s.email,
  name: s.name,
  title: s.title,
  phone: s.phone,
  role: s.role,
  loginBound: s.loginBound,
  lastLoginAt: iso(s.lastLoginAt),
  disabledAt: iso(s.membershipDisabledAt),
  createdAt: s.createdAt.toISOString(),
});

// --- Routes ----------------------------------------------------------------------------------------------

const ADMIN = { auth: { staff: true, admin: true } } as const;
const BASE = '/api/v1/admin/organisations/:organisationId';

/** The admin's caller, after checking they administer the organisation (403 own staff, 404 others). */
function requireAdmin(request: FastifyRequest, organisationId: string) {
  const caller = callerOf(request);
  assertAllowed(decideAdmin(caller, organisationId));
  return caller;
}

export default async function adminRoutes(app: App) {
  const { db } = app;

  /** The organisation's client with its secrets; 404 for another organisation's client. */
  async function clientOf(organisationId: string, apiClientId: string) {
    const client = await getApiClient(db, apiClientId);
    if (!client || client.organisationId !== organisationId) throw new AppError('not_found');
    const secrets = await listClientSecrets(db, [client.id]);
    return clientOut(client, secrets.get(client.id) ?? []);
  }

  async function staffOf(organisationId: string, staffId: string) {
    const staff = await getOrganisationStaff(db, organisationId, staffId);
    if (!staff) throw new AppError('not_found');
    return staffOut(staff);
  }

  app.get(
    '/api/v1/admin/organisations',
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'The organisations the caller is admin of',
        response: { 200: z.object({ organisations: z.array(organisationSchema) }), ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const ids = caller.kind === 'staff' ? caller.memberships.filter((m) => m.role === 'admin') : [];
      const orgs = await getOrganisations(
        db,
        ids.map((m) => m.organisationId),
      );
      return { organisations: orgs.map(organisationOut) };
    },
  );

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
      const { client, secret } = await createApiClient(db, { organisationId, ...request.body });
      request.log.info({ organisationId, apiClient: client.id }, 'api client created');
      reply.header('cache-control', 'no-store');
      return reply
        .code(201)
        .send({ client: await clientOf(organisationId, client.id), clientSecret: secret });
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
      await clientOf(organisationId, apiClientId);
      await disableApiClient(db, apiClientId, app.clock.now());
      request.log.info({ organisationId, apiClient: apiClientId }, 'api client disabled');
      return clientOf(organisationId, apiClientId);
    },
  );

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
      await clientOf(organisationId, apiClientId);
      const { secretId, secret } = await addClientSecret(db, apiClientId);
      request.log.info({ organisationId, apiClient: apiClientId, secretId }, 'api client secret added');
      const client = await clientOf(organisationId, apiClientId);
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
      await clientOf(organisationId, apiClientId);
      await revokeClientSecret(db, apiClientId, secretId, app.clock.now());
      request.log.info({ organisationId, apiClient: apiClientId, secretId }, 'api client secret revoked');
      return clientOf(organisationId, apiClientId);
    },
  );

  app.get(
    `${BASE}/staff`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "The organisation's staff users",
        params: orgParams,
        response: { 200: z.object({ staff: z.array(staffSchema) }), ...errors },
      },
    },
    async (request) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      return { staff: (await listOrganisationStaff(db, organisationId)).map(staffOut) };
    },
  );

  app.post(
    `${BASE}/staff`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Invite a staff user (their first login with this e-mail address binds the account)',
        description:
          'An address that already has an account gets a membership of this organisation; a disabled ' +
          'membership is enabled again with the given role. 409 when the person is already a member.',
        params: orgParams,
        body: inviteSchema,
        response: { 201: staffSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      const { staff, outcome } = await inviteStaff(db, { ...request.body, organisationId });
      if (outcome === 'already_member')
        throw new AppError('conflict', 'Personen är redan medlem i organisationen.');
      request.log.info({ organisationId, staff: staff.id, outcome }, 'staff invited');
      return reply.code(201).send(await staffOf(organisationId, staff.id));
    },
  );

  app.post(
    `${BASE}/staff/:staffId/disable`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "Disable a staff user's membership of the organisation",
        description:
          'The person keeps any other organisation. An admin cannot disable their own membership (409).',
        params: staffParams,
        response: { 200: staffSchema, ...withConflict },
      },
    },
    async (request) => {
      const { organisationId, staffId } = request.params;
      const caller = requireAdmin(request, organisationId);
      await staffOf(organisationId, staffId);
      if (caller.kind === 'staff' && caller.staffId === staffId)
        throw new AppError('conflict', 'Du kan inte stänga av ditt eget medlemskap.');
      await disableMembership(db, organisationId, staffId, app.clock.now());
      request.log.info({ organisationId, staff: staffId }, 'staff membership disabled');
      return staffOf(organisationId, staffId);
    },
  );
}

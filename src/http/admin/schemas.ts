// The admin API's request and answer schemas (zod; the OpenAPI document is drawn from them).
import { z } from 'zod';
import { textInput } from '../../domain/text.ts';
import { CONSENT_SCOPES } from '../../identity/api-clients.ts';
import { ORGANISATION_TYPES } from '../../identity/organisations.ts';
import { STAFF_ROLES } from '../../identity/staff.ts';
import { problemSchema } from '../problem.ts';

const timestamp = z.iso.datetime();
const text = (max: number) => textInput().trim().min(1).max(max);

export const organisationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: z.enum(ORGANISATION_TYPES),
    municipality: z.string(),
    hltArea: z.string(),
  })
  .meta({ id: 'Organisation' });

export const secretInfoSchema = z
  .object({ id: z.uuid(), createdAt: timestamp, revokedAt: timestamp.nullable() })
  .meta({ id: 'ClientSecretInfo', description: 'A client secret (never the secret itself)' });

export const apiClientSchema = z
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

export const newClientSchema = z
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

export const createdClientSchema = z
  .object({
    client: apiClientSchema,
    clientSecret: z.string().meta({ description: 'Shown only in this answer; store it now' }),
  })
  .meta({ id: 'CreatedApiClient' });

export const newSecretSchema = z
  .object({
    secret: secretInfoSchema,
    clientSecret: z.string().meta({ description: 'Shown only in this answer; store it now' }),
  })
  .meta({ id: 'NewClientSecret' });

export const staffSchema = z
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

export const inviteSchema = z
  .object({
    email: z.email().max(254),
    name: text(200),
    role: z.enum(STAFF_ROLES).default('staff'),
    title: text(200).optional(),
    phone: textInput()
      .trim()
      .regex(/^\+?[0-9 ()-]{5,30}$/, 'ogiltigt telefonnummer')
      .optional(),
  })
  .meta({ id: 'StaffInvitation' });

export const orgParams = z.object({ organisationId: z.uuid() });
export const clientParams = orgParams.extend({ apiClientId: z.uuid() });
export const secretParams = clientParams.extend({ secretId: z.uuid() });
export const staffParams = orgParams.extend({ staffId: z.uuid() });

export const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };
export const withConflict = { ...errors, 409: problemSchema };

// Zod schemas of the consent API (/api/v1): what the routes validate and answer, and what openapi.yaml
// documents. The detailed rules (personal numbers, ages, guardians) are the use cases'; these schemas
// check shape and types so that a bad request is a 400 before any work, and document it with examples.
// No schema ever carries a personal number out: only the create and search bodies take one in.
import { z } from 'zod';
import { CONSENT_STATUSES } from '../../domain/consent.ts';
import { FILTER_DATE_MESSAGE } from '../../consents/list-consents.ts';
import { isDateInWindow } from '../../domain/dates.ts';
import { SIGNER_ROLES } from '../../domain/roles.ts';
import { textInput } from '../../domain/text.ts';
import { contact, personalNumberIn } from './request-schema.ts';

const timestamp = z.iso.datetime();
const localDate = z.iso
  .date()
  .meta({ description: 'A calendar date (Europe/Stockholm)', example: '2026-11-23' });
/** A list filter date: also inside the window the service works in (a stated date has its own rules). */
const filterDate = localDate.refine(isDateInWindow, { error: FILTER_DATE_MESSAGE });
const consentId = z
  .uuid()
  .meta({ description: "The consent's id", example: '0b9e5c1e-6a43-4d2f-9c1a-2f1e8d1b7a10' });

export const STATUS_REASONS = [
  'awaiting_signatures',
  'all_signed',
  'declined',
  'cancelled',
  'request_lifetime_passed',
  'withdrawn',
  'support_ended',
  'one_year_passed',
  'child_turned_18',
] as const;

export const statusEnum = z.enum(CONSENT_STATUSES).meta({
  id: 'ConsentStatus',
  description:
    '`active` means in force now. Every other value means: do not share on this consent ' +
    '(`pending`: not yet signed by all; the rest are final).',
});
export const reasonEnum = z.enum(STATUS_REASONS).meta({ id: 'ConsentStatusReason' });
const roleEnum = z.enum(SIGNER_ROLES).meta({ id: 'SignerRole' });
const signerStateEnum = z.enum(['signed', 'declined', 'pending']).meta({ id: 'SignerState' });

// --- Params and headers ----------------------------------------------------------------------------------

export const consentParams = z.object({ id: consentId });

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'ogiltig Idempotency-Key')
    .optional()
    .meta({
      description:
        'Makes a retried create return the first result (24 hours). The same key with another body is a 409.',
      example: '7f0c1d2e-retry-1',
    }),
});

// --- Create (the request body: request-schema.ts) -------------------------------------------------------

const invitationSchema = z.object({ url: z.string(), expiresAt: timestamp }).meta({
  id: 'InvitationLink',
  description:
    'A link for staff to show (QR code, copy) when the signer is beside them. Only in the first answer.',
});

const requestedSignerSchema = z
  .object({
    role: roleEnum,
    name: z.string(),
    state: signerStateEnum,
    invitation: invitationSchema.optional(),
  })
  .meta({ id: 'RequestedSigner' });

export const consentRequestResultSchema = z
  .object({
    id: consentId,
    status: statusEnum,
    requestedAt: timestamp,
    requestExpiresAt: timestamp,
    renewedFrom: z.uuid().nullable(),
    replayed: z.boolean().meta({ description: 'An Idempotency-Key replay of an earlier request' }),
    signers: z.array(requestedSignerSchema),
  })
  .meta({ id: 'ConsentRequestResult' });

// --- List ------------------------------------------------------------------------------------------------

export const listQuerySchema = z.object({
  status: z
    .union([statusEnum, z.array(statusEnum)])
    .optional()
    .meta({ description: 'Only consents in this status (repeat the parameter for several)' }),
  teamId: z.uuid().optional(),
  requestedFrom: filterDate.optional().meta({ description: 'Requested on or after this date' }),
  requestedTo: filterDate.optional().meta({ description: 'Requested on or before this date' }),
  cursor: textInput().max(200).optional().meta({ description: '`nextCursor` of the previous page' }),
  limit: z.coerce.number().int().min(1).max(100).optional().meta({ description: '1–100, default 25' }),
});

const listItemSchema = z
  .object({
    id: consentId,
    organisationId: z.uuid().meta({ description: 'The requesting organisation' }),
    teamId: z.uuid(),
    relation: z.enum(['requesting', 'team']).meta({
      description:
        "`requesting`: the caller's organisation asked for it; `team`: another organisation of its HLT team did",
    }),
    status: statusEnum,
    reason: reasonEnum,
    requestedAt: timestamp,
    requestExpiresAt: timestamp,
    validFrom: timestamp.nullable(),
    validUntil: timestamp.nullable(),
    signers: z.array(z.object({ role: roleEnum, state: signerStateEnum })),
    childName: z.string().optional().meta({ description: 'Only where the caller may see it' }),
  })
  .meta({ id: 'ConsentListItem' });

export const consentPageSchema = z
  .object({
    items: z.array(listItemSchema),
    nextCursor: z.string().nullable().meta({ description: 'More to fetch (a page may come back short)' }),
    checkedAt: timestamp,
  })
  .meta({ id: 'ConsentPage' });

// --- Details and timeline --------------------------------------------------------------------------------

export const auditEventSchema = z
  .object({
    id: z.number().int(),
    at: timestamp,
    action: z.string().meta({ example: 'signed' }),
    actor: z.object({
      type: z.enum(['staff', 'signer', 'api_client', 'system']),
      id: z.string().nullable().meta({ description: "The staff member's or API client's id" }),
      role: roleEnum.nullable().meta({ description: "A signer's role" }),
      organisationId: z.uuid().nullable(),
      issuer: z.string().nullable().meta({ description: 'How a signer identified: the provider' }),
      acr: z.string().nullable(),
    }),
    requestId: z.string().nullable(),
    details: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Ids, roles, codes, dates; never personal data' }),
  })
  .meta({ id: 'AuditEvent' });

export const eventsSchema = z.object({ events: z.array(auditEventSchema) }).meta({ id: 'ConsentEvents' });

const signerViewSchema = z
  .object({
    role: roleEnum,
    name: z.string(),
    state: signerStateEnum,
    signedAt: timestamp.nullable(),
    place: z.string().nullable(),
    identifiedBy: z.object({ issuer: z.string(), acr: z.string().nullable() }).nullable(),
    declinedAt: timestamp.nullable(),
    lastRemindedAt: timestamp.nullable(),
    protectedIdentity: z.boolean().meta({
      description:
        'Skyddade personuppgifter (sekretessmarkering, skyddad folkbokföring): never tell anyone where this ' +
        'person lives or how to reach them, send nothing by post, contact them only by the channel they gave',
    }),
    contact: z
      .object({ phone: z.string().nullable(), email: z.string().nullable() })
      .optional()
      .meta({
        description:
          'Where invitations go: the requesting organisation only; for a person with `protectedIdentity`, ' +
          'only the caller who made the request (null for the rest of the organisation)',
      }),
  })
  .meta({ id: 'ConsentSigner' });

export const consentDetailsSchema = z
  .object({
    id: consentId,
    organisationId: z.uuid(),
    teamId: z.uuid(),
    relation: z.enum(['requesting', 'team']),
    status: statusEnum,
    reason: reasonEnum,
    statusSince: timestamp,
    checkedAt: timestamp,
    validFrom: timestamp.nullable(),
    validUntil: timestamp.nullable(),
    requestedAt: timestamp,
    requestExpiresAt: timestamp,
    completedAt: timestamp.nullable(),
    awaitingRoles: z.array(roleEnum),
    child: z.object({
      name: z.string(),
      healthCentre: z.string().nullable(),
      school: z.string().nullable(),
      protectedIdentity: z.boolean().meta({
        description:
          "Skyddade personuppgifter: the youth's contacts go to the caller who made the request only",
      }),
    }),
    soleGuardian: z.boolean(),
    youthSigns: z.boolean(),
    obtainedBy: z.object({
      name: z.string(),
      title: z.string().optional(),
      phone: z.string().optional(),
      email: z.string().optional(),
    }),
    requestedBy: z.union([
      z.object({ type: z.literal('staff'), staffId: z.uuid() }),
      z.object({ type: z.literal('api_client'), clientId: z.uuid() }),
    ]),
    signers: z.array(signerViewSchema),
    declined: z
      .object({
        role: roleEnum,
        at: timestamp,
        reason: z.string().nullable().optional().meta({ description: 'The requesting organisation only' }),
      })
      .nullable(),
    withdrawal: z
      .object({
        role: roleEnum,
        at: timestamp,
        channel: z.enum(['service', 'phone', 'in_person', 'letter']),
        date: localDate.nullable(),
        note: z.string().nullable().optional().meta({ description: 'The requesting organisation only' }),
      })
      .nullable(),
    ended: z
      .object({
        at: timestamp,
        date: localDate.nullable(),
        note: z.string().nullable().optional().meta({ description: 'The requesting organisation only' }),
      })
      .nullable(),
    cancelledAt: timestamp.nullable(),
    renewedFrom: z.uuid().nullable(),
    renewedBy: z.array(z.uuid()),
    documents: z.object({ formRevision: z.number().int(), formSha256: z.string(), receipt: z.boolean() }),
    timeline: z.array(auditEventSchema).meta({
      description: 'Acts and messages, oldest first (empty for the other organisations of the team)',
    }),
  })
  .meta({ id: 'ConsentDetails' });

// --- Acts ------------------------------------------------------------------------------------------------

const note = textInput({ kind: 'lines' })
  .max(1000)
  .optional()
  .meta({ description: 'Free text; shown to the requesting organisation only' });

export const endBodySchema = z
  .object({
    date: localDate.meta({ description: 'The day the coordinated support ended (not in the future)' }),
    note,
  })
  .meta({ id: 'EndConsent' });

export const withdrawalBodySchema = z
  .object({
    role: roleEnum.meta({ description: 'The signer who withdrew' }),
    channel: z.enum(['phone', 'in_person', 'letter']).meta({ description: 'How the withdrawal came in' }),
    date: localDate.meta({ description: 'The day the signer withdrew (not in the future)' }),
    note,
  })
  .meta({ id: 'RegisteredWithdrawal' });

export const renewBodySchema = z
  .object({
    youthSigns: z.boolean().optional(),
    youth: z.object(contact).optional(),
  })
  .meta({ id: 'RenewConsent', description: 'Changes to the prefilled request (optional)' });

export const remindResultSchema = z
  .object({ consentId, remindedAt: timestamp, signers: z.array(requestedSignerSchema) })
  .meta({ id: 'RemindResult' });

export const actResultSchema = z
  .object({
    consentId,
    status: statusEnum,
    at: timestamp.meta({ description: 'When the act took effect' }),
    date: localDate.optional(),
    role: roleEnum.optional(),
  })
  .meta({ id: 'ConsentActResult' });

// --- Status ----------------------------------------------------------------------------------------------

export const consentStatusSchema = z
  .object({
    id: consentId,
    status: statusEnum,
    reason: reasonEnum,
    validFrom: timestamp.nullable().meta({ description: 'In force from (once all had signed)' }),
    validUntil: timestamp.nullable().meta({ description: 'In force until, exclusive' }),
    checkedAt: timestamp.meta({ description: 'The instant the status was computed' }),
  })
  .meta({
    id: 'ConsentStatusAnswer',
    description: 'Computed at the moment of asking from the stored facts',
    example: {
      id: '0b9e5c1e-6a43-4d2f-9c1a-2f1e8d1b7a10',
      status: 'active',
      reason: 'all_signed',
      validFrom: '2026-11-23T09:12:00.000Z',
      validUntil: '2027-11-23T23:00:00.000Z',
      checkedAt: '2026-12-01T08:00:00.000Z',
    },
  });

export const statusSearchBodySchema = z
  .object({
    childPersonalNumber: personalNumberIn.meta({
      description: "The child's personal number. In the body, never in a URL.",
    }),
  })
  .meta({ id: 'ConsentStatusSearch' });

export const statusSearchResultSchema = z
  .object({
    checkedAt: timestamp,
    consents: z.array(consentStatusSchema.extend({ requestedAt: timestamp })),
  })
  .meta({ id: 'ConsentStatusSearchResult' });

// --- Documents -------------------------------------------------------------------------------------------

// @fastify/swagger takes a response schema's own `content` and `headers` as they are: the PDF is
// documented as application/pdf with its headers, while the errors stay problem JSON.
const pdfBinary = { type: 'string', format: 'binary' };
export const pdfSchema = z.string().meta({
  description: 'The PDF, as an attachment',
  content: { 'application/pdf': { schema: pdfBinary } },
  headers: {
    'content-disposition': {
      type: 'string',
      description: 'attachment; a file name without personal data',
      example: 'attachment; filename="samtycke-0b9e5c1e.pdf"',
    },
    'cache-control': { type: 'string', description: 'no-store', example: 'no-store' },
  },
});

// Use case: staff (or an API client on behalf of its organisation) asks for consent. Validates the people
// with the domain rules, renders the form (revision 0), and in one transaction stores the consent, its
// signers, one invitation link per signer for staff to show (QR / copy), the audit event, and queues the
// invitation messages. An Idempotency-Key makes a retried request return the first result.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../db/index.ts';
import type { ObtainedBy } from '../db/schema.ts';
import { type ConsentStatus, requestExpiry, statusAt } from '../domain/consent.ts';
import { localDateOf } from '../domain/dates.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import {
  type ConsentPeople,
  type SignerRole,
  validateConsentPeople,
  youthRequirement,
} from '../domain/roles.ts';
import { isUuid } from '../db/uuid.ts';
import { AppError, isAppError } from '../errors.ts';
import { invitationLink } from '../notify/links.ts';
import { queueNotifications } from '../notify/queue.ts';
import { toSigners } from '../notify/recipients.ts';
import { type RenderedForm, renderConsentForm } from '../pdf/render.ts';
import { appendAuditEvent } from './audit.ts';
import { consentFacts, getLoadedConsent, type SignerState, signerState } from './consent.repository.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { storeFormRevision } from './documents.ts';
import { issueInvitation } from './invitations.ts';
import { type FieldError, fieldPath, validationFailed, zodErrors } from './validation.ts';

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const requiredText = (message: string, max = 200) =>
  z
    .string({ error: message })
    .trim()
    .min(1, { error: message })
    .max(max, { error: `Högst ${max} tecken.` });
const optionalText = (max = 200) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .max(max, { error: `Högst ${max} tecken.` })
      .optional(),
  );
const phoneNumber = (error: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^\+?[0-9][0-9 ()-]{5,24}$/, { error })
      .optional(),
  );
const phone = phoneNumber('Ange ett mobilnummer med siffror, till exempel 070-123 45 67.');
const email = z.preprocess(
  blankToUndefined,
  z.email({ error: 'Ange en giltig e-postadress.' }).max(254, { error: 'För lång e-postadress.' }).optional(),
);
const contact = z.object({ phone, email });
const personalNumber = requiredText('Ange personnummer.', 20);

export const createConsentRequestSchema = z.object({
  teamId: z.uuid({ error: 'Välj HLT-team.' }),
  child: z.object({
    name: requiredText('Ange barnets namn.'),
    personalNumber,
    healthCentre: optionalText(),
    school: optionalText(),
  }),
  guardians: z
    .array(z.object({ name: requiredText('Ange vårdnadshavarens namn.'), personalNumber, phone, email }), {
      error: 'Ange vårdnadshavare.',
    })
    .max(2, { error: 'Ange högst två vårdnadshavare.' }),
  soleGuardian: z.boolean({ error: 'Ange om vårdnadshavare 1 är ensam vårdnadshavare.' }),
  /** Ask a child below the age threshold to sign too; at or above it the youth signs anyway. */
  youthSigns: z.boolean().optional(),
  /** The youth's phone and/or e-mail, for the invitation when the youth signs. */
  youth: contact.optional(),
  /** Staff: the phone number printed under "Samtycke inhämtat av" (default: the one on their record). */
  obtainedByPhone: phoneNumber('Ange ett telefonnummer med siffror, till exempel 090-123 45 67.'),
});

export type CreateConsentRequestInput = z.input<typeof createConsentRequestSchema> & {
  /** The Idempotency-Key header. */
  idempotencyKey?: string | undefined;
  requestId?: string | undefined;
};
type RequestData = z.output<typeof createConsentRequestSchema>;

export interface RequestedSigner {
  role: SignerRole;
  name: string;
  state: SignerState;
  /** The link for staff to show as a QR code or copy. Only in the first answer, never on a replay. */
  invitation?: { url: string; expiresAt: Date };
}

export interface ConsentRequestResult {
  id: string;
  status: ConsentStatus;
  requestedAt: Date;
  requestExpiresAt: Date;
  renewedFrom: string | null;
  signers: RequestedSigner[];
  /** True when an Idempotency-Key replay answered with the first request's consent. */
  replayed: boolean;
}

const IDEMPOTENCY_HOURS = 24;

export async function createConsentRequest(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: CreateConsentRequestInput,
): Promise<ConsentRequestResult> {
  return submitConsentRequest(ctx, actor, input, {});
}

// --- Shared with renew-consent.ts --------------------------------------------------------------------------

export interface SubmitOptions {
  renewedFrom?: string;
  /** Runs first in the transaction (renew: lock and check the consent it renews). */
  before?: (tx: Tx, now: Date) => Promise<void>;
  /** Runs last in the transaction, with the new consent's id. */
  after?: (tx: Tx, id: string, now: Date) => Promise<void>;
}

export async function submitConsentRequest(
  ctx: ConsentContext,
  actor: OrganisationActor,
  input: CreateConsentRequestInput,
  options: SubmitOptions,
): Promise<ConsentRequestResult> {
  const now = ctx.clock.now();
  const { idempotencyKey, requestId, ...body } = input;
  const checked = validateRequest(body, now, ctx.config.rules.youthSignatureAge);
  if (!checked.ok) {
    // The team is a field too: its problem belongs in the same answer.
    const { teamId } = body as { teamId?: unknown };
    if (
      !checked.errors.some((e) => e.field === 'teamId') &&
      typeof teamId === 'string' &&
      isUuid(teamId) &&
      !(await inTeam(ctx, actor.organisationId, teamId))
    )
      checked.errors.push(NOT_IN_TEAM);
    throw validationFailed(checked.errors);
  }
  const { data, people } = checked;

  const idempotency = idempotencyKey
    ? idempotencyOf(actor, idempotencyKey, data, options.renewedFrom)
    : undefined;
  if (idempotency) {
    const replay = await checkIdempotency(ctx, idempotency, now);
    if (replay) return replay;
  }

  const requester = await loadRequester(ctx, actor, data.teamId, data.obtainedByPhone);
  const id = randomUUID();
  const form = await renderForm(id, data, people, requester);

  const outcome = await ctx.db.transaction().execute(async (tx) => {
    if (idempotency) {
      const claimed = await tx
        .insertInto('idempotency_keys')
        .values({
          scope: idempotency.scope,
          key: idempotency.key,
          request_hash: idempotency.hash,
          expires_at: new Date(now.getTime() + IDEMPOTENCY_HOURS * 3_600_000),
        })
        .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      // A concurrent request with the same key committed first (the insert waited for it): answer with its.
      if (!claimed) return { kind: 'replay' as const, consentId: await storedConsentId(tx, idempotency) };
    }
    await options.before?.(tx, now);
    const result = await insertRequest(tx, ctx, actor, {
      id,
      data,
      people,
      requester,
      form,
      now,
      requestId,
      options,
    });
    if (idempotency) {
      await tx
        .updateTable('idempotency_keys')
        .set({ response_status: 201, response_body: JSON.stringify({ consentId: id }) })
        .where('scope', '=', idempotency.scope)
        .where('key', '=', idempotency.key)
        .execute();
    }
    await options.after?.(tx, id, now);
    return { kind: 'created' as const, result };
  });
  return outcome.kind === 'replay' ? replayResult(ctx, outcome.consentId, now) : outcome.result;
}

/** The result of checking a request: the parsed data and people, or every problem found. */
type Checked = { ok: true; data: RequestData; people: ConsentPeople } | { ok: false; errors: FieldError[] };

/**
 * Every field's problem in one answer: the schema's (shape, lengths, formats) and the domain's (numbers,
 * ages, guardians, contacts) together. The domain checks read the raw input leniently, so a bad e-mail
 * address does not hide a bad checksum until the next round.
 */
function validateRequest(body: unknown, now: Date, youthSignatureAge: number): Checked {
  const parsed = createConsentRequestSchema.safeParse(body);
  const errors: FieldError[] = parsed.success ? [] : zodErrors(parsed.error);
  const raw = rawRequest(body);
  const requestDate = localDateOf(now);
  const checked = validateConsentPeople(
    {
      child: { personalNumber: raw.child.personalNumber },
      guardians: raw.guardians.map((g) => ({ personalNumber: g.personalNumber })),
      soleGuardian: raw.soleGuardian,
      youthSigns: raw.youthSigns,
    },
    { requestDate, youthSignatureAge },
  );
  if (!checked.ok)
    errors.push(...checked.problems.map((p) => ({ field: fieldPath(p.path), message: p.message })));
  raw.guardians.forEach((g, i) => {
    if (i < 2 && !g.phone && !g.email)
      errors.push({
        field: `guardians.${i}.email`,
        message: 'Ange mobilnummer eller e-postadress för inbjudan.',
      });
  });
  // Whether the youth signs needs only the child's number, so it is checked whatever else is wrong.
  const child = PersonalNumber.parse(raw.child.personalNumber, { referenceDate: requestDate });
  if (child.ok) {
    const youth = youthRequirement(child.value.birthDate, requestDate, youthSignatureAge);
    if ((youth === 'required' || raw.youthSigns) && !raw.youth.phone && !raw.youth.email)
      errors.push({
        field: 'youth.email',
        message:
          youth === 'required'
            ? 'Barnet är så gammalt att det ska signera själv. Ange barnets mobilnummer eller e-postadress för inbjudan.'
            : 'Ange barnets mobilnummer eller e-postadress för inbjudan.',
      });
  }
  const unique = firstPerField(errors);
  if (unique.length > 0 || !parsed.success || !checked.ok) return { ok: false, errors: unique };
  return { ok: true, data: parsed.data, people: checked.value };
}

/**
 * The field problems of a request body, schema and domain together (the team's membership aside). For a
 * caller that refused the body on its own schema first (the API) and wants every problem in that answer.
 */
export function consentRequestFieldErrors(body: unknown, now: Date, youthSignatureAge: number): FieldError[] {
  const checked = validateRequest(body, now, youthSignatureAge);
  return checked.ok ? [] : checked.errors;
}

/** One message per field: the first (the schema's, e.g. "Ange personnummer." rather than "fel format"). */
export function firstPerField(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.field) && seen.add(e.field));
}

/** The raw input's numbers, flags and contacts, read without trusting its shape. */
function rawRequest(body: unknown) {
  const obj = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const b = obj(body);
  const contactOf = (v: unknown) => ({ phone: str(obj(v).phone), email: str(obj(v).email) });
  return {
    child: { personalNumber: str(obj(b.child).personalNumber) },
    guardians: (Array.isArray(b.guardians) ? (b.guardians as unknown[]) : []).map((g) => ({
      personalNumber: str(obj(g).personalNumber),
      ...contactOf(g),
    })),
    soleGuardian: b.soleGuardian === true,
    youthSigns: b.youthSigns === true,
    youth: contactOf(b.youth),
  };
}

interface Requester {
  organisation: { id: string; name: string; hltArea: string };
  obtainedBy: ObtainedBy;
}

const NOT_IN_TEAM: FieldError = {
  field: 'teamId',
  message: 'Din organisation ingår inte i det valda HLT-teamet.',
};

async function inTeam(ctx: ConsentContext, organisationId: string, teamId: string): Promise<boolean> {
  const member = await ctx.db
    .selectFrom('team_members')
    .select('team_id')
    .where('team_id', '=', teamId)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  return member !== undefined;
}

async function loadRequester(
  ctx: ConsentContext,
  actor: OrganisationActor,
  teamId: string,
  obtainedByPhone: string | undefined,
): Promise<Requester> {
  const org = await ctx.db
    .selectFrom('organisations')
    .select(['id', 'name', 'hlt_area'])
    .where('id', '=', actor.organisationId)
    .executeTakeFirst();
  if (!org) throw new AppError('forbidden', 'Organisationen finns inte.');
  if (!(await inTeam(ctx, org.id, teamId))) throw validationFailed([NOT_IN_TEAM]);
  let obtainedBy: ObtainedBy;
  if (actor.type === 'staff') {
    const staff = await ctx.db
      .selectFrom('staff_users')
      .select(['name', 'title', 'phone', 'email', 'disabled_at'])
      .where('id', '=', actor.staffId)
      .executeTakeFirst();
    if (!staff || staff.disabled_at)
      throw new AppError('forbidden', 'Personalkontot finns inte eller är avstängt.');
    // The phone the staff member gave on this request, else the one on their staff record.
    obtainedBy = compact({
      name: staff.name,
      title: staff.title,
      phone: obtainedByPhone ?? staff.phone,
      email: staff.email,
    });
  } else {
    const client = await ctx.db
      .selectFrom('api_clients')
      .select(['organisation_id', 'contact_email', 'disabled_at'])
      .where('id', '=', actor.clientId)
      .executeTakeFirst();
    if (!client || client.disabled_at || client.organisation_id !== actor.organisationId)
      throw new AppError('forbidden', 'API-klienten finns inte eller är avstängd.');
    const contactName = actor.contactName?.trim();
    if (!contactName)
      throw validationFailed([{ field: 'contactName', message: 'Ange namnet på den som begär samtycket.' }]);
    obtainedBy = compact({ name: contactName, email: client.contact_email });
  }
  return { organisation: { id: org.id, name: org.name, hltArea: org.hlt_area }, obtainedBy };
}

function compact(o: {
  name: string;
  title?: string | null;
  phone?: string | null;
  email?: string | null;
}): ObtainedBy {
  const out: ObtainedBy = { name: o.name };
  if (o.title) out.title = o.title;
  if (o.phone) out.phone = o.phone;
  if (o.email) out.email = o.email;
  return out;
}

/** The renderer's field names → our input's field names. */
const RENDER_FIELD: Record<string, string> = { guardian1: 'guardians.0', guardian2: 'guardians.1' };

async function renderForm(
  id: string,
  data: RequestData,
  people: ConsentPeople,
  requester: Requester,
): Promise<RenderedForm> {
  const [g1, g2] = data.guardians;
  try {
    return await renderConsentForm({
      documentId: id,
      area: requester.organisation.hltArea,
      soleGuardian: data.soleGuardian,
      guardian1: { name: g1!.name, personalNumber: people.guardians[0]!.digits, phone: g1!.phone },
      ...(g2 && people.guardians[1]
        ? { guardian2: { name: g2.name, personalNumber: people.guardians[1].digits, phone: g2.phone } }
        : {}),
      child: {
        name: data.child.name,
        personalNumber: people.child.digits,
        healthCentre: data.child.healthCentre,
        school: data.child.school,
      },
      requestingOrganisation: { name: requester.organisation.name },
      youthSigns: people.youthSigns,
      obtainedBy: requester.obtainedBy,
    });
  } catch (e) {
    if (isAppError(e) && e.code === 'validation_failed' && Array.isArray(e.extra?.fields)) {
      throw validationFailed(
        (e.extra.fields as string[]).map((f) => {
          const [head = '', ...rest] = f.split('.');
          return {
            field: [RENDER_FIELD[head] ?? head, ...rest].join('.'),
            message: 'Texten innehåller tecken som blanketten inte kan skriva ut.',
          };
        }),
      );
    }
    throw e;
  }
}

async function insertRequest(
  tx: Tx,
  ctx: ConsentContext,
  actor: OrganisationActor,
  r: {
    id: string;
    data: RequestData;
    people: ConsentPeople;
    requester: Requester;
    form: RenderedForm;
    now: Date;
    requestId: string | undefined;
    options: SubmitOptions;
  },
): Promise<ConsentRequestResult> {
  const { id, data, people, now } = r;
  const requestExpiresAt = requestExpiry(now, ctx.config.rules.requestLifetimeDays);
  await tx
    .insertInto('consents')
    .values({
      id,
      organisation_id: r.requester.organisation.id,
      team_id: data.teamId,
      template_version: r.form.templateVersion,
      area: r.requester.organisation.hltArea,
      child_name: data.child.name,
      child_personal_number: people.child.digits,
      child_birth_date: people.child.birthDate,
      child_health_centre: data.child.healthCentre ?? null,
      child_school: data.child.school ?? null,
      sole_guardian: data.soleGuardian,
      youth_signs: people.youthSigns,
      requested_by_staff_id: actor.type === 'staff' ? actor.staffId : null,
      requested_by_client_id: actor.type === 'api_client' ? actor.clientId : null,
      obtained_by: JSON.stringify(r.requester.obtainedBy),
      requested_at: now,
      request_expires_at: requestExpiresAt,
      renewed_from: r.options.renewedFrom ?? null,
    })
    .execute();

  const signers = people.requiredRoles.map((role) => {
    if (role === 'youth')
      return {
        role,
        name: data.child.name,
        number: people.child,
        phone: data.youth?.phone,
        email: data.youth?.email,
      };
    const i = role === 'guardian1' ? 0 : 1;
    const g = data.guardians[i]!;
    return { role, name: g.name, number: people.guardians[i]!, phone: g.phone, email: g.email };
  });
  await tx
    .insertInto('consent_signers')
    .values(
      signers.map((s) => ({
        consent_id: id,
        role: s.role,
        name: s.name,
        personal_number: s.number.digits,
        phone: s.phone ?? null,
        email: s.email ?? null,
      })),
    )
    .execute();
  await storeFormRevision(tx, {
    consentId: id,
    revision: 0,
    bytes: r.form.bytes,
    sha256: r.form.sha256,
    at: now,
  });

  const result: ConsentRequestResult = {
    id,
    status: 'pending',
    requestedAt: now,
    requestExpiresAt,
    renewedFrom: r.options.renewedFrom ?? null,
    replayed: false,
    signers: [],
  };
  for (const s of signers) {
    const link = await issueInvitation(tx, {
      consentId: id,
      role: s.role,
      channel: 'link',
      expiresAt: requestExpiresAt,
      now,
    });
    result.signers.push({
      role: s.role,
      name: s.name,
      state: 'pending',
      invitation: { url: invitationLink(ctx.config, link.token), expiresAt: requestExpiresAt },
    });
  }
  await appendAuditEvent(tx, {
    consentId: id,
    action: 'consent_requested',
    actor,
    at: now,
    requestId: r.requestId,
    details: {
      roles: people.requiredRoles,
      soleGuardian: data.soleGuardian,
      youthSigns: people.youthSigns,
      youthRequired: people.youth === 'required',
      templateVersion: r.form.templateVersion,
      documentSha256: r.form.sha256,
      ...(r.options.renewedFrom ? { renewedFrom: r.options.renewedFrom } : {}),
    },
  });
  await queueNotifications(
    tx,
    ctx.jobs,
    toSigners(
      'invitation',
      id,
      signers.map((s) => ({ role: s.role, phone: s.phone ?? null, email: s.email ?? null })),
    ),
  );
  return result;
}

// --- Idempotency-Key ---------------------------------------------------------------------------------------

interface Idempotency {
  scope: string;
  key: string;
  hash: string;
}

/** Canonical JSON (sorted keys), so that the same request hashes the same whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function idempotencyOf(
  actor: OrganisationActor,
  key: string,
  data: RequestData,
  renewedFrom?: string,
): Idempotency {
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key))
    throw validationFailed([{ field: 'idempotencyKey', message: 'Ogiltig Idempotency-Key.' }]);
  const who = actor.type === 'staff' ? `staff:${actor.staffId}` : `api_client:${actor.clientId}`;
  return {
    scope: `consent-request:${actor.organisationId}:${who}`,
    key,
    hash: createHash('sha256')
      .update(canonical({ ...data, renewedFrom }))
      .digest('hex'),
  };
}

/** An earlier request with this key: the same body replays its result; another body is a conflict. */
async function checkIdempotency(
  ctx: ConsentContext,
  idempotency: Idempotency,
  now: Date,
): Promise<ConsentRequestResult | undefined> {
  // An expired key no longer counts (housekeeping removes it later).
  await ctx.db
    .deleteFrom('idempotency_keys')
    .where('scope', '=', idempotency.scope)
    .where('key', '=', idempotency.key)
    .where('expires_at', '<=', now)
    .execute();
  const row = await ctx.db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_body'])
    .where('scope', '=', idempotency.scope)
    .where('key', '=', idempotency.key)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.request_hash !== idempotency.hash)
    throw new AppError('idempotency_conflict', 'Idempotency-Key har redan använts för en annan begäran.');
  const consentId = (row.response_body as { consentId?: string } | null)?.consentId;
  // No answer stored yet: the first request is still running; it holds the key until it commits.
  return consentId ? replayResult(ctx, consentId, now) : undefined;
}

async function storedConsentId(tx: Tx, idempotency: Idempotency): Promise<string> {
  const row = await tx
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_body'])
    .where('scope', '=', idempotency.scope)
    .where('key', '=', idempotency.key)
    .executeTakeFirstOrThrow();
  if (row.request_hash !== idempotency.hash)
    throw new AppError('idempotency_conflict', 'Idempotency-Key har redan använts för en annan begäran.');
  const consentId = (row.response_body as { consentId?: string } | null)?.consentId;
  if (!consentId) throw new AppError('conflict', 'En begäran med samma Idempotency-Key pågår redan.');
  return consentId;
}

/** The first request's consent as it stands now, without invitation links (those were shown once). */
async function replayResult(
  ctx: ConsentContext,
  consentId: string,
  now: Date,
): Promise<ConsentRequestResult> {
  const { consent, signers } = await getLoadedConsent(ctx.db, consentId);
  return {
    id: consent.id,
    status: statusAt(consentFacts(consent, signers), now).status,
    requestedAt: consent.requestedAt,
    requestExpiresAt: consent.requestExpiresAt,
    renewedFrom: consent.renewedFrom,
    replayed: true,
    signers: signers.map((s) => ({ role: s.role, name: s.name, state: signerState(s) })),
  };
}

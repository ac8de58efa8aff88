// GET/POST /samtycken/ny: the new request form. Field names are the use case's field paths
// (`guardians.0.personalNumber`), so its validation messages land next to the right input. On errors the
// form comes back with what was typed (personal numbers included: the staff member typed them) and an
// error summary; the messages themselves never contain a value. On success: 303 to the links page.
// GET /samtycken/:id/lankar: the invitation links of the act just done, as QR code and text, once.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createConsentRequestSchema } from '../../consents/create-consent-request.ts';
import { consentContext, createConsentRequest, getConsent } from '../../consents/index.ts';
import { zodErrors } from '../../consents/validation.ts';
import { callerOf, type StaffCaller } from '../../identity/caller.ts';
import { requireCsrf } from '../../identity/csrf.ts';
import { authorize } from '../../identity/policy.ts';
import { getStaff, setStaffPhone } from '../../identity/staff.ts';
import type { App } from '../types.ts';
import {
  fieldErrors,
  fieldId,
  fmtDateTime,
  isValidationError,
  qrSvg,
  ROLE_LABELS,
  staffFrame,
  text,
} from './common.ts';
import { organisationNames, teamNames } from './directory.ts';
import { linksPath, setFlashLinks, takeFlashLinks } from './flash-links.ts';

const STAFF_ONLY = { auth: { staff: true } } as const;

const TEXT_FIELDS = [
  'child.name',
  'child.personalNumber',
  'child.healthCentre',
  'child.school',
  'guardians.0.name',
  'guardians.0.personalNumber',
  'guardians.0.phone',
  'guardians.0.email',
  'guardians.1.name',
  'guardians.1.personalNumber',
  'guardians.1.phone',
  'guardians.1.email',
  'youth.phone',
  'youth.email',
  'obtainedByPhone',
  'teamId',
] as const;

/**
 * The new request form's fields in form order (`soleGuardian`, the tick box, sits after guardian 1): where
 * a problem shows, and what the fuzz test (test/fixtures/fuzz.ts) sends.
 */
export const FORM_ORDER: readonly string[] = [
  ...TEXT_FIELDS.slice(0, 8),
  'soleGuardian',
  ...TEXT_FIELDS.slice(8),
];

/** Field paths shown on the form; errors elsewhere go to the summary only. */
const ON_FORM = new Set<string>(FORM_ORDER);

/** The tick boxes of skyddade personuppgifter (issue 16 §5), by field name. */
export const PROTECTED_FIELDS = [
  'child.protectedIdentity',
  'guardians.0.protectedIdentity',
  'guardians.1.protectedIdentity',
] as const;
type ProtectedField = (typeof PROTECTED_FIELDS)[number];

export interface RequestForm {
  values: Record<string, string>;
  soleGuardian: boolean;
  youthSigns: boolean;
  /** Ticked "har skyddade personuppgifter" boxes. */
  protectedIdentity?: Partial<Record<ProtectedField, boolean>>;
  /** Keep the phone number given as the staff member's own for the next request. */
  rememberPhone: boolean;
}

function readForm(body: unknown): RequestForm {
  const values: Record<string, string> = {};
  for (const f of TEXT_FIELDS) values[f] = text(body, f);
  return {
    values,
    soleGuardian: text(body, 'soleGuardian') !== '',
    youthSigns: text(body, 'youthSigns') !== '',
    rememberPhone: text(body, 'rememberPhone') !== '',
    protectedIdentity: Object.fromEntries(PROTECTED_FIELDS.map((f) => [f, text(body, f) !== ''])),
  };
}

/**
 * The use case's problems as the form shows them: guardian 2 given with "ensam vårdnadshavare" ticked is
 * told at the tick box, in words that say what to do; the list in the order of the form.
 */
function onForm(errors: { field: string; message: string }[]) {
  const shown = errors.map((e) =>
    e.field === 'guardians.1' && errors.every((x) => x.field !== 'soleGuardian')
      ? {
          field: 'soleGuardian',
          message:
            'Du har markerat att vårdnadshavare 1 är ensam vårdnadshavare men också fyllt i vårdnadshavare 2. ' +
            'Ta bort markeringen, eller töm fälten för vårdnadshavare 2.',
        }
      : { field: e.field, message: safeMessage(e.message) },
  );
  const rank = (f: string) => {
    const i = FORM_ORDER.indexOf(f);
    return i < 0 ? FORM_ORDER.length : i;
  };
  return shown.sort((a, b) => rank(a.field) - rank(b.field));
}

/** The teams the caller may request for, each with the organisation the request is made as. */
async function teamChoices(app: App, caller: StaffCaller) {
  const own = new Set(caller.memberships.map((m) => m.organisationId));
  const mine = caller.teams.filter((t) => own.has(t.organisationId));
  const [teams, orgs] = await Promise.all([
    teamNames(
      app.db,
      mine.map((t) => t.teamId),
    ),
    organisationNames(app.db, [...own]),
  ]);
  const several = own.size > 1;
  return mine
    .filter((t, i) => mine.findIndex((u) => u.teamId === t.teamId) === i)
    .map((t) => ({
      teamId: t.teamId,
      organisationId: t.organisationId,
      label: several
        ? `${teams.get(t.teamId) ?? ''} (som ${orgs.get(t.organisationId) ?? ''})`
        : (teams.get(t.teamId) ?? ''),
    }))
    .sort((a, b) => a.label.localeCompare(b.label, 'sv'));
}

async function formPage(
  app: App,
  request: FastifyRequest,
  reply: FastifyReply,
  form: RequestForm,
  errors: { field: string; message: string }[] = [],
) {
  const caller = callerOf(request) as StaffCaller;
  const teams = await teamChoices(app, caller);
  errors = onForm(errors);
  const byField: Record<string, string> = {};
  for (const e of errors) byField[e.field] ??= e.message;
  // A lone team is chosen for the staff member.
  if (!form.values.teamId && teams.length === 1) form.values.teamId = teams[0]!.teamId;
  return reply.page(
    'staff/new',
    {
      ...staffFrame(
        request,
        errors.length ? 'Fel i formuläret – Ny förfrågan' : 'Ny förfrågan',
        '/samtycken/ny',
      ),
      csrf: request.session?.csrfToken ?? '',
      form,
      teams,
      errors: byField,
      errorList: errors.map((e) => ({
        href: `#${ON_FORM.has(e.field) ? fieldId(e.field) : 'child-name'}`,
        message: e.message,
      })),
      id: fieldId,
      youthAge: app.config.rules.youthSignatureAge,
    },
    errors.length ? 400 : 200,
  );
}

const filled = (form: RequestForm, prefix: string) =>
  Object.entries(form.values).some(([k, v]) => k.startsWith(prefix) && v !== '');

/**
 * The form as the use case's input. A second guardian left empty is still asked for unless sole; one that
 * was filled in is sent even when sole, so that the use case refuses the contradiction instead of the page
 * silently dropping what was typed.
 */
function toInput(form: RequestForm) {
  const v = form.values;
  const marked = (f: ProtectedField) => form.protectedIdentity?.[f] === true;
  const guardian = (i: 0 | 1) => ({
    name: v[`guardians.${i}.name`] ?? '',
    personalNumber: v[`guardians.${i}.personalNumber`] ?? '',
    phone: v[`guardians.${i}.phone`] ?? '',
    email: v[`guardians.${i}.email`] ?? '',
    ...(marked(`guardians.${i}.protectedIdentity`) ? { protectedIdentity: true } : {}),
  });
  const youth = { phone: v['youth.phone'] ?? '', email: v['youth.email'] ?? '' };
  return {
    teamId: v.teamId ?? '',
    child: {
      name: v['child.name'] ?? '',
      personalNumber: v['child.personalNumber'] ?? '',
      healthCentre: v['child.healthCentre'] ?? '',
      school: v['child.school'] ?? '',
      ...(marked('child.protectedIdentity') ? { protectedIdentity: true } : {}),
    },
    guardians:
      form.soleGuardian && !filled(form, 'guardians.1.') ? [guardian(0)] : [guardian(0), guardian(1)],
    soleGuardian: form.soleGuardian,
    youthSigns: form.youthSigns,
    ...(youth.phone || youth.email ? { youth } : {}),
    obtainedByPhone: v.obtainedByPhone ?? '',
  };
}

/** Messages from the domain never hold a value; this is the last guard that no number slips through. */
const NUMBER_LIKE = /\d{6}[-+]?\d{4}/;
const safeMessage = (m: string) => (NUMBER_LIKE.test(m) ? 'Kontrollera uppgiften.' : m);

export default async function newRequestRoutes(app: App) {
  const ctx = consentContext(app);

  app.get('/samtycken/ny', { schema: { hide: true }, config: STAFF_ONLY }, async (request, reply) => {
    const caller = callerOf(request) as StaffCaller;
    // The staff member's stored phone, for "Samtycke inhämtat av" on the form.
    const phone = (await getStaff(app.db, caller.staffId))?.phone ?? '';
    return formPage(app, request, reply, {
      values: { obtainedByPhone: phone },
      soleGuardian: false,
      youthSigns: false,
      rememberPhone: true,
    });
  });

  app.post(
    '/samtycken/ny',
    { schema: { hide: true }, config: STAFF_ONLY, preHandler: requireCsrf },
    async (request, reply) => {
      const caller = callerOf(request) as StaffCaller;
      const form = readForm(request.body);
      const teams = await teamChoices(app, caller);
      const team = teams.find((t) => t.teamId === form.values.teamId);
      if (!team) {
        // Still check the rest of the form, so that every problem shows at once.
        const parsed = createConsentRequestSchema.safeParse({ ...toInput(form), teamId: '' });
        const rest = parsed.success ? [] : zodErrors(parsed.error);
        return formPage(app, request, reply, form, [
          { field: 'teamId', message: 'Välj HLT-team.' },
          ...rest.filter((e) => e.field !== 'teamId'),
        ]);
      }
      const actor = { type: 'staff' as const, staffId: caller.staffId, organisationId: team.organisationId };
      authorize(caller, 'create', {
        organisationId: team.organisationId,
        teamId: team.teamId,
        status: 'pending',
      });
      try {
        const input = toInput(form);
        const result = await createConsentRequest(ctx, actor, { ...input, requestId: request.id });
        if (form.rememberPhone && input.obtainedByPhone)
          await setStaffPhone(app.db, caller.staffId, input.obtainedByPhone);
        setFlashLinks(request, reply, result.id, caller.staffId, result.signers);
        return reply.redirect(linksPath(result.id), 303);
      } catch (e) {
        if (!isValidationError(e)) throw e;
        return formPage(app, request, reply, form, fieldErrors(e).list);
      }
    },
  );

  app.get(
    '/samtycken/:id/lankar',
    { schema: { hide: true, params: z.object({ id: z.string() }) }, config: STAFF_ONLY },
    async (request, reply) => {
      const caller = callerOf(request) as StaffCaller;
      const { id } = request.params as { id: string };
      const consent = await getConsent(app, id);
      authorize(caller, 'remind', consent);
      const flash = takeFlashLinks(request, reply, id, caller.staffId);
      const links = flash?.links ?? [];
      const signers = await Promise.all(
        links.map(async (l) => ({
          role: ROLE_LABELS[l.role],
          name: consent.signers.find((s) => s.role === l.role)?.name ?? '',
          url: l.url,
          expiresAt: fmtDateTime(new Date(l.expiresAt)),
          qr: await qrSvg(l.url),
          inputId: `lank-${l.role}`,
        })),
      );
      return reply.page('staff/links', {
        ...staffFrame(request, 'Länkar att skriva under'),
        consentHref: `/samtycken/${id}`,
        childName: consent.child.name,
        occasion: flash?.occasion ?? 'request',
        signers,
      });
    },
  );
}

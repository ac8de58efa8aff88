// The input of a consent request (create and renew): its schema, and the validation that gives every
// field's problem in one answer, the schema's and the domain rules' together.
import { z } from 'zod';
import { localDateOf } from '../domain/dates.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import { textInput } from '../domain/text.ts';
import { type ConsentPeople, validateConsentPeople, youthRequirement } from '../domain/roles.ts';
import { type FieldError, fieldPath, zodErrors } from './validation.ts';

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const requiredText = (message: string, max = 200) =>
  textInput({ error: message })
    .trim()
    .min(1, { error: message })
    .max(max, { error: `Högst ${max} tecken.` });
const optionalText = (max = 200) =>
  z.preprocess(
    blankToUndefined,
    textInput()
      .trim()
      .max(max, { error: `Högst ${max} tecken.` })
      .optional(),
  );
const phoneNumber = (error: string) =>
  z.preprocess(
    blankToUndefined,
    textInput()
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
/**
 * Skyddade personuppgifter (sekretessmarkering, skyddad folkbokföring; issue 16 §5): the person's phone and
 * e-mail are never printed on the form nor shown to the other signers, the team, or staff other than the
 * requester, and messages go only by the channels given here.
 */
const protectedIdentity = z.boolean({ error: 'Ange om personen har skyddade personuppgifter.' }).optional();

export const createConsentRequestSchema = z.object({
  teamId: z.uuid({ error: 'Välj HLT-team.' }),
  child: z.object({
    name: requiredText('Ange barnets namn.'),
    personalNumber,
    healthCentre: optionalText(),
    school: optionalText(),
    protectedIdentity,
  }),
  guardians: z
    .array(
      z.object({
        name: requiredText('Ange vårdnadshavarens namn.'),
        personalNumber,
        phone,
        email,
        protectedIdentity,
      }),
      {
        error: 'Ange vårdnadshavare.',
      },
    )
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
export type RequestData = z.output<typeof createConsentRequestSchema>;

/** The result of checking a request: the parsed data and people, or every problem found. */
export type Checked =
  { ok: true; data: RequestData; people: ConsentPeople } | { ok: false; errors: FieldError[] };

/**
 * Every field's problem in one answer: the schema's (shape, lengths, formats) and the domain's (numbers,
 * ages, guardians, contacts) together. The domain checks read the raw input leniently, so a bad e-mail
 * address does not hide a bad checksum until the next round.
 */
export function validateRequest(body: unknown, now: Date, youthSignatureAge: number): Checked {
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

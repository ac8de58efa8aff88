// Who signs a consent: the guardians (vårdnadshavare) and, when old enough or asked, the young person
// concerned (berörd ungdom). See ../shared/spec/hlt-consent.md, "Rules the service must enforce".

import { ageOn, type LocalDate } from './dates.ts';
import { PersonalNumber, type PersonalNumberProblem, PROBLEM_MESSAGES } from './personal-number.ts';

export const SIGNER_ROLES = ['guardian1', 'guardian2', 'youth'] as const;
export type SignerRole = (typeof SIGNER_ROLES)[number];

export const isSignerRole = (value: unknown): value is SignerRole =>
  typeof value === 'string' && (SIGNER_ROLES as readonly string[]).includes(value);

/**
 * Age of majority (föräldrabalken 9 kap. 1 §). Custody ends then too (6 kap. 2 §), and with it the guardians'
 * consent.
 */
export const AGE_OF_MAJORITY = 18;

/**
 * The default age from which the youth must sign too. Swedish law uses 12 as the mark in several places
 * where the child's own consent is asked (e.g. change of name, adoption); configurable (YOUTH_SIGNATURE_AGE).
 */
export const DEFAULT_YOUTH_SIGNATURE_AGE = 12;

/** The roles that must sign for the consent to be complete, in form order. */
export function requiredRoles(options: { soleGuardian: boolean; youthSigns: boolean }): SignerRole[] {
  const roles: SignerRole[] = ['guardian1'];
  if (!options.soleGuardian) roles.push('guardian2');
  if (options.youthSigns) roles.push('youth');
  return roles;
}

/**
 * `required`: the child is `threshold` years or older on the request date and always signs; staff cannot
 * drop it. `optional`: younger; staff may ask the child to sign, and if they do, that signature is required
 * to complete this consent like any other.
 */
export type YouthRequirement = 'required' | 'optional';

export function youthRequirement(
  childBirthDate: LocalDate,
  requestDate: LocalDate,
  threshold: number,
): YouthRequirement {
  assertThreshold(threshold);
  return ageOn(childBirthDate, requestDate) >= threshold ? 'required' : 'optional';
}

/** The people of a consent request as staff enter them. Numbers in any accepted written form. */
export interface ConsentPeopleInput {
  child: { personalNumber: string };
  /** Guardian 1 first; one guardian when `soleGuardian`, else two. */
  guardians: readonly { personalNumber: string }[];
  soleGuardian: boolean;
  /** Staff ask a child below the threshold to sign too. Ignored at or above it: the youth signs anyway. */
  youthSigns?: boolean;
}

export type PeopleProblemCode =
  | 'invalid_personal_number'
  | 'child_not_minor'
  | 'guardian_not_adult'
  | 'guardian_is_child'
  | 'same_guardian_twice'
  | 'guardian_missing'
  | 'second_guardian_missing'
  | 'second_guardian_with_sole_guardian'
  | 'too_many_guardians';

/** One problem with one field. `path` is in the shape zod uses, so the HTTP layer can list both alike. */
export interface PeopleProblem {
  path: (string | number)[];
  code: PeopleProblemCode;
  /** For `invalid_personal_number`: why the number was rejected. */
  reason?: PersonalNumberProblem;
  /** Swedish, for the form; never contains a personal number. */
  message: string;
}

export interface ConsentPeople {
  child: PersonalNumber;
  /** One (sole guardian) or two, in input order. */
  guardians: PersonalNumber[];
  soleGuardian: boolean;
  youth: YouthRequirement;
  /** Whether the youth signs this consent: always when required, else when staff asked. */
  youthSigns: boolean;
  requiredRoles: SignerRole[];
}

export type ConsentPeopleResult =
  { ok: true; value: ConsentPeople } | { ok: false; problems: PeopleProblem[] };

const MESSAGES: Record<Exclude<PeopleProblemCode, 'invalid_personal_number'>, string> = {
  child_not_minor: 'Barnet har fyllt 18 år. Samtycke från vårdnadshavare gäller bara barn under 18 år.',
  guardian_not_adult: 'Vårdnadshavaren måste ha fyllt 18 år.',
  guardian_is_child: 'Vårdnadshavaren kan inte vara samma person som barnet.',
  same_guardian_twice: 'Vårdnadshavare 2 kan inte vara samma person som vårdnadshavare 1.',
  guardian_missing: 'Ange minst en vårdnadshavare.',
  second_guardian_missing:
    'Ange vårdnadshavare 2, eller markera att vårdnadshavare 1 är ensam vårdnadshavare.',
  second_guardian_with_sole_guardian: 'Ensam vårdnadshavare är markerat, men två vårdnadshavare är angivna.',
  too_many_guardians: 'Ange högst två vårdnadshavare.',
};

/**
 * Checks the people of a request on its request date: valid numbers; the child under 18; guardians adults,
 * different from each other and from the child (compared on the normalised 12 digits, so 10- and 12-digit
 * forms of one number are the same person); two guardians unless sole guardian. Resolves whether the youth
 * signs. Returns every problem found, not only the first.
 */
export function validateConsentPeople(
  input: ConsentPeopleInput,
  options: { requestDate: LocalDate; youthSignatureAge: number },
): ConsentPeopleResult {
  assertThreshold(options.youthSignatureAge);
  const { requestDate } = options;
  const problems: PeopleProblem[] = [];
  const parse = (value: string, path: (string | number)[]): PersonalNumber | null => {
    const result = PersonalNumber.parse(value, { referenceDate: requestDate });
    if (result.ok) return result.value;
    problems.push({
      path,
      code: 'invalid_personal_number',
      reason: result.reason,
      message: PROBLEM_MESSAGES[result.reason],
    });
    return null;
  };
  const problem = (path: (string | number)[], code: Exclude<PeopleProblemCode, 'invalid_personal_number'>) =>
    problems.push({ path, code, message: MESSAGES[code] });

  const childPath = ['child', 'personalNumber'];
  const child = parse(input.child.personalNumber, childPath);
  if (child !== null && ageOn(child.birthDate, requestDate) >= AGE_OF_MAJORITY) {
    problem(childPath, 'child_not_minor');
  }

  const count = input.guardians.length;
  if (count === 0) problem(['guardians'], 'guardian_missing');
  else if (count > 2) problem(['guardians'], 'too_many_guardians');
  else if (count === 1 && !input.soleGuardian) problem(['guardians', 1], 'second_guardian_missing');
  else if (count === 2 && input.soleGuardian) problem(['guardians', 1], 'second_guardian_with_sole_guardian');

  const guardians: (PersonalNumber | null)[] = input.guardians.slice(0, 2).map((guardian, i) => {
    const path = ['guardians', i, 'personalNumber'];
    const number = parse(guardian.personalNumber, path);
    if (number === null) return null;
    if (child?.equals(number)) problem(path, 'guardian_is_child');
    else if (ageOn(number.birthDate, requestDate) < AGE_OF_MAJORITY) problem(path, 'guardian_not_adult');
    return number;
  });
  const [first, second] = guardians;
  if (first && second?.equals(first)) problem(['guardians', 1, 'personalNumber'], 'same_guardian_twice');

  if (problems.length > 0 || child === null) return { ok: false, problems };
  const youth = youthRequirement(child.birthDate, requestDate, options.youthSignatureAge);
  const youthSigns = youth === 'required' || input.youthSigns === true;
  return {
    ok: true,
    value: {
      child,
      guardians: guardians as PersonalNumber[],
      soleGuardian: input.soleGuardian,
      youth,
      youthSigns,
      requiredRoles: requiredRoles({ soleGuardian: input.soleGuardian, youthSigns }),
    },
  };
}

function assertThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > AGE_OF_MAJORITY) {
    throw new RangeError('The youth signature age must be a whole number from 0 to 18');
  }
}

/** What each role is called in Swedish, as a heading or a label ("Vårdnadshavare 1"). */
export const ROLE_LABELS_SV: Readonly<Record<SignerRole, string>> = {
  guardian1: 'Vårdnadshavare 1',
  guardian2: 'Vårdnadshavare 2',
  youth: 'Berörd ungdom',
};

/** The role inside a sentence ("du skriver under som vårdnadshavare 1"). */
export const roleInSentenceSv = (role: SignerRole): string => ROLE_LABELS_SV[role].toLowerCase();

// Field problems in the shape the HTTP layer answers with: `{ field: 'guardians.0.personalNumber',
// message }`. Messages are Swedish and never contain the value.
import { z } from 'zod';
import { textInput } from '../domain/text.ts';
import { AppError } from '../errors.ts';

export interface FieldError {
  field: string;
  message: string;
}

export const fieldPath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

export function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: fieldPath(issue.path),
    // Our schemas set their messages; zod's own never echo the value, but keep them generic anyway.
    message: issue.message && !/received/i.test(issue.message) ? issue.message : 'Ogiltigt värde.',
  }));
}

export function validationFailed(errors: FieldError[]): AppError {
  return new AppError('validation_failed', 'En eller flera uppgifter är inte giltiga.', {
    extra: { errors },
  });
}

/** Parses with a zod schema; problems become `validation_failed` with field errors. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationFailed(zodErrors(result.error));
  return result.data;
}

/** An optional free text (a note, a reason): blank is none; it may run over several lines. */
export const optionalNote = (max = 1000) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    textInput({ kind: 'lines' })
      .trim()
      .max(max, { error: `Högst ${max} tecken.` })
      .optional(),
  );

// RFC 9457 problem details: the one shape of every error answer of the API.
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });
export type Problem = z.infer<typeof problemSchema>;

export const problemType = (code: ErrorCode) => `urn:samtycke:problem:${code}`;

export function problem(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Problem {
  const { status, title } = ERROR_CODES[code];
  // The standard members win: an error's `extra` (e.g. a consent's `status`) must not replace them.
  return { ...extra, type: problemType(code), title, status, detail: detail ?? title, code };
}

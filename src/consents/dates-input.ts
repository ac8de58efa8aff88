// A date the organisation states for an act (when support ended, when a signer withdrew by phone):
// a calendar date, not after today and not before the request was made (Europe/Stockholm).
import { z } from 'zod';
import { compareLocalDates, isLocalDate, type LocalDate, localDateOf } from '../domain/dates.ts';
import { validationFailed } from './validation.ts';

export const localDateInput = z
  .string({ error: 'Ange ett datum (ÅÅÅÅ-MM-DD).' })
  .refine(isLocalDate, { error: 'Ange ett datum (ÅÅÅÅ-MM-DD).' })
  .transform((v) => v as LocalDate);

export function assertStatedDate(field: string, date: LocalDate, requestedAt: Date, now: Date): void {
  if (compareLocalDates(date, localDateOf(now)) > 0)
    throw validationFailed([{ field, message: 'Datumet kan inte ligga i framtiden.' }]);
  if (compareLocalDates(date, localDateOf(requestedAt)) < 0)
    throw validationFailed([{ field, message: 'Datumet kan inte ligga före förfrågan.' }]);
}

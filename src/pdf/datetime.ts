// Dates and times on our documents are Swedish local time (Europe/Stockholm), whatever the server's
// zone: the consent's validity is counted in Swedish days (see the spec), and people read them so. The
// wall clock itself is the domain's (`localDateTimeOf`); this is only how documents print it.
import { localDateTimeOf } from '../domain/dates.ts';

const twoDigits = (n: number) => String(n).padStart(2, '0');

/** "2025-03-14 kl. 13:05:22" (or without seconds) — Swedish local time, the way forms print it. */
export function formatStockholmDateTime(date: Date, opts: { seconds?: boolean } = {}): string {
  const { date: day, hour, minute, second } = localDateTimeOf(date);
  const time = `${twoDigits(hour)}:${twoDigits(minute)}`;
  return `${day} kl. ${opts.seconds === false ? time : `${time}:${twoDigits(second)}`}`;
}

// When a scheduled job runs: at times of day in Europe/Stockholm, every day (the jobs' sweeps, reminders,
// retention, checkpoints). Written as the first two fields of a cron line ("30 6 * * *": 06:30; "*/15 * * * *":
// every quarter hour); the other three are always "*". Local times, so 09:00 is 09:00 in summer and in
// winter; the night the clocks change, a time that comes twice runs once and a time skipped runs an hour
// later (localInstantOf). Pure: the caller says which stretch of time it asks about.
import { addDays, compareLocalDates, type LocalDate, localDateOf, localInstantOf } from './dates.ts';

export interface DailySchedule {
  /** The cron line it was read from. */
  cron: string;
  /** Hours (0–23) and minutes (0–59) of the day it runs at, ascending. */
  hours: number[];
  minutes: number[];
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** One cron field: `*`, `*\/n`, a number, a range `a-b`, or a list of those. */
function field(text: string, max: number, what: string, cron: string): number[] {
  const values = new Set<number>();
  const number = (s: string) => {
    if (!/^\d{1,2}$/.test(s) || Number(s) > max)
      throw new ScheduleError(`"${cron}": ${what} "${s}" is not 0–${max}`);
    return Number(s);
  };
  for (const part of text.split(',')) {
    const step = /^\*\/(\d{1,2})$/.exec(part);
    if (part === '*') for (let v = 0; v <= max; v++) values.add(v);
    else if (step) {
      const n = number(step[1]!);
      if (n === 0) throw new ScheduleError(`"${cron}": a step of 0`);
      for (let v = 0; v <= max; v += n) values.add(v);
    } else if (part.includes('-')) {
      const [from, to] = part.split('-').map(number) as [number, number];
      if (from > to) throw new ScheduleError(`"${cron}": ${what} range "${part}" runs backwards`);
      for (let v = from; v <= to; v++) values.add(v);
    } else values.add(number(part));
  }
  return [...values].sort((a, b) => a - b);
}

/** Reads a cron line of the daily form; anything else (a day, a month or a weekday set) is refused. */
export function parseDailySchedule(cron: string): DailySchedule {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || fields.slice(2).some((f) => f !== '*'))
    throw new ScheduleError(`"${cron}": only "<minute> <hour> * * *" (times of every day) is supported`);
  return { cron, minutes: field(fields[0]!, 59, 'minute', cron), hours: field(fields[1]!, 23, 'hour', cron) };
}

/** The instants the schedule runs at after `from` and up to and including `to`, in order. */
export function runsBetween(schedule: DailySchedule, from: Date, to: Date): Date[] {
  const runs: Date[] = [];
  if (to <= from) return runs;
  // From the local day before `from`'s (a time that comes twice may belong to it) to `to`'s.
  const last = localDateOf(to);
  for (
    let day: LocalDate = addDays(localDateOf(from), -1);
    compareLocalDates(day, last) <= 0;
    day = addDays(day, 1)
  )
    for (const hour of schedule.hours)
      for (const minute of schedule.minutes) {
        const at = localInstantOf(day, hour, minute);
        if (at > from && at <= to) runs.push(at);
      }
  return runs.sort((a, b) => a.getTime() - b.getTime());
}

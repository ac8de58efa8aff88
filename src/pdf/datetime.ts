// Dates and times on our documents are Swedish local time (Europe/Stockholm), whatever the server's
// zone: the consent's validity is counted in Swedish days (see the spec), and people read them so.
const parts = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function pick(date: Date): Record<string, string> {
  return Object.fromEntries(parts.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "2025-03-14" — the date in Sweden at that instant. */
export function formatStockholmDate(date: Date): string {
  const p = pick(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "2025-03-14 kl. 13:05:22" (or without seconds) — Swedish local time, the way forms print it. */
export function formatStockholmDateTime(date: Date, opts: { seconds?: boolean } = {}): string {
  const p = pick(date);
  const time = opts.seconds === false ? `${p.hour}:${p.minute}` : `${p.hour}:${p.minute}:${p.second}`;
  return `${p.year}-${p.month}-${p.day} kl. ${time}`;
}

// `npm run bench`: runs every benchmark and prints its figures (medians, ratios, sizes) as JSON lines.
// Benchmarks measure; they never assert timings (tests assert behaviour).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = [
  { name: 'pdf', file: 'pdf.ts', fn: 'benchPdf' },
  { name: 'status', file: 'status.ts', fn: 'benchStatus' },
  { name: 'notify', file: 'notify.ts', fn: 'benchNotify' },
  { name: 'signing', file: 'signing.ts', fn: 'benchSigning' },
  { name: 'startup', file: 'startup.ts', fn: 'benchStartup' },
  { name: 'soak', file: 'soak.ts', fn: 'benchSoak' },
  { name: 'token', file: 'token.ts', fn: 'benchToken' },
  { name: 'fuzz', file: 'fuzz.ts', fn: 'benchFuzz' },
  { name: 'limits', file: 'limits.ts', fn: 'benchLimits' },
];
const only = process.argv.slice(2);

for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  const file = path.join(here, bench.file);
  if (!existsSync(file)) continue;
  const mod = (await import(file)) as Record<string, () => Promise<Record<string, unknown>>>;
  const run = mod[bench.fn];
  if (!run) throw new Error(`${bench.file} does not export ${bench.fn}`);
  process.stdout.write(`\n## ${bench.name}\n`);
  const figures = await run();
  process.stdout.write(`${JSON.stringify({ bench: bench.name, ...figures }, null, 2)}\n`);
}

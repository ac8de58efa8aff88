// `npm run bench fuzz` (issue 15, "No 5xx for any input"): the fuzz test's cases (test/fixtures/fuzz.ts) at
// length — every operation of openapi.yaml, broken bodies, parameters, headers and content types, with and
// without credentials — and the figures: cases, answers by status, 5xx count, problems found, duration.
// Goal: 10,000 cases, 0 × 5xx. BENCH_FUZZ_RUNS sets the number of cases, BENCH_FUZZ_SEED the seed (else a
// new one, printed). Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an
// embedded one.
import fc from 'fast-check';
import { fuzzCampaign, fuzzTarget } from '../fixtures/fuzz.ts';
import { withTestFixtures } from './database.ts';

const RUNS = Number(process.env.BENCH_FUZZ_RUNS ?? 10_000);

export async function benchFuzz(): Promise<Record<string, unknown>> {
  const seed = Number(process.env.BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);
  return withTestFixtures('samtycke_bench_fuzz', async (t) => {
    const { operations, pages, figures, cases, run } = fuzzCampaign(await fuzzTarget(t));
    const started = performance.now();
    await fc.check(
      fc.asyncProperty(cases, async (c) => {
        await run(c);
        return true;
      }),
      { seed, numRuns: RUNS },
    );
    figures.ms = Math.round(performance.now() - started);
    return {
      seed,
      operations,
      pages,
      cases: figures.cases,
      serverErrors: figures.serverErrors,
      casesWithProblems: figures.problemCases,
      byStatus: figures.byStatus,
      durationMs: figures.ms,
      casesPerSecond: Math.round((figures.cases / figures.ms) * 1000),
      firstProblems: figures.failures.slice(0, 5),
    };
  });
}

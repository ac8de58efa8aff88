// Issue 15, "No 5xx for any input": fast-check over every operation of openapi.yaml (see
// test/fixtures/fuzz.ts) with and without credentials. No answer is a 5xx; every error is problem+json (the
// token endpoint's RFC 6749 JSON aside) with the request id, and echoes none of the values sent. Bounded for
// CI: a fixed seed and FUZZ_RUNS cases (default 400); `npm run bench fuzz` runs 10,000.
import fc from 'fast-check';
import t from 'tap';
import { fuzzCampaign, fuzzTarget } from '../fixtures/fuzz.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);

t.test('no input gives a 5xx, an error that is not problem+json, or an echo of what was sent', async (t) => {
  const { operations, figures, cases, run } = fuzzCampaign(await fuzzTarget(t));
  t.ok(operations >= 20, `${operations} operations in openapi.yaml`);
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      const problems = await run(c);
      if (problems.length > 0)
        throw new Error(`${c.op.method} ${c.url.slice(0, 200)}: ${problems.join('; ')}`);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  figures.ms = Math.round(performance.now() - started);
  t.equal(figures.serverErrors, 0, '0 × 5xx');
  t.comment(JSON.stringify({ cases: figures.cases, byStatus: figures.byStatus, ms: figures.ms }));
});

// Issue 15, "No 5xx for any input": fast-check over every operation of openapi.yaml (see
// test/fixtures/fuzz.ts) with and without credentials. No answer is a 5xx; every error is problem+json (the
// token endpoint's RFC 6749 JSON aside) with the request id, and echoes none of the values sent. Bounded for
// CI: a fixed seed and FUZZ_RUNS cases (default 400); `npm run bench fuzz` runs 10,000.
import fc from 'fast-check';
import t from 'tap';
import {
  caseRunner,
  fuzzCase,
  fuzzTarget,
  loadOpenApi,
  newFigures,
  operations,
  PAGE_OPERATIONS,
} from '../fixtures/fuzz.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);

t.test('no input gives a 5xx, an error that is not problem+json, or an echo of what was sent', async (t) => {
  const target = await fuzzTarget(t);
  const doc = loadOpenApi();
  const ops = operations(doc);
  t.ok(ops.length >= 20, `${ops.length} operations in openapi.yaml`);
  const figures = newFigures();
  const run = caseRunner(target, doc, figures);
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fuzzCase(doc, [...ops, ...PAGE_OPERATIONS], target.known), async (c) => {
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

// A share of the pool (src/db/pool-share.ts): at most `size` tasks at once, the rest in order, a failing
// task frees its place; and the signing share of a pool.
import t from 'tap';
import { PoolShare, signingShareOf } from '../../src/db/pool-share.ts';

const tick = () => new Promise((r) => setImmediate(r));

t.test('at most `size` tasks run at once; the others wait and start in the order they came', async (t) => {
  const share = new PoolShare(2);
  const release: (() => void)[] = [];
  const started: number[] = [];
  let concurrent = 0;
  let most = 0;
  const runs = [0, 1, 2, 3, 4].map((i) =>
    share.run(async () => {
      started.push(i);
      most = Math.max(most, ++concurrent);
      await new Promise<void>((resolve) => release.push(resolve));
      concurrent--;
      return i * 10;
    }),
  );
  await tick();
  t.same(started, [0, 1], 'two start');
  t.equal(share.running, 2);
  t.equal(share.waiting, 3);
  release.shift()!();
  await tick();
  await tick();
  t.same(started, [0, 1, 2], 'one ends, the next in line starts');
  while (release.length) {
    release.shift()!();
    await tick();
    await tick();
  }
  t.same(await Promise.all(runs), [0, 10, 20, 30, 40], 'each gets its own answer');
  t.equal(most, 2, 'never more than two');
  t.same(started, [0, 1, 2, 3, 4]);
  t.equal(share.running, 0, 'all places given back');
  t.equal(share.waiting, 0);
});

t.test('a task that fails frees its place and its caller gets the error', async (t) => {
  const share = new PoolShare(1);
  await t.rejects(
    share.run(async () => {
      throw new Error('no');
    }),
    { message: 'no' },
  );
  t.equal(share.running, 0);
  t.equal(await share.run(async () => 'next'), 'next', 'the next task runs');
  const failing = share.run(async () => {
    await tick();
    throw new Error('late');
  });
  const waiting = share.run(async () => 'after the failure');
  await t.rejects(failing, { message: 'late' });
  t.equal(await waiting, 'after the failure', 'a waiting task gets the place of one that failed');
  t.equal(share.running, 0);
});

t.test('a share holds at least one task; signatures get a quarter of the pool', async (t) => {
  t.throws(() => new PoolShare(0), RangeError);
  t.throws(() => new PoolShare(1.5), RangeError);
  t.equal(signingShareOf(20), 5);
  t.equal(signingShareOf(4), 1);
  t.equal(signingShareOf(7), 1);
  t.equal(signingShareOf(100), 25);
});

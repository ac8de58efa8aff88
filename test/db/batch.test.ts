// Batching of the hot-path statements (src/db/batch.ts): the Batcher alone, the compiled-once queries, and
// what batching must never change on a real database — each caller gets its own answer, a look-up made
// after a withdrawal sees it, every look-up leaves its own audit row, and one bad row fails only its caller.
import { sql } from 'kysely';
import t from 'tap';
import { appendAuditEvent, listAuditEvents } from '../../src/consents/audit.repository.ts';
import { getConsentStatus } from '../../src/consents/consent-status.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { withdrawConsent } from '../../src/consents/withdraw-consent.ts';
import { Batcher, BatchItemError, compiledOnce } from '../../src/db/batch.ts';
import { activeClientAccess, disableApiClient } from '../../src/identity/api-clients.ts';
import { nguyenRequest, setup, signerActor } from '../fixtures/consents.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

t.test('Batcher: calls of one turn share one run and each gets its own answer', async (t) => {
  const runs: string[][] = [];
  const b = new Batcher(async (keys: readonly string[]) => {
    runs.push([...keys]);
    return keys.map((k) => k.toUpperCase());
  });
  const answers = await Promise.all(['a', 'b', 'c', 'a'].map((k) => b.load(k)));
  t.same(answers, ['A', 'B', 'C', 'A']);
  t.same(runs, [['a', 'b', 'c', 'a']], 'one run for the whole turn');
  t.equal(await b.load('d'), 'D');
  t.equal(runs.length, 2, 'a later turn is a new run');
});

t.test('Batcher: a full batch goes at once; the rest waits for the end of the turn', async (t) => {
  const runs: number[][] = [];
  const b = new Batcher(
    async (keys: readonly number[]) => {
      runs.push([...keys]);
      return keys.map((k) => k * 2);
    },
    { maxBatch: 3 },
  );
  const pending = [1, 2, 3, 4, 5].map((k) => b.load(k));
  t.same(runs, [[1, 2, 3]], 'sent as soon as it held three');
  t.same(await Promise.all(pending), [2, 4, 6, 8, 10]);
  t.same(runs, [
    [1, 2, 3],
    [4, 5],
  ]);
});

t.test('Batcher: failures', async (t) => {
  const items = new Batcher(async (keys: readonly number[]) =>
    keys.map((k) => (k < 0 ? new BatchItemError(new Error(`bad ${k}`)) : k)),
  );
  const [ok, bad, ok2] = await Promise.allSettled([items.load(1), items.load(-1), items.load(2)]);
  t.same(
    [ok, ok2],
    [
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 2 },
    ],
  );
  t.match(bad, { status: 'rejected', reason: { message: 'bad -1' } }, 'only the bad key fails');

  const rejects = new Batcher(async (): Promise<number[]> => {
    throw new Error('down');
  });
  const throws = new Batcher((): Promise<number[]> => {
    throw new Error('thrown before any promise');
  });
  const short = new Batcher(async () => [1]);
  for (const [name, b, message] of [
    ['a rejected run', rejects, /down/],
    ['a run that throws', throws, /thrown before/],
    ['a run with too few answers', short, /1 values for 2 keys/],
  ] as const) {
    const settled = await Promise.allSettled([b.load(1), b.load(2)]);
    t.ok(
      settled.every((x) => x.status === 'rejected' && message.test(String((x.reason as Error).message))),
      `${name}: every caller of the batch gets the error`,
    );
  }
});

t.test('compiledOnce: refuses a query that does not use its placeholders once, in order', async (t) => {
  const s = await setup(t, { jobs: false });
  const twice = compiledOnce(
    (db, a: string) => db.selectFrom('consents').select('id').where('id', '=', a).where('team_id', '=', a),
    [''],
  );
  await t.rejects(twice(s.db, 'x'), /each placeholder once/);
  const swapped = compiledOnce(
    (db, a: string, b: string) =>
      db.selectFrom('consents').select('id').where('id', '=', b).where('team_id', '=', a),
    ['a', 'b'],
  );
  await t.rejects(swapped(s.db, 'x', 'y'), /each placeholder once/);
  const count = compiledOnce((db, n: number) => db.selectNoFrom(sql<number>`${n}::int + 1`.as('next')), [0]);
  t.same((await count(s.db, 41)).rows, [{ next: 42 }], 'compiled once, run with the new value');
  t.same((await count(s.db, 1)).rows, [{ next: 2 }]);
});

t.test(
  'batched status checks: each its own answer, and a withdrawal is seen by the next check',
  async (t) => {
    const s = await setup(t);
    const created = await Promise.all(
      [1, 2, 3].map(() => createConsentRequest(s.ctx, s.staff, nguyenRequest(s))),
    );
    const [a, b, c] = created.map((x) => x.id) as [string, string, string];
    await signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
      consentId: b,
      place: 'Norrby',
      confirmSoleGuardian: true,
    });
    await signConsent(s.ctx, signerActor('youth', s.person('minh-nguyen'), s.clock), {
      consentId: b,
      place: 'Norrby',
    });
    const missing = '00000000-0000-4000-8000-000000000000';
    // Forty checks in one turn: one query, and every answer belongs to its own consent.
    const ids = Array.from({ length: 40 }, (_, i) => [a, b, c, missing][i % 4]!);
    let queries = 0;
    const counted = s.db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        queries++;
        return args.result;
      },
    });
    const answers = await Promise.allSettled(
      ids.map((id) => getConsentStatus({ db: counted, clock: s.clock }, id)),
    );
    t.equal(queries, 2, 'two queries for forty checks (batches of at most 32)');
    answers.forEach((x, i) => {
      const id = ids[i]!;
      if (id === missing) t.match(x, { status: 'rejected', reason: { code: 'not_found' } });
      else if (x.status === 'fulfilled') {
        t.equal(x.value.id, id);
        t.equal(x.value.status, id === b ? 'active' : 'pending');
      } else t.fail(`check ${i} failed: ${String(x.reason)}`);
    });

    await withdrawConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), { consentId: b });
    const after = await Promise.all([b, a, b].map((id) => getConsentStatus(s.ctx, id)));
    t.same(
      after.map((x) => x.status),
      ['withdrawn', 'pending', 'withdrawn'],
      'the checks after the withdrawal see it',
    );
  },
);

t.test(
  'batched audit rows: one per look-up, a bad one fails alone, a transaction keeps its own',
  async (t) => {
    const s = await setup(t, { jobs: false });
    const { id } = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    const before = (await listAuditEvents(s.db, id)).length;
    const lookUp = (consentId: string, n: number) =>
      appendAuditEvent(s.db, {
        consentId,
        action: 'status_checked',
        actor: s.client,
        at: s.clock.now(),
        requestId: `req-${n}`,
        details: { status: 'pending' },
      });
    const settled = await Promise.allSettled(
      Array.from({ length: 25 }, (_, n) => lookUp(n === 7 ? '00000000-0000-4000-8000-000000000000' : id, n)),
    );
    t.match(settled[7], { status: 'rejected', reason: { code: '23503' } }, 'no such consent: refused');
    t.equal(settled.filter((x) => x.status === 'fulfilled').length, 24, 'the others are stored');
    const events = (await listAuditEvents(s.db, id)).slice(before);
    t.same(
      events.map((e) => e.requestId).sort(),
      Array.from({ length: 25 }, (_, n) => `req-${n}`)
        .filter((r) => r !== 'req-7')
        .sort(),
      'each look-up has its own row',
    );
    t.ok(
      events.every((e) => e.actor.type === 'api_client' && e.actor.id === s.client.clientId),
      'with its actor',
    );
    await t.rejects(
      appendAuditEvent(s.db, {
        ...{ consentId: id, action: 'status_checked', actor: s.client, at: new Date() },
        details: { note: 'anna@example.com' },
      }),
      /personal data/,
      'the guard on details still applies',
    );

    await t.rejects(
      s.db.transaction().execute(async (tx) => {
        await appendAuditEvent(tx, { consentId: id, action: 'reminded', actor: s.staff, at: s.clock.now() });
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    t.notOk(
      (await listAuditEvents(s.db, id)).some((e) => e.action === 'reminded'),
      "inside a transaction the row is the transaction's: gone with its rollback",
    );
  },
);

t.test('batched client access: each client its own answer; a disabled one is refused at once', async (t) => {
  const s = await setup(t, { jobs: false });
  const clientId = s.client.clientId;
  const [x, y, none, junk] = await Promise.all([
    activeClientAccess(s.db, clientId),
    activeClientAccess(s.db, clientId),
    activeClientAccess(s.db, '00000000-0000-4000-8000-000000000000'),
    activeClientAccess(s.db, 'not-a-uuid'),
  ]);
  t.equal(x?.client.id, clientId);
  t.same(x, y);
  t.ok(
    x?.teams.some((m) => m.teamId === s.teamId),
    'with its teams',
  );
  t.equal(none, undefined);
  t.equal(junk, undefined, 'not an id: no query, no answer');
  await disableApiClient(s.db, clientId, s.clock.now());
  t.equal(await activeClientAccess(s.db, clientId), undefined, 'disabled: the next look-up says so');
  await turn();
});

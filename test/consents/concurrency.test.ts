// Regression guard for the rule the whole signing design rests on: concurrent acts on one consent
// serialise on its row lock, so the PDF never branches and the final state is one the rules allow.
import t from 'tap';
import { systemClock } from '../../src/clock.ts';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import { getConsentStatus } from '../../src/consents/consent-status.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { latestFormSha256 } from '../../src/consents/documents.repository.ts';
import { endConsent } from '../../src/consents/end-consent.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { withdrawConsent } from '../../src/consents/withdraw-consent.ts';
import { poolOf } from '../../src/db/index.ts';
import { localDateOf } from '../../src/domain/dates.ts';
import type { SignerRole } from '../../src/domain/roles.ts';
import { isAppError } from '../../src/errors.ts';
import { assertRevisionChain, familyRequest, setup, signerActor } from '../fixtures/consents.ts';

const ROUNDS = 20;
const SIGNERS: [SignerRole, string][] = [
  ['guardian1', 'anna-lindqvist'],
  ['guardian2', 'erik-lindqvist'],
  ['youth', 'saga-lindqvist'],
];

t.test(`sign, withdraw and end fired together, ${ROUNDS} rounds: one order, no branch`, async (t) => {
  const s = await setup(t, { jobs: false });
  // Real time, so that acts are ordered by when they got the lock.
  const ctx = { ...s.ctx, clock: systemClock };
  const outcomes = new Map<string, number>();
  let signed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const created = await createConsentRequest(ctx, s.staff, familyRequest(s));
    const today = localDateOf(systemClock.now());
    const acts: [string, () => Promise<unknown>][] = [
      ...SIGNERS.map(([role, key]): [string, () => Promise<unknown>] => [
        `sign:${role}`,
        () =>
          signConsent(ctx, signerActor(role, s.person(key), systemClock), {
            consentId: created.id,
            place: 'Norrby',
          }),
      ]),
      [
        'withdraw',
        () =>
          withdrawConsent(ctx, s.staff, {
            consentId: created.id,
            role: 'guardian2',
            channel: 'phone',
            date: today,
          }),
      ],
      ['end', () => endConsent(ctx, s.staff, { consentId: created.id, date: today })],
    ];
    // Rotate the start order so that each act is sometimes first. A signature is prepared outside the
    // lock (tens of milliseconds of PDF work) while withdraw and end are quick, so in some rounds those
    // two start a little later: the race then also has rounds where signatures get there first.
    const order = acts.map((_, i) => acts[(i + round) % acts.length]!);
    const lag = (round % 4) * 40;
    const results = await Promise.allSettled(
      order.map(([name, run]) =>
        name.startsWith('sign:') || lag === 0 ? run() : new Promise((r) => setTimeout(r, lag)).then(run),
      ),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    for (const f of failures) {
      if (!isAppError(f) || f.code !== 'consent_state_conflict') throw f;
    }
    const succeeded = order.filter((_, i) => results[i]!.status === 'fulfilled').map(([name]) => name);
    const signatures = succeeded.filter((n) => n.startsWith('sign:')).length;

    const revisions = await assertRevisionChain(t, s.app, created.id);
    t.equal(revisions, 1 + signatures, `round ${round}: one revision per signature that went through`);

    const status = await getConsentStatus(ctx, created.id);
    t.ok(
      ['withdrawn', 'ended'].includes(status.status),
      `round ${round}: ended by withdrawal or end (${status.status})`,
    );
    t.equal(
      succeeded.filter((n) => n === 'withdraw' || n === 'end').length,
      1,
      'exactly one of withdraw and end went through: the other found it over',
    );
    const events = await listAuditEvents(s.db, created.id);
    t.equal(events.filter((e) => e.action === 'signed').length, signatures, 'an audit event per signature');
    t.equal(
      events.filter((e) => e.action === 'completed').length,
      signatures === 3 ? 1 : 0,
      'completed once when, and only when, all signed first',
    );
    const over = events.findIndex((e) => e.action === 'withdrawn' || e.action === 'ended');
    t.ok(
      over >= 0 && events.slice(over + 1).every((e) => e.action !== 'signed' && e.action !== 'completed'),
      `round ${round}: no signature after the consent was over`,
    );
    outcomes.set(status.status, (outcomes.get(status.status) ?? 0) + 1);
    signed += signatures;
  }
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}, signatures appended: ${signed}`);
  t.ok(signed > 0, 'signatures raced with the other acts and some went through');
});

t.test(
  'signatures are made outside the lock: one overtaken by another is made again on the new revision',
  async (t) => {
    const s = await setup(t, { jobs: false });
    const ctx = { ...s.ctx, clock: systemClock };
    // Count the certificates issued: one per attempt.
    let issued = 0;
    const startSignature = ctx.signing.startSignature.bind(ctx.signing);
    const counting = { ...ctx, signing: Object.create(ctx.signing) as typeof ctx.signing };
    counting.signing.startSignature = (identity, at) => {
      issued++;
      return startSignature(identity, at);
    };
    const created = await createConsentRequest(ctx, s.staff, familyRequest(s));
    const results = await Promise.all(
      SIGNERS.map(([role, key]) =>
        signConsent(counting, signerActor(role, s.person(key), systemClock), {
          consentId: created.id,
          place: 'Norrby',
        }),
      ),
    );
    t.same(results.map((r) => r.revision).sort(), [1, 2, 3], 'each signature its own revision');
    t.equal(results.filter((r) => r.completed).length, 1, 'exactly one completed the consent');
    t.equal(
      await assertRevisionChain(t, s.app, created.id),
      4,
      'one chain: the original and three signatures',
    );
    t.ok(issued > 3, `signatures overtaken were made again (${issued} certificates for 3 signatures)`);
    const status = await getConsentStatus(ctx, created.id);
    t.equal(status.status, 'active');
    const receipt = await s.db
      .selectFrom('consent_documents')
      .select('revision')
      .where('consent_id', '=', created.id)
      .where('kind', '=', 'receipt')
      .execute();
    t.equal(receipt.length, 1, 'active with its receipt');

    // A signer who reviewed a revision that another signature replaced is asked to read it again.
    const again = await createConsentRequest(ctx, s.staff, familyRequest(s));
    const reviewed = await latestFormSha256(s.db, again.id);
    await signConsent(ctx, signerActor('guardian1', s.person('anna-lindqvist'), systemClock), {
      consentId: again.id,
      place: 'Norrby',
    });
    await t.rejects(
      signConsent(ctx, signerActor('guardian2', s.person('erik-lindqvist'), systemClock), {
        consentId: again.id,
        place: 'Norrby',
        reviewedSha256: reviewed,
      }),
      { code: 'document_changed' },
    );
  },
);

t.test('signatures at once hold no more connections than their share of the pool', async (t) => {
  // DATABASE_POOL_SIZE 8: signatures may hold 2 connections at once (db/pool-share.ts), whatever number
  // of guardians sign in the same instant. Nothing else uses the pool meanwhile, so every connection
  // checked out is a signature's.
  const s = await setup(t, { jobs: false, env: { DATABASE_POOL_SIZE: '8' } });
  t.equal(s.app.signingShare.size, 2);
  const SIMULTANEOUS = 8;
  const ids: string[] = [];
  for (let i = 0; i < SIMULTANEOUS; i++)
    ids.push((await createConsentRequest(s.ctx, s.staff, familyRequest(s))).id);
  const pool = poolOf(s.db)!;
  let inUse = 0;
  let most = 0;
  const acquired = () => (most = Math.max(most, ++inUse));
  const released = () => inUse--;
  pool.on('acquire', acquired);
  pool.on('release', released);
  const results = await Promise.all(
    ids.map((consentId) =>
      signConsent(s.ctx, signerActor('guardian1', s.person('anna-lindqvist'), s.clock), {
        consentId,
        place: 'Norrby',
      }),
    ),
  );
  pool.off('acquire', acquired);
  pool.off('release', released);
  t.same(
    results.map((r) => r.revision),
    ids.map(() => 1),
    `all ${SIMULTANEOUS} signed`,
  );
  t.ok(most >= 1 && most <= 2, `at most two connections at once (${most})`);
  t.equal(s.app.signingShare.running, 0, 'the share is free again');
});

// Retention and deletion (issue 16 §4) against the real database: what is due goes at 00:00 Stockholm the
// day after the retention time, also when that day is the one summer time ends; a tombstone without
// personal data stays with an audit event; plain SQL over every table finds nothing of the deleted family;
// the dry run changes nothing; an active consent is never deleted; a renewal outlives what it renewed; two
// instances running at once delete each consent once.
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import {
  cancelConsent,
  createConsentRequest,
  declineConsent,
  signConsent,
  withdrawConsent,
} from '../../src/consents/index.ts';
import { renewConsent } from '../../src/consents/renew-consent.ts';
import { deleteDueConsents, listDueConsents } from '../../src/consents/retention.ts';
import { getRetentionMonths, setRetentionMonths } from '../../src/identity/organisations.ts';
import { createDb, type Db } from '../../src/db/index.ts';
import { addYears, localDateOf } from '../../src/domain/dates.ts';
import { deletionDueAt } from '../../src/domain/retention.ts';
import {
  familyRequest,
  lindqvistSigners,
  nguyenRequest,
  type Setup,
  setup,
  signerActor,
} from '../fixtures/consents.ts';
import { checkpoint, verify } from './audit-chain-helpers.ts';

const DAY = 24 * 3600_000;

async function count(db: Db, table: 'consents' | 'consent_tombstones'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((b) => b.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every row of every table (ours and the job queue's) as text, for a plain-SQL search. */
async function everyRowAsText(db: Db): Promise<string> {
  const { sql } = await import('kysely');
  const tables = await sql<{ schema: string; name: string }>`
    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema IN ('public', 'pgboss')`.execute(db);
  const texts: string[] = [];
  for (const { schema, name } of tables.rows) {
    const rows = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.id(schema, name)} t`.execute(db);
    texts.push(...rows.rows.map((r) => r.row));
  }
  return texts.join('\n');
}

/** The personal data of the Nguyen family as it could be stored. */
function nguyenData(s: Setup): string[] {
  const mai = s.person('mai-nguyen');
  const minh = s.person('minh-nguyen');
  return [mai.name, minh.name, mai.personalNumber.replace(/\D/g, ''), minh.personalNumber.replace(/\D/g, '')];
}

t.test('due at 00:00 the day after, on the day summer time ends; a tombstone and nothing else', async (t) => {
  // Requested on 30 October 2026; retention 12 months.
  const clock = fixedClock('2026-10-30T10:00:00Z');
  const s = await setup(t, { clock, jobs: false });
  t.ok(await setRetentionMonths(s.db, s.organisationId, 12));
  t.equal(await getRetentionMonths(s.db, s.organisationId), 12);
  const today = localDateOf(clock.now());

  const withdrawn = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await withdrawConsent(s.ctx, s.staff, {
    consentId: withdrawn.id,
    role: 'guardian1',
    channel: 'phone',
    date: today,
  });
  const cancelled = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await cancelConsent(s.ctx, s.staff, { consentId: cancelled.id });
  clock.set('2026-10-31T11:00:00Z'); // the next day: the day summer time ended in 2026 was 25 October
  const declined = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await declineConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), clock), {
    consentId: declined.id,
  });
  const before = await listAuditEvents(s.db, withdrawn.id);
  // A sealed checkpoint of the chains as they stand before anything is deleted.
  const chains = {
    db: s.db,
    config: s.app.config,
    url: s.databaseUrl,
    consents: [],
    actor: undefined as never,
  };
  await checkpoint(chains);

  // Withdrawn and cancelled on 30 October 2026: kept through 30 October 2027, due from 31 October 2027
  // 00:00 CEST (22:00 UTC on the 30th) — the day summer time ends in 2027.
  clock.set('2027-10-30T21:59:59.999Z');
  t.same(await listDueConsents(s.ctx), [], 'dry run a moment before: nothing');
  t.same(await deleteDueConsents(s.ctx), { deleted: 0, byOutcome: {} }, 'nothing yet');

  clock.set('2027-10-30T22:00:00Z');
  const due = await listDueConsents(s.ctx);
  t.same(due.map((d) => d.consentId).sort(), [withdrawn.id, cancelled.id].sort(), 'dry run: these two');
  t.same(due.map((d) => [d.outcome, localDateOf(d.dueAt), d.retentionMonths]).sort(), [
    ['cancelled', '2027-10-31', 12],
    ['withdrawn', '2027-10-31', 12],
  ]);
  t.equal(await count(s.db, 'consents'), 3, 'the dry run changed nothing');
  t.equal(await count(s.db, 'consent_tombstones'), 0);

  const run = await deleteDueConsents(s.ctx);
  t.same(run, { deleted: 2, byOutcome: { withdrawn: 1, cancelled: 1 } });
  t.equal(await count(s.db, 'consents'), 1, 'the declined one (31 October) stays a day longer');

  // Declined 31 October 2026: due from 1 November 2027 00:00 CET (23:00 UTC on 31 October): 25 hours on.
  clock.set('2027-10-31T22:59:59.999Z');
  t.equal((await deleteDueConsents(s.ctx)).deleted, 0);
  clock.set('2027-10-31T23:00:00Z');
  t.same(await deleteDueConsents(s.ctx), { deleted: 1, byOutcome: { declined: 1 } });

  const tombstones = await s.db.selectFrom('consent_tombstones').selectAll().orderBy('ended_month').execute();
  t.equal(tombstones.length, 3);
  const w = tombstones.find((x) => x.consent_id === withdrawn.id)!;
  t.same(
    {
      requested: w.requested_month,
      ended: w.ended_month,
      outcome: w.outcome,
      age: w.child_age_group,
      sex: w.child_legal_sex,
      type: w.organisation_type,
      team: w.team_id,
      months: w.retention_months,
    },
    {
      requested: '2026-10',
      ended: '2026-10',
      outcome: 'withdrawn',
      age: '16-17',
      sex: 'male',
      type: 'school',
      team: s.teamId,
      months: 12,
    },
    'the tombstone: months, place, outcome, age group, legal sex',
  );

  // The audit trail is whole, with the deletion at its end.
  const after = await listAuditEvents(s.db, withdrawn.id);
  t.same(
    after.slice(0, before.length).map((e) => e.id),
    before.map((e) => e.id),
    'every earlier event is still there',
  );
  const last = after.at(-1)!;
  t.equal(last.action, 'personal_data_deleted');
  t.equal(last.actor.type, 'system');
  t.same(last.details, { outcome: 'withdrawn', endedMonth: '2026-10', retentionMonths: 12 });

  const trail = await verify(chains);
  t.same(trail.findings, [], 'the audit trail verifies after the deletions, against the checkpoint before');

  // A plain-SQL read of every table finds nothing of the family.
  const everything = await everyRowAsText(s.db);
  for (const value of nguyenData(s)) t.notOk(everything.includes(value), 'nothing of the family is left');
});

t.test('an active consent is never due; it goes the retention time after it expired', async (t) => {
  const s = await setup(t, { jobs: false, env: { RETENTION_MONTHS: '1' } });
  t.equal(await getRetentionMonths(s.db, s.organisationId), null, 'the organisation follows the default');
  const active = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  for (const [role, key] of lindqvistSigners('elsa')) {
    s.clock.advance(60_000);
    await signConsent(s.ctx, signerActor(role, s.person(key), s.clock), {
      consentId: active.id,
      place: 'Norrby',
    });
  }
  const signedDay = localDateOf(s.clock.now());
  s.clock.advance(364 * DAY);
  t.same(await listDueConsents(s.ctx), [], 'active a year less a day after signing: not due');
  s.clock.advance(2 * 365 * DAY);
  const due = await listDueConsents(s.ctx);
  t.same(
    due.map((d) => [d.consentId, d.outcome]),
    [[active.id, 'expired']],
  );
  const [{ endedAt, dueAt }] = due as [(typeof due)[number]];
  t.equal(localDateOf(endedAt), addYears(signedDay, 1), 'expired at 00:00 on the anniversary of signing');
  t.equal(dueAt.getTime(), deletionDueAt(endedAt, 1).getTime(), 'due a month and a day later');
  s.clock.set(new Date(dueAt.getTime() - 1));
  t.same(await deleteDueConsents(s.ctx), { deleted: 0, byOutcome: {} }, 'not a millisecond before');
  s.clock.set(dueAt);
  t.same(await deleteDueConsents(s.ctx), { deleted: 1, byOutcome: { expired: 1 } });
});

t.test('a renewal outlives the consent it renewed: its link is cleared', async (t) => {
  const s = await setup(t, { jobs: false, env: { RETENTION_MONTHS: '1' } });
  const first = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  s.clock.advance(32 * DAY); // the request lapsed
  const renewed = await renewConsent(s.ctx, s.staff, { consentId: first.id });
  s.clock.advance(32 * DAY); // the first is due; the renewal has just lapsed
  t.same(await deleteDueConsents(s.ctx), { deleted: 1, byOutcome: { request_expired: 1 } });
  const kept = await s.db
    .selectFrom('consents')
    .select(['id', 'renewed_from'])
    .where('id', '=', renewed.id)
    .executeTakeFirstOrThrow();
  t.equal(kept.renewed_from, null, 'the renewal stays; its link to the deleted consent is cleared');
});

t.test('two instances at once delete each consent once', async (t) => {
  const clock = fixedClock('2026-03-02T09:00:00Z');
  const s = await setup(t, { clock, jobs: false, env: { RETENTION_MONTHS: '1' } });
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    await cancelConsent(s.ctx, s.staff, { consentId: made.id });
    ids.push(made.id);
  }
  clock.set('2026-05-01T00:00:00Z');
  const instances = [createDb(s.databaseUrl, { max: 3 }), createDb(s.databaseUrl, { max: 3 })];
  t.teardown(() => Promise.all(instances.map((db) => db.destroy())));
  const runs = await Promise.all(
    instances.flatMap((db) => [1, 2].map(() => deleteDueConsents({ ...s.ctx, db }, { batch: 2 }))),
  );
  t.equal(
    runs.reduce((n, r) => n + r.deleted, 0),
    12,
    `12 deletions in all (${runs.map((r) => r.deleted).join(' + ')})`,
  );
  t.equal(await count(s.db, 'consents'), 0);
  t.equal(await count(s.db, 'consent_tombstones'), 12, 'one tombstone each');
  for (const id of ids) {
    const events = await listAuditEvents(s.db, id);
    t.equal(events.filter((e) => e.action === 'personal_data_deleted').length, 1, 'one deletion event');
  }
});

t.test(
  'setRetentionMonths: an unknown organisation is false; the database refuses out of range',
  async (t) => {
    const s = await setup(t, { jobs: false });
    t.notOk(await setRetentionMonths(s.db, '00000000-0000-4000-8000-000000000000', 12));
    await t.rejects(setRetentionMonths(s.db, s.organisationId, 0), /check constraint/);
    await t.rejects(setRetentionMonths(s.db, s.organisationId, 121), /check constraint/);
    t.ok(await setRetentionMonths(s.db, s.organisationId, null));
  },
);

t.test('the nightly job deletes what is due', async (t) => {
  const clock = fixedClock('2026-03-02T09:00:00Z');
  const s = await setup(t, { clock, env: { RETENTION_MONTHS: '1' } });
  const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await cancelConsent(s.ctx, s.staff, { consentId: made.id });
  clock.set('2026-04-02T22:00:00Z'); // 00:00 on 3 April (summer time): due
  t.same(await s.app.jobs.runNow('retention', { batchSize: 1 }), { deleted: 1, byOutcome: { cancelled: 1 } });
  t.equal(await count(s.db, 'consents'), 0);
});

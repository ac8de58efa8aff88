// The tamper-evident audit trail (issue 16 §2): every way of changing the log in plain SQL is found.
import { sql } from 'kysely';
import t from 'tap';
import { migrateDownOne, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { auditCheckpoint } from '../../src/jobs/audit-checkpoint.ts';
import type { JobContext } from '../../src/jobs/define.ts';
import { loadSigning } from '../../src/pdf/signing-setup.ts';
import {
  chainIds,
  checkpoint,
  kinds,
  setup,
  tamper,
  verify,
  writeBehind,
  writeEvents,
  writeLookup,
} from './audit-chain-helpers.ts';

const MIGRATION = '2026-12-07T1300-audit-chain';

t.test('an untouched trail verifies: PostgreSQL and the verifier agree on every hash', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 4);
  await writeEvents(s, null, 2);
  await Promise.all([writeBehind(s, s.consents[1]!), writeBehind(s, s.consents[1]!)]);
  await writeLookup(s, 0);
  await writeLookup(s, 2);
  const first = await verify(s);
  t.same(first.findings, []);
  t.equal(first.events, 10);
  t.equal(first.chains, 4, 'a consent chain each, one without a consent, the searches');
  const made = await checkpoint(s);
  t.equal(made.chains, 4);
  t.ok(made.timestamped, 'time-stamped by the development TSA');
  t.same((await checkpoint(s)).checkpointId, null, 'nothing grew: no new checkpoint');
  await writeEvents(s, s.consents[0]!, 1);
  t.equal((await checkpoint(s)).chains, 1, 'only the chain that grew');
  const after = await verify(s);
  t.same(after.findings, []);
  t.equal(after.checkpoints, 2);
});

t.test('an event changed is found', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 4);
  await checkpoint(s);
  const ids = await chainIds(s, s.consents[0]!);
  await tamper(s.url, `UPDATE audit_events SET action = 'withdrawn' WHERE id = $1`, [ids[1]]);
  const r = await verify(s);
  t.same(kinds(r), ['changed']);
  t.match(r.findings[0]!.message, new RegExp(`event ${ids[1]} .*changed`));
});

t.test('a search changed is found (the child_lookups chain)', async (t) => {
  const s = await setup(t);
  await writeLookup(s, 0);
  await writeLookup(s, 0);
  t.same((await verify(s)).findings, []);
  await tamper(s.url, `UPDATE child_lookups SET found = 3 WHERE id = (SELECT min(id) FROM child_lookups)`);
  t.same(kinds(await verify(s)), ['changed']);
});

t.test('an event removed is found, in the middle and at the end', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 4);
  await writeEvents(s, s.consents[1]!, 3);
  const a = await chainIds(s, s.consents[0]!);
  const b = await chainIds(s, s.consents[1]!);
  await tamper(s.url, `DELETE FROM audit_events WHERE id = $1`, [a[1]]);
  await tamper(s.url, `DELETE FROM audit_events WHERE id = $1`, [b[2]]);
  const r = await verify(s);
  t.same(kinds(r), ['removed']);
  t.equal(r.findings.length, 2);
  t.match(r.findings.map((f) => f.message).join('\n'), /removed before event .*\n.*removed from the end/s);
});

t.test(
  'an event inserted is found: a forged event with a valid hash, in the middle and at the end',
  async (t) => {
    const s = await setup(t);
    await writeEvents(s, s.consents[0]!, 3);
    const ids = await chainIds(s, s.consents[0]!);
    // A forgery that knows the encoding: a copy of event 2 saying something else, with its hash recomputed
    // for place 2 after event 1, then one appended after the last event.
    for (const [copyOf, place, after] of [
      [ids[1], 2, ids[0]],
      [ids[2], 4, ids[2]],
    ] as const) {
      const { rows } = await tamper(
        s.url,
        `INSERT INTO audit_events (consent_id, at, action, actor_type, actor_id, organisation_id, details,
         chain_seq, prev_hash, hash)
       SELECT consent_id, at, 'withdrawn', actor_type, actor_id, organisation_id, details, $2,
         (SELECT hash FROM audit_events WHERE id = $3), '\\x00'
       FROM audit_events WHERE id = $1 RETURNING id`,
        [copyOf, place, after],
      );
      await tamper(
        s.url,
        `UPDATE audit_events e SET hash = sha256(e.prev_hash || convert_to(audit_chain_field('audit_events/1')
         || audit_chain_field(e.chain_seq::text), 'UTF8') || audit_events_body(e)) WHERE id = $1`,
        [rows[0].id],
      );
    }
    const r = await verify(s);
    t.same(kinds(r), ['inserted']);
    t.equal(r.findings.length, 2);
    t.match(
      r.findings.map((f) => f.message).join('\n'),
      /claims place 2.*\n.*beyond the chain's recorded end/s,
    );
  },
);

t.test('events reordered are found', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 4);
  const ids = await chainIds(s, s.consents[0]!);
  await tamper(
    s.url,
    `UPDATE audit_events SET chain_seq = CASE WHEN id = $1 THEN 3 ELSE 2 END WHERE id IN ($1, $2)`,
    [ids[1], ids[2]],
  );
  const r = await verify(s);
  t.same(kinds(r), ['reordered']);
  t.equal(r.findings.length, 2);
  // Swapping the ids instead (the timeline's order) is found as well.
  await tamper(
    s.url,
    `UPDATE audit_events SET chain_seq = CASE WHEN id = $1 THEN 2 ELSE 3 END WHERE id IN ($1, $2)`,
    [ids[1], ids[2]],
  );
  t.same((await verify(s)).findings, [], 'put back');
  await tamper(s.url, `UPDATE audit_events SET id = -id WHERE id = $1`, [ids[1]]);
  await tamper(s.url, `UPDATE audit_events SET id = $1 WHERE id = $2`, [ids[1], ids[2]]);
  await tamper(s.url, `UPDATE audit_events SET id = $1 WHERE id = $2`, [ids[2], -ids[1]!]);
  t.same(kinds(await verify(s)), ['reordered']);
});

t.test('a chain missing since a checkpoint is found', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 2);
  await writeEvents(s, s.consents[1]!, 2);
  await checkpoint(s);
  // The intruder removes the whole chain and its head, so that no gap is left in what remains.
  await tamper(s.url, `DELETE FROM audit_events WHERE consent_id = $1`, [s.consents[1]]);
  await tamper(s.url, `DELETE FROM audit_chain_heads WHERE chain = $1`, [`audit_events:${s.consents[1]}`]);
  const r = await verify(s);
  t.same(kinds(r), ['chain_missing']);
  t.match(r.findings[0]!.message, /missing since checkpoint 1/);
});

t.test('a chain rewritten since a checkpoint is found, even when consistent in itself', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 2);
  await checkpoint(s);
  // Recompute the whole chain after changing its first event, and the head with it.
  const ids = await chainIds(s, s.consents[0]!);
  await tamper(s.url, `UPDATE audit_events SET action = 'withdrawn' WHERE id = $1`, [ids[0]]);
  for (const id of ids)
    await tamper(
      s.url,
      `UPDATE audit_events e SET
         prev_hash = coalesce((SELECT hash FROM audit_events p WHERE p.consent_id = e.consent_id
           AND p.chain_seq = e.chain_seq - 1), '\\x0000000000000000000000000000000000000000000000000000000000000000'),
         hash = sha256(coalesce((SELECT hash FROM audit_events p WHERE p.consent_id = e.consent_id
           AND p.chain_seq = e.chain_seq - 1), '\\x0000000000000000000000000000000000000000000000000000000000000000')
           || convert_to(audit_chain_field('audit_events/1') || audit_chain_field(e.chain_seq::text), 'UTF8')
           || audit_events_body(e))
       WHERE id = $1`,
      [id],
    );
  await tamper(
    s.url,
    `UPDATE audit_chain_heads h SET hash = e.hash FROM audit_events e
     WHERE e.id = $1 AND h.chain = 'audit_events:' || e.consent_id`,
    [ids[1]],
  );
  const r = await verify(s);
  t.same(kinds(r), ['changed']);
  t.match(r.findings[0]!.message, /rewritten since checkpoint 1/);
});

t.test('a checkpoint whose seal does not verify is found', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 1);
  await checkpoint(s);
  await writeEvents(s, s.consents[0]!, 1);
  await checkpoint(s);
  await writeEvents(s, s.consents[0]!, 1);
  await checkpoint(s);
  t.same((await verify(s)).findings, []);

  await tamper(s.url, `UPDATE audit_checkpoints SET signature = substring(signature from 2) WHERE id = 1`);
  let r = await verify(s);
  t.same(kinds(r), ['seal_invalid']);
  t.match(r.findings[0]!.message, /checkpoint 1: its signature does not verify/);

  await tamper(s.url, `UPDATE audit_checkpoint_heads SET seq = 1 WHERE checkpoint_id = 3`);
  r = await verify(s);
  t.match(r.findings.map((f) => f.message).join('\n'), /checkpoint 3: its chain heads were changed/);

  await tamper(
    s.url,
    `UPDATE audit_checkpoints SET timestamp_token = (SELECT timestamp_token FROM audit_checkpoints WHERE id = 1)
     WHERE id = 2`,
  );
  r = await verify(s);
  t.match(r.findings.map((f) => f.message).join('\n'), /checkpoint 2: its time stamp does not cover/);

  await tamper(s.url, `DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 2`);
  await tamper(s.url, `DELETE FROM audit_checkpoints WHERE id = 2`);
  r = await verify(s);
  t.ok(kinds(r).includes('checkpoint_missing'), 'a checkpoint removed');
});

t.test('a checkpoint sealed with a key that is not the service’s is found', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 1);
  const { generateKeyPairSync, sign } = await import('node:crypto');
  const { makeAuditCheckpoint } = await import('../../src/consents/audit-chain-seal.ts');
  const { readFile } = await import('node:fs/promises');
  const { pemBlocks } = await import('../../src/pdf/pki.ts');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificate = pemBlocks(await readFile(s.config.signing.caCertFile, 'utf8'), 'CERTIFICATE')[0]!;
  await makeAuditCheckpoint(s.db, {
    sealer: { certificate, hash: 'sha256', sign: async (d) => sign('sha256', d, privateKey) },
    clock: { now: () => new Date() },
  });
  t.same(kinds(await verify(s)), ['seal_invalid']);
});

t.test('the job seals a time-stamped checkpoint', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 2);
  const signing = await loadSigning(s.config);
  const ctx = {
    db: s.db,
    config: s.config,
    clock: { now: () => new Date() },
    signing,
  } as unknown as JobContext;
  const result = await auditCheckpoint.handler(auditCheckpoint.payload.parse({}), ctx);
  t.match(result, { checkpointId: 1, chains: 1, timestamped: true });
  t.same((await verify(s)).findings, []);
  await t.rejects(sql`UPDATE audit_checkpoints SET chains = 0`.execute(s.db), /append-only/);
  await t.rejects(sql`DELETE FROM audit_checkpoint_heads`.execute(s.db), /append-only/);
});

t.test('many writers into one chain at once: transactions, two instances and the write-behind', async (t) => {
  const s = await setup(t, 2);
  const { openDb } = await import('../helper.ts');
  const other = { ...s, db: openDb(t, s.url) };
  const [target, second] = [s.consents[0]!, s.consents[1]!];
  await Promise.all([
    ...Array.from({ length: 12 }, (_, i) => writeEvents(i % 2 ? other : s, target, 3)),
    ...Array.from({ length: 150 }, (_, i) => writeBehind(i % 3 ? s : other, i % 4 ? target : second)),
    ...Array.from({ length: 10 }, () => writeLookup(i2(s, other), 1)),
  ]);
  const { settleWriteBehind } = await import('../../src/db/write-behind.ts');
  await Promise.all([settleWriteBehind(s.db), settleWriteBehind(other.db)]);
  const places = await s.db
    .selectFrom('audit_events')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('chain_seq').as('max')])
    .where('consent_id', '=', target)
    .executeTakeFirstOrThrow();
  t.equal(Number(places.n), 36 + 112);
  t.equal(Number(places.max), Number(places.n), 'one place each, none twice');
  const r = await verify(s);
  t.same(r.findings, []);
  t.equal(r.events, 36 + 150 + 10);
});

let flip = false;
function i2<T>(a: T, b: T): T {
  flip = !flip;
  return flip ? a : b;
}

t.test('the migration chains the rows already there, in id order', async (t) => {
  const s = await setup(t);
  await writeEvents(s, s.consents[0]!, 2);
  while (!(await pendingMigrations(s.db)).includes(MIGRATION)) await migrateDownOne(s.db);
  const { appendAuditEvent } = await import('../../src/consents/audit.repository.ts');
  await appendAuditEvent(s.db, {
    consentId: s.consents[0]!,
    action: 'signed',
    actor: s.actor,
    at: new Date(),
  });
  await appendAuditEvent(s.db, { consentId: null, action: 'expired', actor: s.actor, at: new Date() });
  await sql`INSERT INTO child_lookups (at, actor_type, actor_id, organisation_ids, via, found)
    VALUES (now(), 'api_client', ${s.actor.clientId}, ARRAY[${s.actor.organisationId}]::uuid[], 'api', 0)`.execute(
    s.db,
  );
  await migrateToLatest(s.db);
  const ids = await chainIds(s, s.consents[0]!);
  t.same(
    ids,
    [...ids].sort((a, b) => a - b),
    'places follow the ids',
  );
  t.equal(ids.length, 3);
  const r = await verify(s);
  t.same(r.findings, []);
  t.equal(r.chains, 3);
});

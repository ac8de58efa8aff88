import { ENCRYPTED_TABLES, openJson, placeOf, sealJson } from '../../src/db/encrypted-columns.ts';
import { getLoadedConsent } from '../../src/consents/consent.repository.ts';
import { latestFormRevision } from '../../src/consents/documents.repository.ts';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import { getConsentStatus, recordStatusCheck } from '../../src/consents/consent-status.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { downloadConsentDocument } from '../../src/consents/download-document.ts';
import { endConsent } from '../../src/consents/end-consent.ts';
import { findConsentsByChild } from '../../src/consents/find-by-child.ts';
import { getConsent } from '../../src/consents/get-consent.ts';
import {
  findOwnConsent,
  listConsents,
  listConsentsForSigner,
  MAX_OWN_CONSENTS,
} from '../../src/consents/list-consents.ts';
import { renewConsent } from '../../src/consents/renew-consent.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { withdrawConsent } from '../../src/consents/withdraw-consent.ts';
import { closePdfWorkers } from '../../src/pdf/pdf-workers.ts';
import { localDateOf } from '../../src/domain/dates.ts';
import { familyRequest, nguyenRequest, type Setup, setup, signerActor } from '../fixtures/consents.ts';
import { personalNumberForms } from '../fixtures/people.ts';

async function activeNguyen(s: Setup, actor = s.staff) {
  const created = await createConsentRequest(s.ctx, actor, nguyenRequest(s));
  await signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
    confirmSoleGuardian: true,
  });
  await signConsent(s.ctx, signerActor('youth', s.person('minh-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
  });
  return created;
}

t.test('validation: every problem, with field paths, and never the number in a message', async (t) => {
  const s = await setup(t);
  const anna = s.person('anna-lindqvist');
  const elsa = s.person('elsa-lindqvist');
  const err = await createConsentRequest(s.ctx, s.staff, {
    teamId: s.teamId,
    child: { name: elsa.name, personalNumber: '20990101-1234' },
    guardians: [
      { name: anna.name, personalNumber: anna.personalNumber, email: 'inte-en-adress' },
      { name: 'Barn Som Vårdnadshavare', personalNumber: elsa.personalNumber },
    ],
    soleGuardian: false,
  }).catch((e) => e);
  t.equal(err.code, 'validation_failed');
  const fields = err.extra.errors.map((e: { field: string }) => e.field).sort();
  t.same(
    fields,
    ['child.personalNumber', 'guardians.0.email', 'guardians.1.email', 'guardians.1.personalNumber'],
    'a malformed e-mail and bad numbers in one answer (no second round)',
  );

  const err2 = await createConsentRequest(s.ctx, s.staff, {
    teamId: s.teamId,
    child: { name: elsa.name, personalNumber: '20990101-1234' },
    guardians: [
      { name: anna.name, personalNumber: anna.personalNumber, email: 'anna@hem.example' },
      { name: 'Barn Som Vårdnadshavare', personalNumber: elsa.personalNumber },
    ],
    soleGuardian: false,
  }).catch((e) => e);
  t.same(err2.extra.errors.map((e: { field: string }) => e.field).sort(), [
    'child.personalNumber',
    'guardians.1.email',
    'guardians.1.personalNumber',
  ]);
  const text = JSON.stringify(err2.extra) + err2.message;
  t.same(
    personalNumberForms(s.people).filter((n) => text.includes(n)),
    [],
    'no number in any message',
  );
  t.notMatch(text, /20990101/);

  const sole = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s),
    soleGuardian: true,
  }).catch((e) => e);
  t.same(
    sole.extra.errors.map((e: { field: string }) => e.field),
    ['guardians.1'],
  );
  const team = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s),
    teamId: s.otherTeamId,
  }).catch((e) => e);
  t.same(
    team.extra.errors.map((e: { field: string }) => e.field),
    ['teamId'],
    'the organisation must be in the team',
  );
  t.equal(
    await s.db
      .selectFrom('consents')
      .select('id')
      .execute()
      .then((r) => r.length),
    0,
    'nothing stored',
  );
});

t.test('validation: the team and the fields in one answer; the staff phone on the form', async (t) => {
  const s = await setup(t);
  const both = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s),
    teamId: s.otherTeamId,
    child: { name: 'Saga Lindqvist', personalNumber: '20990101-1234' },
    obtainedByPhone: 'ring mig',
  }).catch((e) => e);
  t.same(both.extra.errors.map((e: { field: string }) => e.field).sort(), [
    'child.personalNumber',
    'obtainedByPhone',
    'teamId',
  ]);

  const made = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s),
    obtainedByPhone: '090-12 34 56',
  });
  const stored = await getLoadedConsent(s.db, s.app.keys, made.id);
  t.equal(stored.consent.obtainedBy.phone, '090-12 34 56', 'obtainedBy.phone as given');
});

t.test(
  'forms rendered in a worker thread: stored as rendered; text the font lacks is a field error',
  async (t) => {
    const s = await setup(t, { env: { PDF_RENDER_THREADS: '1' } });
    t.teardown(closePdfWorkers);
    t.equal(s.ctx.config.pdfRenderThreads, 1);
    const bad = familyRequest(s);
    const err = await createConsentRequest(s.ctx, s.staff, {
      ...bad,
      guardians: [{ ...bad.guardians[0]!, name: 'Дмитрий Петров' }, ...bad.guardians.slice(1)],
    }).catch((e) => e);
    t.equal(err.code, 'validation_failed');
    t.same(
      err.extra.errors.map((e: { field: string }) => e.field),
      ['guardians.0.name'],
      "the renderer's field, named as in the request",
    );
    t.equal(
      Number(
        (
          await s.db
            .selectFrom('consents')
            .select((b) => b.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
      0,
      'nothing written',
    );

    const made = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
    const doc = await latestFormRevision(s.db, s.app.keys, made.id);
    t.equal(Buffer.from(doc.bytes).subarray(0, 5).toString('latin1'), '%PDF-');
    t.equal(createHash('sha256').update(doc.bytes).digest('hex'), doc.sha256, 'stored with its hash');
  },
);

t.test('Idempotency-Key: same key and body replays the first result; another body conflicts', async (t) => {
  const s = await setup(t);
  const body = familyRequest(s);
  const first = await createConsentRequest(s.ctx, s.staff, { ...body, idempotencyKey: 'key-1' });
  t.equal(first.replayed, false);
  const again = await createConsentRequest(s.ctx, s.staff, { ...body, idempotencyKey: 'key-1' });
  t.equal(again.id, first.id);
  t.equal(again.replayed, true);
  t.notOk(
    again.signers.some((x) => x.invitation),
    'links are shown once, never replayed',
  );
  await t.rejects(
    createConsentRequest(s.ctx, s.staff, {
      ...body,
      soleGuardian: true,
      guardians: body.guardians.slice(0, 1),
      idempotencyKey: 'key-1',
    }),
    { code: 'idempotency_conflict' },
  );
  const other = await createConsentRequest(s.ctx, s.client, { ...body, idempotencyKey: 'key-1' });
  t.not(other.id, first.id, 'keys are per caller');

  const together = await Promise.all(
    Array.from({ length: 5 }, () =>
      createConsentRequest(s.ctx, s.staff, { ...body, idempotencyKey: 'key-2' }),
    ),
  );
  t.equal(new Set(together.map((r) => r.id)).size, 1, 'concurrent retries make one consent');
  t.equal(together.filter((r) => !r.replayed).length, 1);
  const count = await s.db.selectFrom('consents').select('id').execute();
  t.equal(count.length, 3);

  s.clock.advance(25 * 3_600_000);
  const later = await createConsentRequest(s.ctx, s.staff, { ...body, idempotencyKey: 'key-1' });
  t.not(later.id, first.id, 'a key counts for 24 hours');
});

t.test(
  'renew: a new request prefilled from an ended consent; not twice while the first renewal waits',
  async (t) => {
    const s = await setup(t);
    const created = await activeNguyen(s);
    const pending = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    await t.rejects(renewConsent(s.ctx, s.staff, { consentId: pending.id }), {
      code: 'consent_state_conflict',
    });

    await endConsent(s.ctx, s.staff, { consentId: created.id, date: localDateOf(s.clock.now()) });
    const renewed = await renewConsent(s.ctx, s.staff, { consentId: created.id });
    t.equal(renewed.status, 'pending');
    t.equal(renewed.renewedFrom, created.id);
    t.same(
      renewed.signers.map((x) => [x.role, x.name]),
      [
        ['guardian1', 'Mai Nguyễn'],
        ['youth', 'Minh Nguyễn'],
      ],
    );
    t.ok(
      renewed.signers.every((x) => x.invitation),
      'new invitations',
    );
    await t.rejects(renewConsent(s.ctx, s.staff, { consentId: created.id }), {
      code: 'consent_state_conflict',
    });
    const old = await getConsent(s.ctx, created.id);
    t.same(old.renewedBy, [renewed.id]);
    t.equal(old.status, 'ended', 'the old one is left as it was');
    t.match(old.timeline.at(-1), { action: 'consent_renewed', details: { renewedBy: renewed.id } });

    const withdrawn = await activeNguyen(s);
    await withdrawConsent(s.ctx, signerActor('youth', s.person('minh-nguyen'), s.clock), {
      consentId: withdrawn.id,
    });
    await t.rejects(renewConsent(s.ctx, s.staff, { consentId: withdrawn.id }), {
      code: 'consent_state_conflict',
    });
  },
);

t.test('list: scope, status filter as statusAt computes it, keyset pages newest first', async (t) => {
  const s = await setup(t);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    s.clock.advance(60_000);
    ids.push((await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'))).id);
  }
  s.clock.advance(60_000);
  const active = await activeNguyen(s);
  ids.push(active.id);
  s.clock.advance(60_000);
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await listConsents(s.ctx, {
      scope: { organisationIds: [s.organisationId] },
      limit: 3,
      cursor,
    });
    pages.push(page.items.map((i) => i.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  t.same(pages.flat(), [...ids].reverse(), 'newest first, every consent once');
  t.equal(pages[0]!.length, 3);

  const onlyActive = await listConsents(s.ctx, {
    scope: { organisationIds: [s.organisationId] },
    status: 'active',
  });
  t.same(
    onlyActive.items.map((i) => i.id),
    [active.id],
  );
  const lapsed = new Date(active.requestExpiresAt.getTime() + 1);
  s.clock.set(lapsed);
  const expiredRequests = await listConsents(s.ctx, {
    scope: { teamIds: [s.teamId] },
    status: ['request_expired'],
  });
  t.equal(expiredRequests.items.length, 7, 'the pending ones lapsed by time alone');
  t.same(
    (await listConsents(s.ctx, { scope: { organisationIds: [s.organisationId] }, status: 'pending' })).items,
    [],
  );
  t.same(
    (await listConsents(s.ctx, { scope: { organisationIds: [s.otherOrganisationId] } })).items,
    [],
    'another organisation sees nothing',
  );
  t.same((await listConsents(s.ctx, { scope: {} })).items, []);
  const today = localDateOf(active.requestedAt);
  const byDate = await listConsents(s.ctx, {
    scope: { organisationIds: [s.organisationId] },
    requestedFrom: today,
    requestedTo: today,
    teamId: s.teamId,
    includeNames: true,
  });
  t.ok(byDate.items.length >= 1);
  t.ok(byDate.items.every((i) => typeof i.childName === 'string'));
  t.notOk(
    (await listConsents(s.ctx, { scope: { organisationIds: [s.organisationId] } })).items.some(
      (i) => 'childName' in i,
    ),
    'no names unless asked',
  );
  await t.rejects(
    listConsents(s.ctx, { scope: { organisationIds: [s.organisationId] }, cursor: 'nonsens' }),
    {
      code: 'validation_failed',
    },
  );

  const mine = await listConsentsForSigner(s.ctx, s.person('mai-nguyen').personalNumber);
  t.same(
    mine.map((m) => [m.id, m.role, m.state]),
    [[active.id, 'guardian1', 'signed']],
  );
});

/** Every consent copied from `originalId` in plain SQL gets the original's personal data sealed in its own place. */
async function resealCopies(s: Setup, originalId: string) {
  const copies = await s.db.selectFrom('consents').select('id').where('id', '!=', originalId).execute();
  for (const table of ENCRYPTED_TABLES.filter(
    (x) => x.table === 'consents' || x.table === 'consent_signers',
  )) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table.table)}
      WHERE ${sql.ref(table.key[0]!)} = ${originalId}`.execute(s.db);
    for (const row of rows.rows)
      for (const copy of copies) {
        const sets = table.columns
          .filter((c) => c.kind === 'text' && row[c.name] !== null)
          .map((c) => {
            const from = placeOf(
              table.table,
              c.name,
              table.key.map((k) => row[k]),
            );
            const to = placeOf(table.table, c.name, [copy.id, ...table.key.slice(1).map((k) => row[k])]);
            return sql`${sql.ref(c.name)} = ${s.app.keys.encryptText(s.app.keys.decryptText(row[c.name] as string, from), to)}`;
          });
        const json = table.columns.filter((c) => c.kind === 'json');
        for (const c of json) {
          const from = placeOf(
            table.table,
            c.name,
            table.key.map((k) => row[k]),
          );
          const to = placeOf(table.table, c.name, [copy.id]);
          sets.push(
            sql`${sql.ref(c.name)} = ${sealJson(s.app.keys, to, openJson(s.app.keys, from, row[c.name]))}::jsonb`,
          );
        }
        await sql`UPDATE ${sql.table(table.table)} SET ${sql.join(sets)}
          WHERE ${sql.ref(table.key[0]!)} = ${copy.id}
          ${table.key[1] ? sql`AND ${sql.ref(table.key[1])} = ${row[table.key[1]]}` : sql``}`.execute(s.db);
      }
  }
}

t.test("a signer's own consent is found by its id however many they have", async (t) => {
  const s = await setup(t);
  const mai = s.person('mai-nguyen').personalNumber;
  const oldest = await activeNguyen(s);
  // MAX_OWN_CONSENTS newer copies of it (plain SQL: the list shows only the newest of them).
  await sql`
    WITH copies AS (SELECT gen_random_uuid() AS id, g FROM generate_series(1, ${MAX_OWN_CONSENTS}) g),
    consents_in AS (
      INSERT INTO consents
      SELECT (jsonb_populate_record(NULL::consents, to_jsonb(c) || jsonb_build_object(
        'id', k.id, 'requested_at', c.requested_at + make_interval(secs => k.g)))).*
      FROM consents c, copies k WHERE c.id = ${oldest.id}
    )
    INSERT INTO consent_signers
    SELECT (jsonb_populate_record(NULL::consent_signers, to_jsonb(x) || jsonb_build_object('consent_id', k.id))).*
    FROM consent_signers x, copies k WHERE x.consent_id = ${oldest.id}`.execute(s.db);
  // The copies' personal data, encrypted again in their own rows (a value is bound to its row).
  await resealCopies(s, oldest.id);
  const list = await listConsentsForSigner(s.ctx, mai);
  t.equal(list.length, MAX_OWN_CONSENTS, 'the list holds the newest');
  t.notOk(
    list.some((c) => c.id === oldest.id),
    'the oldest is not in the list',
  );
  const own = await findOwnConsent(s.ctx, mai, oldest.id);
  t.match(own?.item, { id: oldest.id, role: 'guardian1', state: 'signed', status: 'active' });
  t.equal(own?.signer.role, 'guardian1');
  t.equal(
    (await findOwnConsent(s.ctx, s.person('minh-nguyen').personalNumber, oldest.id))?.item.role,
    'youth',
  );
  t.equal(
    await findOwnConsent(s.ctx, s.person('anna-lindqvist').personalNumber, oldest.id),
    undefined,
    'not theirs',
  );
  t.equal(
    await findOwnConsent(s.ctx, mai, '00000000-0000-4000-8000-000000000000'),
    undefined,
    'no such consent',
  );
  t.equal(await findOwnConsent(s.ctx, mai, 'inte-ett-id'), undefined, 'not an id');
});

t.test('status checks and look-ups by child are audited; downloads too', async (t) => {
  const s = await setup(t);
  const created = await activeNguyen(s);
  const status = await getConsentStatus(s.ctx, created.id);
  t.match(status, { id: created.id, status: 'active', organisationId: s.organisationId, teamId: s.teamId });
  await recordStatusCheck(s.db, status, s.client, 'req-1');
  const bySearcher = (actor: typeof s.client | typeof s.otherStaff) => ({
    actor:
      actor.type === 'api_client'
        ? { type: 'api_client' as const, id: actor.clientId }
        : { type: 'staff' as const, id: actor.staffId },
    organisationIds: [actor.organisationId],
    via: 'api' as const,
  });
  const found = await findConsentsByChild(s.ctx, bySearcher(s.client), {
    childPersonalNumber: s.person('minh-nguyen').personalNumber,
    scope: { organisationIds: [s.organisationId] },
    shownAs: () => s.client,
    requestId: 'req-2',
  });
  t.same(!found.refused && found.consents.map((c) => [c.id, c.status]), [[created.id, 'active']]);
  const none = await findConsentsByChild(s.ctx, bySearcher(s.otherStaff), {
    childPersonalNumber: s.person('minh-nguyen').personalNumber,
    scope: { organisationIds: [s.otherOrganisationId], teamIds: [s.otherTeamId] },
    shownAs: () => s.otherStaff,
  });
  t.same(!none.refused && none.consents, [], 'not outside the scope');
  await t.rejects(
    findConsentsByChild(s.ctx, bySearcher(s.client), {
      childPersonalNumber: '123',
      scope: { organisationIds: [s.organisationId] },
      shownAs: () => s.client,
    }),
    { code: 'validation_failed' },
  );
  const doc = await downloadConsentDocument(s.ctx, s.staff, { consentId: created.id, kind: 'form' });
  t.equal(doc.revision, 2);
  t.match(doc.fileName, /^samtycke-[0-9a-f]{8}\.pdf$/);
  const receipt = await downloadConsentDocument(s.ctx, s.staff, { consentId: created.id, kind: 'receipt' });
  t.match(receipt.fileName, /kvittens/);
  const pending = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await t.rejects(downloadConsentDocument(s.ctx, s.staff, { consentId: pending.id, kind: 'receipt' }), {
    code: 'not_found',
  });

  const events = await listAuditEvents(s.db, created.id);
  const looked = events.filter((e) =>
    ['status_checked', 'looked_up_by_child', 'document_downloaded'].includes(e.action),
  );
  t.same(
    looked.map((e) => [e.action, e.actor.type, e.requestId]),
    [
      ['status_checked', 'api_client', 'req-1'],
      ['looked_up_by_child', 'api_client', 'req-2'],
      ['document_downloaded', 'staff', null],
      ['document_downloaded', 'staff', null],
    ],
  );
  const details = await getConsent(s.ctx, created.id);
  t.notOk(
    details.timeline.some((e) => e.action === 'status_checked'),
    'look-ups stay out of the timeline',
  );
});

t.test('the audit trail is append-only', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await t.rejects(s.db.updateTable('audit_events').set({ action: 'x' }).execute(), /append-only/);
  await t.rejects(
    s.db.deleteFrom('audit_events').where('consent_id', '=', created.id).execute(),
    /append-only/,
  );
  const { sql } = await import('kysely');
  await t.rejects(sql`TRUNCATE audit_events`.execute(s.db), /append-only/);
});

// Key rotation (src/db/key-rotation.ts, issue 16 §1): data written through the use cases under one key is
// re-encrypted under the next, and the service with only the new key reads all of it back; blind indexes
// follow a new blind index key; plain values get sealed; a row another writer changed meanwhile is never
// overwritten (it is skipped, and the next run finishes it); batches cover every row and a dry run changes
// nothing; the figures hold no personal data.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { consentsOfChild, consentsOfSigner } from '../../src/consents/consent-lists.repository.ts';
import { consentContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { downloadConsentDocument } from '../../src/consents/download-document.ts';
import { type ConsentDetails, getConsent } from '../../src/consents/get-consent.ts';
import { ENCRYPTED_TABLES, placeOf } from '../../src/db/encrypted-columns.ts';
import { type KeyRing, LocalKeyRing } from '../../src/db/encryption.ts';
import type { Db } from '../../src/db/index.ts';
import { keyUsage } from '../../src/db/key-usage.ts';
import { type Rotation, rotateKeys } from '../../src/db/key-rotation.ts';
import { createSession, findActiveSession, sha256 } from '../../src/identity/sessions.ts';
import { lindqvistConsents, nguyenRequest, type Setup, setup } from '../fixtures/consents.ts';
import { personalDataIn } from '../fixtures/people.ts';
import { build } from '../helper.ts';

const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const K1 = newKey('k1');
const K2 = newKey('k2');
const B1 = newKey('b1');
const B2 = newKey('b2');
const env = (keys: string, blind: string) => ({ ENCRYPTION_KEYS: keys, BLIND_INDEX_KEY: blind });
const ring = (keys: string, blind: string) => LocalKeyRing.fromSettings(keys, blind);
const TIMEOUTS = { idleMinutes: 60, absoluteHours: 8 };

/** Every stored value of the registry's columns, as plain SQL sees it: `table.column` → key id or 'plain'. */
async function storedKeyIds(db: Db): Promise<Map<string, Map<string, number>>> {
  const found = new Map<string, Map<string, number>>();
  const add = (place: string, id: string) => {
    const ids = found.get(place) ?? new Map<string, number>();
    ids.set(id, (ids.get(id) ?? 0) + 1);
    found.set(place, ids);
  };
  for (const table of ENCRYPTED_TABLES) {
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table.table)}`.execute(db);
    for (const row of rows) {
      for (const c of table.columns) {
        const v = row[c.name];
        if (v === null) continue;
        const id = Buffer.isBuffer(v)
          ? v.subarray(0, 5).toString('latin1') === 'SENC1'
            ? v.subarray(6, 6 + v[5]!).toString('latin1')
            : 'plain'
          : typeof v === 'string'
            ? (/^enc:v1:([^:]+):/.exec(v)?.[1] ?? 'plain')
            : 'plain';
        add(`${table.table}.${c.name}`, id);
      }
      for (const i of table.blindIndexes)
        add(`${table.table}.${i.index}`, String(row[i.index]).split(':')[0]!);
    }
  }
  return found;
}

/** The key ids found, over all columns (or over the blind indexes). */
const idsIn = (found: Map<string, Map<string, number>>, indexes: boolean) => {
  const names = new Set(ENCRYPTED_TABLES.flatMap((t) => t.blindIndexes.map((i) => `${t.table}.${i.index}`)));
  return [
    ...new Set(
      [...found].filter(([place]) => names.has(place) === indexes).flatMap(([, ids]) => [...ids.keys()]),
    ),
  ].sort();
};

/** How many values (or indexes) are under `id`. */
const countOf = (found: Map<string, Map<string, number>>, id: string, indexes: boolean) => {
  const names = new Set(ENCRYPTED_TABLES.flatMap((t) => t.blindIndexes.map((i) => `${t.table}.${i.index}`)));
  return [...found]
    .filter(([place]) => names.has(place) === indexes)
    .reduce((n, [, ids]) => n + (ids.get(id) ?? 0), 0);
};

/** What a consent shows that was stored encrypted. */
const readable = (d: ConsentDetails) => ({
  child: d.child,
  obtainedBy: d.obtainedBy,
  signers: d.signers,
  status: d.status,
});

const totals = (r: Rotation) => {
  const values = r.tables.flatMap((t) => Object.values(t.columns));
  const indexes = r.tables.flatMap((t) => Object.values(t.indexes));
  const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
  return {
    reencrypted: sum(values.map((f) => f.reencrypted)),
    sealed: sum(values.map((f) => f.sealed)),
    current: sum(values.map((f) => f.current)),
    skipped: sum(values.map((f) => f.skipped)) + sum(indexes.map((f) => f.skipped)),
    unreadable: sum(values.map((f) => f.unreadable)) + sum(indexes.map((f) => f.unreadable)),
    recomputed: sum(indexes.map((f) => f.recomputed)),
    indexesCurrent: sum(indexes.map((f) => f.current)),
    rows: sum(r.tables.map((t) => t.rows)),
  };
};

/** A signer's session (personal number and name, sealed under `keys`). */
async function signerSession(s: Setup, keys: KeyRing, who = 'mai-nguyen') {
  const p = s.person(who);
  return createSession(
    s.db,
    keys,
    {
      audience: 'signer',
      staffId: null,
      personalNumber: p.personalNumber,
      name: p.name,
      issuer: 'http://localhost:3000/dev-idp',
      subject: p.personalNumber,
      acr: null,
      authTime: s.clock.now(),
    },
    { now: s.clock.now(), absoluteHours: 8 },
  );
}

t.test(
  'written under k1, rotated to k2: all under k2, and the service with k2 alone reads it back',
  async (t) => {
    const s = await setup(t, { env: env(K1, B1), jobs: false });
    const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    const lindqvist = await lindqvistConsents(s.app, s).active();
    const session = await signerSession(s, s.app.keys);
    const before = await storedKeyIds(s.db);
    t.same(idsIn(before, false), ['k1'], 'everything written under k1');
    t.same(idsIn(before, true), ['b1']);
    const pdfBefore = await downloadConsentDocument(s.ctx, s.staff, {
      consentId: lindqvist.id,
      kind: 'form',
    });
    const detailsBefore = readable(await getConsent(s.ctx, lindqvist.id));
    const usageBefore = await keyUsage(s.db);
    t.ok(
      usageBefore.columns.every((c) => Object.keys(c.byKey).every((id) => id === 'k1') && c.plain === 0),
      'status: k1 only',
    );

    const rotation = await rotateKeys(s.db, ring(`${K2},${K1}`, B1));
    const figures = totals(rotation);
    t.equal(rotation.keyId, 'k2');
    t.equal(rotation.blindKeyId, 'b1');
    t.equal(figures.reencrypted, countOf(before, 'k1', false), 'every value re-encrypted');
    t.match(figures, { sealed: 0, current: 0, skipped: 0, unreadable: 0, recomputed: 0 });
    t.equal(figures.indexesCurrent, countOf(before, 'b1', true), 'the blind indexes stay');
    t.ok(figures.indexesCurrent >= 7, 'two consents, five signers');

    const after = await storedKeyIds(s.db);
    t.same(idsIn(after, false), ['k2'], 'plain SQL: every value under k2');
    t.same(idsIn(after, true), ['b1']);
    const usage = await keyUsage(s.db);
    t.ok(
      usage.columns.every((c) => Object.keys(c.byKey).every((id) => id === 'k2')),
      'status: k2 only',
    );

    // The service with k2 only: the old key can go.
    const b = await build(t, { databaseUrl: s.databaseUrl, env: env(K2, B1), clock: s.clock });
    const ctx = consentContext(b.app);
    t.same(readable(await getConsent(ctx, lindqvist.id)), detailsBefore, 'the consent reads the same');
    const pdf = await downloadConsentDocument(ctx, s.staff, { consentId: lindqvist.id, kind: 'form' });
    t.ok(Buffer.from(pdf.bytes).equals(Buffer.from(pdfBefore.bytes)), 'the PDF reads the same');
    await downloadConsentDocument(ctx, s.staff, { consentId: lindqvist.id, kind: 'receipt' });
    t.ok(await getConsent(ctx, made.id));
    const found = await findActiveSession(b.db, b.app.keys, session.id, s.clock.now(), TIMEOUTS);
    t.equal(found?.name, s.person('mai-nguyen').name, 'the session reads back');
    const mine = await consentsOfSigner(b.db, b.app.keys, s.person('mai-nguyen').personalNumber, 10);
    t.same(
      mine.map((m) => m.consent.id),
      [made.id],
      'a look-up by personal number still finds it',
    );

    const again = totals(await rotateKeys(s.db, ring(`${K2},${K1}`, B1)));
    t.match(
      again,
      { reencrypted: 0, sealed: 0, skipped: 0, recomputed: 0 },
      'a second run finds nothing to do',
    );
    t.equal(again.current, figures.reencrypted);

    t.same(personalDataIn(JSON.stringify(rotation), s.people), [], 'no personal data in the figures');
    t.notOk(JSON.stringify([rotation, usage]).includes('enc:v1'), 'no stored value in the figures');
  },
);

t.test('a new blind index key: the indexes are recomputed and look-ups find the consent again', async (t) => {
  const s = await setup(t, { env: env(K1, B1), jobs: false });
  const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const minh = s.person('minh-nguyen').personalNumber;
  const scope = { organisationIds: [s.organisationId], teamIds: [] };
  const newRing = ring(K1, B2);
  t.same(await consentsOfChild(s.db, newRing, minh, scope, 10), [], 'under the new key, not found yet');

  const rotation = await rotateKeys(s.db, newRing);
  t.equal(rotation.blindKeyId, 'b2');
  t.match(totals(rotation), { reencrypted: 0, sealed: 0, recomputed: 3, indexesCurrent: 0 });
  t.same(rotation.tables.find((x) => x.table === 'consents')?.indexes, {
    child_personal_number_index: { recomputed: 1, current: 0, skipped: 0, unreadable: 0 },
  });
  t.same(idsIn(await storedKeyIds(s.db), true), ['b2']);
  const found = await consentsOfChild(s.db, newRing, minh, scope, 10);
  t.same(
    found.map((c) => c.id),
    [made.id],
    'found by the child’s number',
  );
  const mai = await consentsOfSigner(s.db, newRing, s.person('mai-nguyen').personalNumber, 10);
  t.same(
    mai.map((m) => m.consent.id),
    [made.id],
    'found by the signer’s number',
  );
  const usage = await keyUsage(s.db);
  t.same(
    usage.indexes.map((i) => [i.index, i.byKey, i.missing]),
    [
      ['child_personal_number_index', { b2: 1 }, 0],
      ['personal_number_index', { b2: 2 }, 0],
    ],
  );
});

t.test('plain values are sealed; values that cannot be read are counted and left', async (t) => {
  const s = await setup(t, { env: env(K1, B1), jobs: false });
  const made = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const keys = ring(K1, B1);
  const pdf = Buffer.from('%PDF-1.7\nnot encrypted\n%%EOF\n');
  await sql`UPDATE consents SET withdrawal_note = 'Ringde in', obtained_by = ${JSON.stringify({ name: 'Karin Holm' })}::jsonb
    WHERE id = ${made.id}`.execute(s.db);
  await sql`UPDATE consent_documents SET pdf = ${pdf} WHERE consent_id = ${made.id}`.execute(s.db);
  // Edge shapes: as LocalKeyRing.keyIdOf reads them, so as status counts them.
  const session = await signerSession(s, keys);
  const edge = ['enc:v1:', 'enc:v1:k1', 'enc:v1:bad id:x', 'enc:v1:k1:notaciphertext', 'enc:v1:k9:x'];
  const hashes: string[] = [];
  for (const [n, value] of edge.entries()) {
    const hash = sha256(`edge-${n}`);
    hashes.push(hash);
    await sql`INSERT INTO sessions (id_hash, audience, name, issuer, subject, csrf_token, expires_at)
      VALUES (${hash}, 'signer', ${value}, 'x', 'x', 'x', now() + interval '1 hour')`.execute(s.db);
  }
  const usage = await keyUsage(s.db);
  const names = usage.columns.find((c) => c.table === 'sessions' && c.column === 'name')!;
  const expected = { plain: 0, byKey: {} as Record<string, number> };
  for (const v of [...edge, keys.encryptText('x', placeOf('sessions', 'name', [session.session.idHash]))]) {
    const id = keys.keyIdOf(v);
    if (id === undefined) expected.plain++;
    else expected.byKey[id] = (expected.byKey[id] ?? 0) + 1;
  }
  t.same({ plain: names.plain, byKey: names.byKey }, expected, 'status reads key ids as the key ring does');
  t.same(usage.columns.find((c) => c.column === 'pdf')?.plain, 1, 'a plain PDF counted as plain');

  const rotation = await rotateKeys(s.db, ring(`${K2},${K1}`, B1));
  const consents = rotation.tables.find((x) => x.table === 'consents')!;
  t.match(consents.columns.withdrawal_note, { sealed: 1, reencrypted: 0 });
  t.match(consents.columns.obtained_by, { sealed: 1, reencrypted: 0 });
  t.match(rotation.tables.find((x) => x.table === 'consent_documents')!.columns.pdf, { sealed: 1 });
  // 'enc:v1:', 'enc:v1:k1' and 'enc:v1:bad id:x' are not encrypted values: sealed as the text they are.
  t.match(rotation.tables.find((x) => x.table === 'sessions')!.columns.name, {
    sealed: 3,
    reencrypted: 1,
    unreadable: 2,
  });

  const b = await build(t, { databaseUrl: s.databaseUrl, env: env(K2, B1), clock: s.clock });
  const ctx = consentContext(b.app);
  t.same((await getConsent(ctx, made.id)).obtainedBy, { name: 'Karin Holm' }, 'the jsonb value');
  const note = await sql<{ withdrawal_note: string }>`SELECT withdrawal_note FROM consents`.execute(s.db);
  t.equal(
    b.app.keys.decryptText(note.rows[0]!.withdrawal_note, placeOf('consents', 'withdrawal_note', [made.id])),
    'Ringde in',
  );
  const doc = await downloadConsentDocument(ctx, s.staff, { consentId: made.id, kind: 'form' });
  t.ok(Buffer.from(doc.bytes).equals(pdf), 'the PDF');
  const stored = await sql<{ id_hash: string; name: string }>`SELECT id_hash, name FROM sessions`.execute(
    s.db,
  );
  const byHash = new Map(stored.rows.map((r) => [r.id_hash, r.name]));
  t.equal(
    b.app.keys.decryptText(byHash.get(hashes[2]!)!, placeOf('sessions', 'name', [hashes[2]!])),
    'enc:v1:bad id:x',
  );
  t.equal(byHash.get(hashes[3]!), 'enc:v1:k1:notaciphertext', 'unreadable: left as it was');
  t.equal(byHash.get(hashes[4]!), 'enc:v1:k9:x');
  t.equal(totals(await rotateKeys(s.db, ring(`${K2},${K1}`, B1), { dryRun: true })).unreadable, 2, 'still');
});

/** Waits until a statement of this database waits for a lock (the rotation behind the test's locks). */
async function waitForLockWait(db: Db) {
  for (let i = 0; i < 500; i++) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE%'`.execute(db);
    if (rows[0]!.n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the rotation never waited for the locked rows');
}

t.test(
  'a row changed, re-keyed or deleted meanwhile is skipped, not overwritten; the next run finishes',
  async (t) => {
    const s = await setup(t, { env: env(K1, B1), jobs: false });
    const k1 = ring(K1, B1);
    const changed = await signerSession(s, k1, 'mai-nguyen');
    const rekeyed = await signerSession(s, k1, 'anna-lindqvist');
    const deleted = await signerSession(s, k1, 'erik-lindqvist');
    const untouched = await signerSession(s, k1, 'saga-lindqvist');
    const hash = (x: { session: { idHash: string } }) => x.session.idHash;

    const other = new pg.Client({ connectionString: s.databaseUrl });
    await other.connect();
    t.teardown(() => other.end());
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM sessions WHERE id_hash = ANY($1) FOR UPDATE', [
      [hash(changed), hash(rekeyed), hash(deleted)],
    ]);
    const rotating = rotateKeys(s.db, ring(`${K2},${K1}`, B1));
    await waitForLockWait(s.db);
    // Meanwhile: a new name written (under k1, by an instance not restarted yet), a re-authentication (a new
    // id hash, the values sealed again in their new place), a log-out that deleted the session.
    const newName = k1.encryptText('Mai Nguyễn Test', placeOf('sessions', 'name', [hash(changed)]));
    await other.query('UPDATE sessions SET name = $1 WHERE id_hash = $2', [newName, hash(changed)]);
    const newHash = sha256('re-authenticated');
    const at = (column: string) => placeOf('sessions', column, [newHash]);
    const anna = s.person('anna-lindqvist');
    await other.query(
      'UPDATE sessions SET id_hash = $1, name = $2, personal_number = $3 WHERE id_hash = $4',
      [
        newHash,
        k1.encryptText(anna.name, at('name')),
        k1.encryptText(anna.personalNumber, at('personal_number')),
        hash(rekeyed),
      ],
    );
    await other.query('DELETE FROM sessions WHERE id_hash = $1', [hash(deleted)]);
    await other.query('COMMIT');

    const first = (await rotating).tables.find((x) => x.table === 'sessions')!;
    t.same(first.columns.name, { reencrypted: 1, sealed: 0, current: 0, skipped: 3, unreadable: 0 });
    t.same(first.columns.personal_number, {
      reencrypted: 1,
      sealed: 0,
      current: 0,
      skipped: 3,
      unreadable: 0,
    });
    const names = await sql<{ id_hash: string; name: string }>`SELECT id_hash, name FROM sessions`.execute(
      s.db,
    );
    t.equal(
      names.rows.find((r) => r.id_hash === hash(changed))?.name,
      newName,
      'the new name stays as written',
    );
    t.equal(names.rows.length, 3, 'the deleted session stays deleted');
    t.match(names.rows.find((r) => r.id_hash === hash(untouched))?.name, /^enc:v1:k2:/);

    const second = (await rotateKeys(s.db, ring(`${K2},${K1}`, B1))).tables.find(
      (x) => x.table === 'sessions',
    )!;
    t.same(second.columns.name, { reencrypted: 2, sealed: 0, current: 1, skipped: 0, unreadable: 0 });
    t.same(idsIn(await storedKeyIds(s.db), false), ['k2']);
    const k2 = ring(K2, B1);
    const mai = await sql<{
      name: string;
    }>`SELECT name FROM sessions WHERE id_hash = ${hash(changed)}`.execute(s.db);
    t.equal(
      k2.decryptText(mai.rows[0]!.name, placeOf('sessions', 'name', [hash(changed)])),
      'Mai Nguyễn Test',
    );
    const re = await sql<{ name: string }>`SELECT name FROM sessions WHERE id_hash = ${newHash}`.execute(
      s.db,
    );
    t.equal(k2.decryptText(re.rows[0]!.name, at('name')), anna.name, 'the re-authenticated session');
  },
);

t.test(
  'batches of 2 cover every row; a dry run changes nothing; an abort stops between batches',
  async (t) => {
    const s = await setup(t, { env: env(K1, B1), jobs: false });
    for (let i = 0; i < 3; i++) await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
    for (let i = 0; i < 5; i++) await signerSession(s, s.app.keys);
    const count = async (table: string) =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(s.db)).rows[0]!.n;
    const rows = Object.fromEntries(
      await Promise.all(ENCRYPTED_TABLES.map(async (x) => [x.table, await count(x.table)] as const)),
    );
    t.ok(rows.consent_signers! >= 5 && rows.sessions === 5, 'more rows than a batch');
    const k2 = ring(`${K2},${K1}`, B1);
    const snapshot = async () =>
      JSON.stringify(
        await Promise.all(
          ENCRYPTED_TABLES.map(
            async (x) =>
              (
                await sql`SELECT * FROM ${sql.table(x.table)} ORDER BY ${sql.join(x.key.map((k) => sql.ref(k)))}`.execute(
                  s.db,
                )
              ).rows,
          ),
        ),
      );

    const before = await snapshot();
    const dry = await rotateKeys(s.db, k2, { dryRun: true, batchSize: 2, bytesBatchSize: 1 });
    t.equal(dry.dryRun, true);
    t.equal(await snapshot(), before, 'a dry run changes nothing');

    const controller = new AbortController();
    const stopped = await rotateKeys(s.db, k2, {
      batchSize: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    t.equal(stopped.aborted, true);
    t.same(
      stopped.tables.map((x) => [x.table, x.rows]),
      [['consents', 2]],
      'stopped after the first batch',
    );

    const progress: { table: string; rows: number }[] = [];
    const run = await rotateKeys(s.db, k2, {
      batchSize: 2,
      bytesBatchSize: 1,
      onProgress: (p) => progress.push(p),
    });
    t.same(
      Object.fromEntries(run.tables.map((x) => [x.table, x.rows])),
      rows,
      'every row of every table scanned',
    );
    for (const x of ENCRYPTED_TABLES) {
      const mine = progress.filter((p) => p.table === x.table).map((p) => p.rows);
      const size = x.table === 'consent_documents' ? 1 : 2;
      t.same(
        mine,
        Array.from({ length: Math.ceil(rows[x.table]! / size) }, (_, n) =>
          Math.min((n + 1) * size, rows[x.table]!),
        ),
        `${x.table} in batches of ${size}`,
      );
    }
    const dryFigures = totals(dry);
    const runFigures = totals(run);
    t.equal(
      runFigures.reencrypted + runFigures.current,
      dryFigures.reencrypted,
      'the dry run counted what the run did',
    );
    t.same(idsIn(await storedKeyIds(s.db), false), ['k2']);
    t.ok(run.ms >= 0 && run.tables.every((x) => x.ms >= 0));
    await t.rejects(rotateKeys(s.db, k2, { batchSize: 0 }), RangeError);
  },
);

// The migration that encrypts what is already stored (migrations/2026-12-08T1000-encryption.ts): rows
// written in plain text before it are encrypted in their place, read back by the service's key ring (the
// frozen copy of the format and the service's agree), found by the blind index, and a value already
// encrypted is left as it was. With the development keys, and with keys from ENCRYPTION_KEYS.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import type { Test } from 'tap';
import { getLoadedConsent } from '../../src/consents/consent.repository.ts';
import { consentsOfChild, consentsOfSigner } from '../../src/consents/consent-lists.repository.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { listFormRevisions } from '../../src/consents/documents.repository.ts';
import { migrateDownOne, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { createSession, findActiveSession } from '../../src/identity/sessions.ts';
import { familyRequest, setup } from '../fixtures/consents.ts';

const MIGRATION = '2026-12-08T1000-encryption';
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/** While `fn` runs, the process environment has these settings (migrations read the keys from it). */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function migrationEncryptsStoredRows(t: Test, env: Record<string, string>) {
  const s = await setup(t, { env, jobs: false });
  const input = familyRequest(s);
  const made = await createConsentRequest(s.ctx, s.staff, input);
  const anna = s.person('anna-lindqvist');
  const { id: sessionId } = await createSession(
    s.db,
    s.app.keys,
    {
      audience: 'signer',
      staffId: null,
      personalNumber: anna.personalNumber,
      name: anna.name,
      issuer: 'test',
      subject: 'anna',
      acr: null,
      authTime: null,
    },
    { now: s.clock.now(), absoluteHours: 8 },
  );
  const [form] = await listFormRevisions(s.db, s.app.keys, made.id);

  // Back to before the migration, and the rows as the service wrote them then: in plain text.
  while (!(await pendingMigrations(s.db)).includes(MIGRATION)) await migrateDownOne(s.db);
  const sealedEmail = (
    await s.db
      .selectFrom('consent_signers')
      .select('email')
      .where('consent_id', '=', made.id)
      .where('role', '=', 'guardian2')
      .executeTakeFirstOrThrow()
  ).email;
  await sql`UPDATE consents SET child_name = ${input.child.name},
      child_personal_number = ${input.child.personalNumber}, child_personal_number_index = NULL,
      obtained_by = ${JSON.stringify({ name: 'Karin Holm', phone: '090-17 60 00' })}::jsonb,
      end_note = 'Flyttat'
    WHERE id = ${made.id}`.execute(s.db);
  for (const [i, g] of input.guardians.entries())
    await sql`UPDATE consent_signers SET name = ${g.name}, personal_number = ${g.personalNumber},
        personal_number_index = NULL, phone = ${g.phone ?? null}
        ${i === 0 ? sql`, email = ${g.email ?? null}` : sql``}
      WHERE consent_id = ${made.id} AND role = ${i === 0 ? 'guardian1' : 'guardian2'}`.execute(s.db);
  await sql`UPDATE consent_signers SET name = ${input.child.name},
      personal_number = ${input.child.personalNumber}, personal_number_index = NULL
    WHERE consent_id = ${made.id} AND role = 'youth'`.execute(s.db);
  await sql`UPDATE consent_documents SET pdf = ${Buffer.from(form!.bytes)} WHERE consent_id = ${made.id}`.execute(
    s.db,
  );
  await sql`UPDATE sessions SET personal_number = ${anna.personalNumber}, name = ${anna.name}`.execute(s.db);
  const plain = await sql<{ n: number }>`SELECT count(*)::int AS n FROM consents
    WHERE child_name = ${input.child.name}`.execute(s.db);
  t.equal(plain.rows[0]!.n, 1, 'the child is stored in plain text before the migration');

  await withEnv(env, () => migrateToLatest(s.db));
  t.same(await pendingMigrations(s.db), []);

  // Nothing readable is left, and every value is under the current key.
  const keyId = s.app.keys.currentKeyId;
  const consent = await s.db
    .selectFrom('consents')
    .select(['child_name', 'child_personal_number', 'child_personal_number_index', 'end_note'])
    .select(sql<string>`obtained_by #>> '{}'`.as('obtained_by'))
    .where('id', '=', made.id)
    .executeTakeFirstOrThrow();
  for (const column of ['child_name', 'child_personal_number', 'obtained_by', 'end_note'] as const)
    t.match(consent[column], new RegExp(`^enc:v1:${keyId}:`), `consents.${column} encrypted`);
  t.equal(consent.child_personal_number_index, s.app.keys.blindIndex(input.child.personalNumber));
  const signers = await s.db
    .selectFrom('consent_signers')
    .selectAll()
    .where('consent_id', '=', made.id)
    .execute();
  t.equal(signers.length, 3);
  for (const row of signers) {
    t.match(row.name, /^enc:v1:/, `${row.role}: name`);
    t.match(row.personal_number, /^enc:v1:/, `${row.role}: number`);
    t.ok(row.personal_number_index, `${row.role}: blind index`);
  }
  const guardian2 = signers.find((r) => r.role === 'guardian2')!;
  t.equal(guardian2.email, sealedEmail, 'a value already encrypted is left as it was');
  const documents = await s.db.selectFrom('consent_documents').select('pdf').execute();
  for (const d of documents) t.equal(Buffer.from(d.pdf).subarray(0, 5).toString('latin1'), 'SENC1');
  const session = await s.db.selectFrom('sessions').select(['personal_number', 'name']).execute();
  t.match(session[0]!.personal_number, /^enc:v1:/);
  t.match(session[0]!.name, /^enc:v1:/);

  // The service reads it all back with its own key ring, and finds it by the numbers.
  const loaded = await getLoadedConsent(s.db, s.app.keys, made.id);
  t.equal(loaded.consent.child.name, input.child.name);
  t.equal(loaded.consent.child.personalNumber, input.child.personalNumber);
  t.same(loaded.consent.obtainedBy, { name: 'Karin Holm', phone: '090-17 60 00' });
  t.equal(loaded.consent.endNote, 'Flyttat');
  t.same(
    loaded.signers.map((x) => [x.role, x.name, x.personalNumber, x.phone, x.email]),
    [
      ['guardian1', anna.name, anna.personalNumber, '070-111 11 11', input.guardians[0]!.email],
      [
        'guardian2',
        input.guardians[1]!.name,
        input.guardians[1]!.personalNumber,
        null,
        input.guardians[1]!.email,
      ],
      ['youth', input.child.name, input.child.personalNumber, null, 'saga@hem.example'],
    ],
  );
  const [reread] = await listFormRevisions(s.db, s.app.keys, made.id);
  t.ok(Buffer.from(reread!.bytes).equals(Buffer.from(form!.bytes)), 'the PDF, byte for byte');
  const scope = { organisationIds: [s.organisationId], teamIds: [] };
  t.same(
    (await consentsOfChild(s.db, s.app.keys, input.child.personalNumber, scope, 10)).map((c) => c.id),
    [made.id],
    'found by the child’s number',
  );
  t.same(
    (await consentsOfSigner(s.db, s.app.keys, anna.personalNumber, 10)).map((c) => c.consent.id),
    [made.id],
    'found by a guardian’s number',
  );
  const back = await findActiveSession(s.db, s.app.keys, sessionId, s.clock.now(), s.app.config.session);
  t.equal(back?.personalNumber, anna.personalNumber, 'the session’s person');

  // Bound to its place: the child's encrypted name copied into the guardian's row does not decrypt.
  await s.db
    .updateTable('consent_signers')
    .set({ name: consent.child_name })
    .where('consent_id', '=', made.id)
    .where('role', '=', 'guardian1')
    .execute();
  await t.rejects(getLoadedConsent(s.db, s.app.keys, made.id), /does not decrypt in its place/);
}

t.test('with the development keys', (t) => migrationEncryptsStoredRows(t, {}));

t.test('with keys from the settings (an older key kept in the ring)', (t) =>
  migrationEncryptsStoredRows(t, {
    ENCRYPTION_KEYS: `${key('k2')},${key('k1')}`,
    BLIND_INDEX_KEY: key('b1'),
  }),
);

// API client secrets (issue 15 §1): an HMAC under the server's key, the same work for an unknown client as
// for a wrong secret, and the scrypt hashes of earlier versions accepted until their first successful use,
// which rewrites them as HMAC.
import { randomBytes, scryptSync } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import type { Test } from 'tap';
import t from 'tap';
import {
  addClientSecret,
  authenticateClient,
  createApiClient,
  disableApiClient,
} from '../../src/identity/api-clients.ts';
import { createOrganisation } from '../../src/identity/organisations.ts';
import { build } from '../helper.ts';

/** A database handle that counts the statements sent through it. */
function counting<T extends { withPlugin(p: KyselyPlugin): T }>(db: T) {
  const counter = { statements: 0 };
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      counter.statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), counter };
}

/** What versions before issue 15 stored: scrypt$N$r$p$salt$hash (a small N here, to be quick). */
function legacyHash(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, { N: 1024, r: 8, p: 1 });
  return ['scrypt', 1024, 8, 1, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** The secret with its last character changed (to another one: a secret may end in any of them). */
const otherLastCharacter = (secret: string): string =>
  `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;

async function setup(t: Test) {
  const { db, config } = await build(t);
  const key = config.clientSecretHmacKey;
  const org = await createOrganisation(db, {
    name: 'Skola A',
    type: 'school',
    municipality: 'Testby kommun',
    hltArea: 'HLT Testby',
  });
  const client = await createApiClient(db, key, {
    organisationId: org.id,
    name: 'System',
    scopes: ['consent:status'],
  });
  return { db, key, org, client };
}

t.test('an unknown, a disabled and a known client cost the same: one statement, one HMAC', async (t) => {
  const { db, key, org, client } = await setup(t);
  const disabled = await createApiClient(db, key, { organisationId: org.id, name: 'Av', scopes: [] });
  await disableApiClient(db, disabled.client.id, new Date());
  const { db: counted, counter } = counting(db);
  const cases: [string, string, string, boolean][] = [
    ['right secret', client.client.clientId, client.secret, true],
    ['wrong secret', client.client.clientId, otherLastCharacter(client.secret), false],
    ['unknown client', 'hlt-000000000000000000000000', client.secret, false],
    ['disabled client', disabled.client.clientId, disabled.secret, false],
  ];
  for (const [label, clientId, secret, ok] of cases) {
    counter.statements = 0;
    const found = await authenticateClient(counted, key, clientId, secret);
    t.equal(!!found, ok, label);
    t.equal(counter.statements, 1, `${label}: one statement`);
  }
  t.notOk(
    await authenticateClient(
      db,
      'another-key-of-at-least-thirty-two-characters',
      client.client.clientId,
      client.secret,
    ),
    'the stored hash is keyed: another server key does not verify it',
  );
});

t.test('rotation: both active secrets work, in either order', async (t) => {
  const { db, key, client } = await setup(t);
  const second = await addClientSecret(db, key, client.client.id);
  t.ok(await authenticateClient(db, key, client.client.clientId, client.secret));
  t.ok(await authenticateClient(db, key, client.client.clientId, second.secret));
  t.notOk(await authenticateClient(db, key, client.client.clientId, 'neither'));
});

t.test('a legacy scrypt hash: accepted once, then rewritten as HMAC; a wrong secret leaves it', async (t) => {
  const { db, key, client } = await setup(t);
  const stored = () =>
    db
      .selectFrom('api_client_secrets')
      .select('secret_hash')
      .where('id', '=', client.secretId)
      .executeTakeFirstOrThrow()
      .then((r) => r.secret_hash);
  const legacy = legacyHash(client.secret);
  await db
    .updateTable('api_client_secrets')
    .set({ secret_hash: legacy })
    .where('id', '=', client.secretId)
    .execute();

  t.notOk(await authenticateClient(db, key, client.client.clientId, 'wrong'), 'a wrong secret fails');
  t.equal(await stored(), legacy, 'and changes nothing');
  t.ok(await authenticateClient(db, key, client.client.clientId, client.secret), 'the right one works');
  t.match(await stored(), /^hmac-sha256\$/, 'and the hash is now the keyed one');
  const { db: counted, counter } = counting(db);
  t.ok(await authenticateClient(counted, key, client.client.clientId, client.secret), 'and keeps working');
  t.equal(counter.statements, 1, 'with no rewrite');

  // A legacy hash that asks for more work than earlier versions ever stored is refused unverified.
  const costly = legacyHash(client.secret).replace('scrypt$1024$', 'scrypt$1048576$');
  await db
    .updateTable('api_client_secrets')
    .set({ secret_hash: costly })
    .where('id', '=', client.secretId)
    .execute();
  t.notOk(await authenticateClient(db, key, client.client.clientId, client.secret));
});

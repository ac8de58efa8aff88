// Helpers for the tests of the tamper-evident audit trail (issue 16 §2): a database with a few consents,
// events written the ways the service writes them, tampering in plain SQL as a superuser with the
// tables' triggers off (session_replication_role = replica), checkpoints and the check.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Test } from 'tap';
import type { Config } from '../../src/config.ts';
import { DEV_CLIENT_SECRET_HMAC_KEY } from '../../src/config.ts';
import { checkpointSealer, makeAuditCheckpoint } from '../../src/consents/audit-chain-seal.ts';
import { verifyAuditTrail } from '../../src/consents/audit-chain-verify.ts';
import { appendAuditEvent, appendAuditEventBehind } from '../../src/consents/audit.repository.ts';
import { appendChildLookup } from '../../src/consents/child-lookups.repository.ts';
import type { ApiClientActor } from '../../src/consents/context.ts';
import type { Db } from '../../src/db/index.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { pemBlocks } from '../../src/pdf/pki.ts';
import { loadSigning, type Signing } from '../../src/pdf/signing-setup.ts';
import { Trust } from '../../src/pdf/trust.ts';
import { seedConsents, seedOrganisation } from '../bench/seed.ts';
import { freshDatabase, openDb, testConfig } from '../helper.ts';

export interface Setup {
  url: string;
  db: Db;
  config: Config;
  consents: string[];
  actor: ApiClientActor;
}

export async function setup(t: Test, consents = 3): Promise<Setup> {
  const url = await freshDatabase(t);
  const db = openDb(t, url);
  const config = testConfig(url);
  const scope = await seedOrganisation(db);
  const { client } = await createApiClient(db, DEV_CLIENT_SECRET_HMAC_KEY, {
    organisationId: scope.organisationId,
    name: 'Test',
    scopes: ['consent:status'],
    contactName: 'Test Kontakt',
  });
  await seedConsents(db, { ...scope, clientId: client.id }, 1, consents);
  const ids = (await db.selectFrom('consents').select('id').orderBy('id').execute()).map((r) => r.id);
  const actor: ApiClientActor = {
    type: 'api_client',
    clientId: client.id,
    organisationId: scope.organisationId,
    contactName: 'Test Kontakt',
  };
  return { url, db, config, consents: ids, actor };
}

/** `n` events on the consent, each in its own transaction (as the use cases write them). */
export async function writeEvents(s: Setup, consentId: string | null, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await s.db.transaction().execute((tx) =>
      appendAuditEvent(tx, {
        consentId,
        action: 'consent_viewed',
        actor: s.actor,
        at: new Date(Date.UTC(2026, 11, 7, 10, 0, i, 123)),
        requestId: `req-${i}`,
        details: { n: i, ratio: 1.5, flag: true, none: null, list: ['a', 2, false], text: 'åäö ✓' },
      }),
    );
}

/** A status check written behind the answer (the write-behind batch path). */
export const writeBehind = (s: Setup, consentId: string) =>
  appendAuditEventBehind(s.db, {
    consentId,
    action: 'status_checked',
    actor: s.actor,
    at: new Date(),
    details: { status: 'active' },
  });

export const writeLookup = (s: Setup, found: number) =>
  appendChildLookup(s.db, {
    at: new Date(),
    actor: { type: 'api_client', id: s.actor.clientId },
    organisationIds: [s.actor.organisationId],
    via: 'api',
    requestId: 'req-lookup',
    found,
  });

/** Runs `statement` as the superuser with every trigger off: what an intruder with database access can do. */
export async function tamper(
  url: string,
  statement: string,
  params: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const result = await client.query(statement, params);
    await client.query('COMMIT');
    return result;
  } finally {
    await client.end();
  }
}

const signings = new WeakMap<Config, Promise<Signing>>();
const signingOf = (config: Config) => {
  let s = signings.get(config);
  if (!s) signings.set(config, (s = loadSigning(config)));
  return s;
};

export async function checkpoint(s: Setup) {
  return makeAuditCheckpoint(s.db, {
    sealer: await checkpointSealer(s.config.signing),
    timestamper: (await signingOf(s.config)).timestamper,
    clock: { now: () => new Date() },
  });
}

const pemFile = async (file: string) => pemBlocks(await readFile(file, 'utf8'), 'CERTIFICATE');

export async function verify(s: Setup) {
  return verifyAuditTrail(s.db, {
    sealingCertificates: await pemFile(s.config.signing.caCertFile),
    trust: await Trust.load(s.config.signing.trustAnchorFiles),
    tsaTrust: await Trust.load(s.config.signing.tsaTrustAnchorFiles),
    // Small pages, so that chains are read across page boundaries.
    pageSize: 7,
  });
}

/** The kinds of the findings, for assertions. */
export const kinds = (r: { findings: { kind: string }[] }) =>
  [...new Set(r.findings.map((f) => f.kind))].sort();

/** Event ids of a chain in place order. */
export async function chainIds(s: Setup, consentId: string): Promise<number[]> {
  const rows = await s.db
    .selectFrom('audit_events')
    .select('id')
    .where('consent_id', '=', consentId)
    .orderBy('chain_seq')
    .execute();
  return rows.map((r) => r.id);
}

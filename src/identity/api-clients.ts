// API clients: other HLT systems that call us with OAuth 2.0 client credentials (RFC 6749 §4.4).
// A secret is 256 random bits we generate, shown once and stored only as its HMAC-SHA-256 under a key of
// the server's (CLIENT_SECRET_HMAC_KEY). A password hash (scrypt, bcrypt) makes guessing a *weak* secret
// slow; nobody guesses 256 random bits, so here it only made every token request cost tens of
// milliseconds and 32 MiB — a lever for denial of service (issue 15 §1). The key keeps a stolen table
// useless without the server's settings. Secrets stored by earlier versions as scrypt are still accepted
// and rewritten as HMAC on their first successful use (README, "API clients"; the secrets: client-secrets.ts).
// A client may have two active secrets at a time so it can rotate without downtime: add a new secret,
// deploy it, then revoke the old one.
import { sql } from 'kysely';
import { compiledOnce, loaderById } from '../db/batch.ts';
import type { Db, DbOrTx, Tx } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import { AppError } from '../errors.ts';
import {
  generateClientId,
  generateClientSecret,
  hashClientSecret,
  legacyScryptMatches,
  matchesAnyMac,
} from './client-secrets.ts';
import type { TeamMembership } from './organisations.ts';

export const CONSENT_SCOPES = ['consent:status', 'consent:read', 'consent:write'] as const;
export type ConsentScope = (typeof CONSENT_SCOPES)[number];
export const isConsentScope = (s: string): s is ConsentScope =>
  (CONSENT_SCOPES as readonly string[]).includes(s);

export const SCOPE_DESCRIPTIONS: Readonly<Record<ConsentScope, string>> = {
  'consent:status': 'Check the status of consents the organisation may know of',
  'consent:read': "Read the organisation's consents and their signed documents",
  'consent:write': 'Create and manage consent requests on behalf of the organisation',
};

/** Two active secrets: the current one and its successor during a rotation. */
export const MAX_ACTIVE_SECRETS = 2;

export interface ApiClient {
  /** The row id (uuid): the token's `sub`, and what audit events and consents refer to. */
  id: string;
  /** The OAuth `client_id` the client authenticates with. */
  clientId: string;
  organisationId: string;
  name: string;
  scopes: ConsentScope[];
  contactName: string | null;
  contactEmail: string | null;
  disabledAt: Date | null;
  createdAt: Date;
}

export interface ClientSecretInfo {
  id: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewApiClient {
  organisationId: string;
  name: string;
  scopes: readonly ConsentScope[];
  contactName?: string | null | undefined;
  contactEmail?: string | null | undefined;
}

// --- Repository ------------------------------------------------------------------------------------------

type ClientRow = {
  id: string;
  client_id: string;
  organisation_id: string;
  name: string;
  scopes: string[];
  contact_name: string | null;
  contact_email: string | null;
  disabled_at: Date | null;
  created_at: Date;
};

const toClient = (r: ClientRow): ApiClient => ({
  id: r.id,
  clientId: r.client_id,
  organisationId: r.organisation_id,
  name: r.name,
  // A scope this version does not know is ignored rather than granted.
  scopes: r.scopes.filter(isConsentScope),
  contactName: r.contact_name,
  contactEmail: r.contact_email,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
});

/** Runs `fn` in the given transaction, or in a new one. */
const inTransaction = <T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> =>
  db.isTransaction ? fn(db as Tx) : (db as Db).transaction().execute(fn);

/**
 * Registers a client with one secret. Returns the secret in clear text: show it once, it cannot be
 * recovered. `key` is CLIENT_SECRET_HMAC_KEY. `clientId` and `secret` are for the development seed only
 * (fixed, printed values).
 */
export async function createApiClient(
  db: DbOrTx,
  key: string,
  input: NewApiClient,
  fixed: { clientId?: string; secret?: string } = {},
): Promise<{ client: ApiClient; secret: string; secretId: string }> {
  const secret = fixed.secret ?? generateClientSecret();
  const secretHash = hashClientSecret(secret, key);
  return inTransaction(db, async (tx) => {
    const row = await tx
      .insertInto('api_clients')
      .values({
        client_id: fixed.clientId ?? generateClientId(),
        organisation_id: input.organisationId,
        name: input.name,
        scopes: [...new Set(input.scopes)],
        contact_name: input.contactName ?? null,
        contact_email: input.contactEmail ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const { id: secretId } = await tx
      .insertInto('api_client_secrets')
      .values({ api_client_id: row.id, secret_hash: secretHash })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { client: toClient(row), secret, secretId };
  });
}

export async function getApiClient(db: DbOrTx, id: string): Promise<ApiClient | undefined> {
  const row = await db.selectFrom('api_clients').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toClient(row);
}

export async function findApiClientByClientId(db: DbOrTx, clientId: string): Promise<ApiClient | undefined> {
  const row = await db
    .selectFrom('api_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row && toClient(row);
}

export async function listApiClients(db: DbOrTx, organisationId: string): Promise<ApiClient[]> {
  const rows = await db
    .selectFrom('api_clients')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toClient);
}

/** Every secret of the clients, newest first (never the hashes). */
export async function listClientSecrets(
  db: DbOrTx,
  apiClientIds: readonly string[],
): Promise<Map<string, ClientSecretInfo[]>> {
  const out = new Map<string, ClientSecretInfo[]>(apiClientIds.map((id) => [id, []]));
  if (apiClientIds.length === 0) return out;
  const rows = await db
    .selectFrom('api_client_secrets')
    .select(['id', 'api_client_id', 'created_at', 'revoked_at'])
    .where('api_client_id', 'in', apiClientIds)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  for (const r of rows)
    out.get(r.api_client_id)?.push({ id: r.id, createdAt: r.created_at, revokedAt: r.revoked_at });
  return out;
}

async function lockClient(tx: Tx, apiClientId: string) {
  const row = await tx
    .selectFrom('api_clients')
    .select(['id', 'disabled_at'])
    .where('id', '=', apiClientId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found');
  return row;
}

const activeSecretIds = async (tx: Tx, apiClientId: string) =>
  (
    await tx
      .selectFrom('api_client_secrets')
      .select('id')
      .where('api_client_id', '=', apiClientId)
      .where('revoked_at', 'is', null)
      .execute()
  ).map((r) => r.id);

/**
 * The first half of a rotation: a second active secret. Refused (409) while two are active — revoke one
 * first — and for a disabled client.
 */
export async function addClientSecret(
  db: DbOrTx,
  key: string,
  apiClientId: string,
): Promise<{ secretId: string; secret: string }> {
  const secret = generateClientSecret();
  const secretHash = hashClientSecret(secret, key);
  return inTransaction(db, async (tx) => {
    const client = await lockClient(tx, apiClientId);
    if (client.disabled_at) throw new AppError('conflict', 'Klienten är avstängd.');
    if ((await activeSecretIds(tx, apiClientId)).length >= MAX_ACTIVE_SECRETS)
      throw new AppError('conflict', 'Klienten har redan två aktiva hemligheter; återkalla den äldre först.');
    const { id } = await tx
      .insertInto('api_client_secrets')
      .values({ api_client_id: apiClientId, secret_hash: secretHash })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { secretId: id, secret };
  });
}

/**
 * The second half of a rotation: revoke the old secret. The last active secret cannot be revoked (that
 * would lock the client out; disable the client instead).
 */
export async function revokeClientSecret(
  db: DbOrTx,
  apiClientId: string,
  secretId: string,
  at: Date,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    await lockClient(tx, apiClientId);
    const active = await activeSecretIds(tx, apiClientId);
    if (!active.includes(secretId)) {
      const exists = await tx
        .selectFrom('api_client_secrets')
        .select('id')
        .where('id', '=', secretId)
        .where('api_client_id', '=', apiClientId)
        .executeTakeFirst();
      if (!exists) throw new AppError('not_found');
      return; // already revoked
    }
    if (active.length <= 1)
      throw new AppError(
        'conflict',
        'Den sista aktiva hemligheten kan inte återkallas; stäng av klienten i stället.',
      );
    await tx.updateTable('api_client_secrets').set({ revoked_at: at }).where('id', '=', secretId).execute();
  });
}

/** Disables the client: its token requests fail and its unexpired access tokens stop working. */
export async function disableApiClient(db: DbOrTx, apiClientId: string, at: Date): Promise<void> {
  await db
    .updateTable('api_clients')
    .set({ disabled_at: at })
    .where('id', '=', apiClientId)
    .where('disabled_at', 'is', null)
    .execute();
}

/**
 * The enabled client whose `client_id` and secret match one of its active secrets, or undefined. `key` is
 * CLIENT_SECRET_HMAC_KEY. An unknown or disabled client costs the same as a wrong secret: one statement
 * (the client and its active secrets together), one HMAC and a constant-time comparison either way. A
 * legacy scrypt hash that matches is rewritten as HMAC (so it is verified with scrypt only until then).
 */
export async function authenticateClient(
  db: DbOrTx,
  key: string,
  clientId: string,
  secret: string,
): Promise<ApiClient | undefined> {
  const rows = await db
    .selectFrom('api_clients as c')
    .leftJoin('api_client_secrets as s', (join) =>
      join.onRef('s.api_client_id', '=', 'c.id').on('s.revoked_at', 'is', null),
    )
    .selectAll('c')
    .select(['s.id as secret_id', 's.secret_hash'])
    .where('c.client_id', '=', clientId)
    .execute();
  const row = rows[0];
  const stored =
    row && row.disabled_at === null
      ? rows.flatMap((r) => (r.secret_id && r.secret_hash ? [{ id: r.secret_id, hash: r.secret_hash }] : []))
      : [];
  const matched = matchesAnyMac(
    secret,
    key,
    stored.map((s) => s.hash),
  );
  if (row && matched) return toClient(row);
  for (const s of stored) {
    if (!s.hash.startsWith('scrypt$') || !(await legacyScryptMatches(secret, s.hash))) continue;
    await db
      .updateTable('api_client_secrets')
      .set({ secret_hash: hashClientSecret(secret, key) })
      .where('id', '=', s.id)
      .where('secret_hash', '=', s.hash)
      .execute();
    return row && toClient(row);
  }
  return undefined;
}

type ClientAccess = { client: ApiClient; teams: TeamMembership[] };

const clientAccessQuery = compiledOnce(
  (db: Db, ids: readonly string[]) =>
    db
      .selectFrom('api_clients as c')
      .selectAll('c')
      .select(
        sql<
          string[]
        >`coalesce((SELECT array_agg(m.team_id::text) FROM team_members m WHERE m.organisation_id = c.organisation_id), '{}')`.as(
          'team_ids',
        ),
      )
      .where(sql<boolean>`c.id = any(${ids}::uuid[])`)
      .where('c.disabled_at', 'is', null),
  [[]],
);

// Every request with a token asks this: the requests of one turn share the query.
const clientAccessRows = loaderById(
  async (db, ids) => (await clientAccessQuery(db, ids)).rows,
  (row) => row.id,
);

/**
 * What a bearer token's client may do now: the enabled client and its organisation's team memberships,
 * read fresh on every request (a disabled client is refused at once), in one query shared by the requests
 * of the same turn.
 */
export async function activeClientAccess(db: DbOrTx, apiClientId: string): Promise<ClientAccess | undefined> {
  if (!isUuid(apiClientId)) return undefined;
  const row = await clientAccessRows(db, apiClientId);
  if (!row) return undefined;
  const client = toClient(row);
  return { client, teams: row.team_ids.map((teamId) => ({ teamId, organisationId: client.organisationId })) };
}

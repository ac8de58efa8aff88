// Frozen migration: never import application code here.
// Organisations, HLT teams, staff, API clients, login attempts and sessions (issue: identity).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organisations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type IN ('school', 'social_services', 'health_care')`),
    )
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('hlt_area', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('organisations_name_uq', ['municipality', 'name'])
    .execute();

  await db.schema
    .createTable('hlt_teams')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hlt_area', 'text', (c) => c.notNull())
    .addColumn('municipality', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('hlt_teams_name_uq', ['municipality', 'name'])
    .execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'uuid', (c) => c.notNull().references('hlt_teams.id').onDelete('cascade'))
    .addColumn('organisation_id', 'uuid', (c) =>
      c.notNull().references('organisations.id').onDelete('cascade'),
    )
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'organisation_id'])
    .execute();
  await db.schema.createIndex('team_members_org_idx').on('team_members').column('organisation_id').execute();

  // Staff log in through OIDC; no passwords. First login by the invited e-mail, then bound to
  // issuer + subject.
  await db.schema
    .createTable('staff_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('phone', 'text')
    .addColumn('oidc_issuer', 'text')
    .addColumn('oidc_subject', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('last_login_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('staff_users_oidc_uq', ['oidc_issuer', 'oidc_subject'])
    .execute();

  await db.schema
    .createTable('staff_memberships')
    .addColumn('staff_id', 'uuid', (c) => c.notNull().references('staff_users.id').onDelete('cascade'))
    .addColumn('organisation_id', 'uuid', (c) =>
      c.notNull().references('organisations.id').onDelete('cascade'),
    )
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('staff', 'admin')`))
    // An organisation's admin ends a membership here; staff_users.disabled_at ends every membership.
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('staff_memberships_pk', ['staff_id', 'organisation_id'])
    .execute();
  await db.schema
    .createIndex('staff_memberships_org_idx')
    .on('staff_memberships')
    .column('organisation_id')
    .execute();

  // Other HLT systems: OAuth 2.0 client credentials. Secrets are stored as slow hashes; up to two
  // active secrets per client so a secret can be rotated without downtime.
  await db.schema
    .createTable('api_clients')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('organisation_id', 'uuid', (c) =>
      c.notNull().references('organisations.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('contact_name', 'text')
    .addColumn('contact_email', 'text')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('api_client_secrets')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('api_client_id', 'uuid', (c) => c.notNull().references('api_clients.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('api_client_secrets_client_idx')
    .on('api_client_secrets')
    .column('api_client_id')
    .execute();

  // A login in progress: state, nonce and PKCE verifier kept server-side, short-lived, used once.
  await db.schema
    .createTable('login_attempts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('state_hash', 'text', (c) => c.notNull().unique())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull().check(sql`audience IN ('signer', 'staff')`))
    .addColumn('fresh', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('browser_binding', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('login_attempts_expires_idx')
    .on('login_attempts')
    .column('expires_at')
    .execute();

  // Server-side sessions. The cookie holds an opaque random id; only its hash is stored here.
  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('audience', 'text', (c) => c.notNull().check(sql`audience IN ('signer', 'staff')`))
    .addColumn('staff_id', 'uuid', (c) => c.references('staff_users.id').onDelete('cascade'))
    .addColumn('personal_number', 'text')
    .addColumn('name', 'text')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('acr', 'text')
    .addColumn('auth_time', 'timestamptz')
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'sessions',
    'login_attempts',
    'api_client_secrets',
    'api_clients',
    'staff_memberships',
    'staff_users',
    'team_members',
    'hlt_teams',
    'organisations',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

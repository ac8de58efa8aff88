// `npm run org -- …`: organisations in a real deployment, and their first admin.
//   create --name … --type school|social_services|health_care --municipality … --area …
//          [--team "Team name"] --admin-email … --admin-name … [--admin-title …]
//   invite --org <organisation id> --email … --name … [--role staff|admin] [--title …]
//   list
// Also the runner the other identity CLIs share (`runCli`): config, database (DATABASE_URL or the
// embedded one, migrated first), exit 2 with the usage on bad arguments, 1 on failure.
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/index.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import { isAppError } from '../errors.ts';
import {
  addTeamMember,
  createOrganisation,
  ensureTeam,
  listOrganisations,
  ORGANISATION_TYPES,
} from '../identity/organisations.ts';
import { inviteStaff, STAFF_ROLES } from '../identity/staff.ts';

// --- The shared runner -----------------------------------------------------------------------------------

/** Bad arguments: the message and the usage go to stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure (exit 1): the message is shown as it is. */
export class CliError extends Error {
  override name = 'CliError';
}

export interface CliContext {
  db: Db;
  config: Config;
  clock: Clock;
  /** A line to stdout (the command's result). */
  out(line: string): void;
}

export interface Cli<C> {
  name: string;
  usage: string;
  /** Arguments to a command; throws UsageError. Runs before the database is opened. */
  parse(args: string[]): C;
  run(command: C, context: CliContext): Promise<void>;
}

export async function runCli<C>(cli: Cli<C>, args = process.argv.slice(2)): Promise<void> {
  const fail = (message: string, code: number) => {
    process.stderr.write(`${cli.name}: ${message}\n`);
    process.exitCode = code;
  };
  let command: C;
  let config: Config;
  try {
    command = cli.parse(args);
    config = loadConfig();
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n\n${cli.usage}`, 2);
    else fail((e as Error).message, 1);
    return;
  }
  try {
    const database = await openDatabase(config, (m) => process.stderr.write(`${m}\n`));
    const db = createDb(database.url, { max: 2, applicationName: `samtycke-${cli.name}` });
    try {
      await migrateToLatest(db);
      await cli.run(command, {
        db,
        config,
        clock: systemClock,
        out: (line) => process.stdout.write(`${line}\n`),
      });
    } finally {
      await db.destroy();
      await database.stop();
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof CliError || e instanceof UsageError || isAppError(e))
      fail(e.message, e instanceof UsageError ? 2 : 1);
    else if ((e as { code?: string }).code === '23505')
      fail('it already exists (a unique value is taken)', 1);
    else fail(`failed: ${(e as Error).message}`, 1);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with a subcommand; its errors (unknown option, missing value) become UsageErrors. */
export function parseCommand<O extends Options>(
  args: string[],
  commands: Record<string, O>,
): { command: string; values: Record<string, string | undefined> } {
  const [command, ...rest] = args;
  if (!command) throw new UsageError('missing command');
  const options = commands[command];
  if (!options) throw new UsageError(`unknown command '${command}'`);
  try {
    const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    return { command, values: values as Record<string, string | undefined> };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
}

/** Validates option values with a zod schema; the first problem becomes a UsageError naming the option. */
export function validate<T extends z.ZodType>(schema: T, values: Record<string, unknown>): z.infer<T> {
  // --admin-email → adminEmail
  const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v])));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const option = issue?.path.length
    ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
    : '';
  const message =
    issue?.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue?.message;
  throw new UsageError(`${option} ${message ?? 'invalid'}`.trim());
}

/** Options run through parseArgs as strings. */
export const str = (names: string[]): Options =>
  Object.fromEntries(names.map((n) => [n, { type: 'string' }]));

export const isMain = (url: string) =>
  process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;

// --- org -------------------------------------------------------------------------------------------------

const text = z.string().trim().min(1, 'must not be empty').max(200);
const email = z.email('must be an e-mail address').max(254);

const createSchema = z.object({
  name: text,
  type: z.enum(ORGANISATION_TYPES, `must be one of ${ORGANISATION_TYPES.join(', ')}`),
  municipality: text,
  area: text,
  team: text.optional(),
  adminEmail: email,
  adminName: text,
  adminTitle: text.optional(),
});

const inviteSchema = z.object({
  org: z.uuid('must be an organisation id (uuid)'),
  email,
  name: text,
  role: z.enum(STAFF_ROLES, `must be one of ${STAFF_ROLES.join(', ')}`).default('staff'),
  title: text.optional(),
});

type OrgCommand =
  | { command: 'create'; options: z.infer<typeof createSchema> }
  | { command: 'invite'; options: z.infer<typeof inviteSchema> }
  | { command: 'list' };

export const orgCli: Cli<OrgCommand> = {
  name: 'org',
  usage: `usage:
  npm run org -- create --name <name> --type ${ORGANISATION_TYPES.join('|')} --municipality <municipality>
                        --area <HLT area> [--team <team name>] --admin-email <e-mail> --admin-name <name>
                        [--admin-title <title>]
  npm run org -- invite --org <organisation id> --email <e-mail> --name <name> [--role staff|admin] [--title <title>]
  npm run org -- list`,
  parse(args) {
    const { command, values } = parseCommand(args, {
      create: str([
        'name',
        'type',
        'municipality',
        'area',
        'team',
        'admin-email',
        'admin-name',
        'admin-title',
      ]),
      invite: str(['org', 'email', 'name', 'role', 'title']),
      list: {},
    });
    if (command === 'create') return { command, options: validate(createSchema, values) };
    if (command === 'invite') return { command, options: validate(inviteSchema, values) };
    return { command: 'list' };
  },
  async run(cmd, { db, out }) {
    if (cmd.command === 'list') {
      for (const o of await listOrganisations(db))
        out(`${o.id}  ${o.type.padEnd(15)}  ${o.municipality}  ${o.name}`);
      return;
    }
    if (cmd.command === 'invite') {
      const { org, role, ...person } = cmd.options;
      const { staff, outcome } = await inviteStaff(db, { ...person, organisationId: org, role });
      if (outcome === 'already_member')
        throw new CliError('that person is already a member of the organisation');
      out(
        `staff ${staff.id} ${outcome} as ${role}; their first login with the invited address binds the account`,
      );
      return;
    }
    const o = cmd.options;
    const taken = (await listOrganisations(db)).some(
      (x) => x.municipality === o.municipality && x.name === o.name,
    );
    if (taken) throw new CliError(`an organisation named '${o.name}' already exists in ${o.municipality}`);
    const result = await db.transaction().execute(async (tx) => {
      const org = await createOrganisation(tx, {
        name: o.name,
        type: o.type,
        municipality: o.municipality,
        hltArea: o.area,
      });
      const team = o.team
        ? await ensureTeam(tx, { name: o.team, hltArea: o.area, municipality: o.municipality })
        : undefined;
      if (team) await addTeamMember(tx, team.id, org.id);
      const { staff } = await inviteStaff(tx, {
        email: o.adminEmail,
        name: o.adminName,
        title: o.adminTitle,
        organisationId: org.id,
        role: 'admin',
      });
      return { org, team, staff };
    });
    out(`organisation ${result.org.id} created: ${result.org.name} (${result.org.type})`);
    if (result.team) out(`team ${result.team.id}: ${result.team.name} (member)`);
    out(`admin ${result.staff.id} invited; their first login with the invited address binds the account`);
  },
};

if (isMain(import.meta.url)) await runCli(orgCli);

// `npm run seed:dev`: loads the fictional development organisations, staff and API clients (src/dev/seed.ts)
// and prints them. Idempotent: running it again changes nothing. Refused in production.
import { type Cli, CliError, isMain, runCli, UsageError } from './org.ts';

const seedCli: Cli<Record<string, never>> = {
  name: 'seed:dev',
  usage: 'usage: npm run seed:dev   (development only; takes no arguments)',
  parse(args) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    return {};
  },
  async run(_command, { db, config, clock, out }) {
    if (config.production)
      throw new CliError('refused: seed:dev loads fictional data and is for development only');
    // Development only: src/dev/ is never imported statically from here.
    const { DEV_HLT_AREA, DEV_TEAM, devStaffNames, seedDevelopment, TEST_MUNICIPALITY } =
      await import('../dev/seed.ts');
    const result = await seedDevelopment(db, clock.now(), config.clientSecretHmacKey);
    out(`HLT area ${DEV_HLT_AREA}, ${TEST_MUNICIPALITY}; team ${DEV_TEAM} (${result.teamId})`);
    for (const o of result.organisations) out(`organisation ${o.id}  ${o.type.padEnd(15)}  ${o.name}`);
    const staffNames = devStaffNames(clock.now());
    out(`${result.staffIds.length} staff users (admins): ${staffNames.join(', ')}`);
    out('API clients (fixed development secrets: development only):');
    for (const c of result.clients)
      out(`  ${c.clientId.padEnd(22)} ${c.secret}${c.created ? '' : '  (existed)'}  ${c.organisation}`);
    out(`Next: open ${config.publicBaseUrl}/personal and log in as one of the staff users above.`);
  },
};

if (isMain(import.meta.url)) await runCli(seedCli);

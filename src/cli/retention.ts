// `npm run retention -- …`: retention and deletion (gallring, issue 16 §4).
//   --dry-run                                   list the consents that would be deleted now; change nothing
//   (no option)                                 delete them now (the nightly job does the same)
//   --org <organisation id> --months <1-120>    set the organisation's retention time
//   --org <organisation id> --months default    let it follow RETENTION_MONTHS again
// Output names ids, outcomes and dates only, never personal data.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LocalKeyRing } from '../db/encryption.ts';
import { deleteDueConsents, listDueConsents } from '../consents/retention.ts';
import { getRetentionMonths, setRetentionMonths } from '../identity/organisations.ts';
import { localDateOf } from '../domain/dates.ts';
import { RETENTION_MONTHS } from '../domain/retention.ts';
import { type Cli, CliError, isMain, runCli, UsageError, validate } from './org.ts';

type RetentionCommand =
  { command: 'dry-run' } | { command: 'delete' } | { command: 'set'; org: string; months: number | null };

const setSchema = z.object({
  org: z.uuid('must be an organisation id (uuid)'),
  months: z.union([
    z.literal('default').transform(() => null),
    z.coerce
      .number()
      .int()
      .min(RETENTION_MONTHS.min)
      .max(RETENTION_MONTHS.max, `must be ${RETENTION_MONTHS.min}–${RETENTION_MONTHS.max} or 'default'`),
  ]),
});

export const retentionCli: Cli<RetentionCommand> = {
  name: 'retention',
  usage: `usage:
  npm run retention -- --dry-run        list what would be deleted now
  npm run retention                     delete it now
  npm run retention -- --org <organisation id> --months <${RETENTION_MONTHS.min}-${RETENTION_MONTHS.max}|default>`,
  parse(args) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: { 'dry-run': { type: 'boolean' }, org: { type: 'string' }, months: { type: 'string' } },
        strict: true,
      }));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const setting = values.org !== undefined || values.months !== undefined;
    if (setting && values['dry-run']) throw new UsageError('--dry-run lists; --org and --months set a time');
    if (setting)
      return { command: 'set', ...validate(setSchema, { org: values.org, months: values.months }) };
    return { command: values['dry-run'] ? 'dry-run' : 'delete' };
  },
  async run(cmd, { db, config, clock, out }) {
    const keys = LocalKeyRing.fromConfig(config.encryption);
    const ctx = { db, keys, config, clock };
    if (cmd.command === 'set') {
      if (!(await setRetentionMonths(db, cmd.org, cmd.months))) throw new CliError('no such organisation');
      const months = (await getRetentionMonths(db, cmd.org)) ?? config.retention.defaultMonths;
      out(`organisation ${cmd.org}: ${months} months${cmd.months === null ? ' (the default)' : ''}`);
      return;
    }
    if (cmd.command === 'dry-run') {
      const due = await listDueConsents(ctx);
      for (const d of due)
        out(
          `${d.consentId}  organisation ${d.organisationId}  ${d.outcome.padEnd(15)}  ended ${localDateOf(d.endedAt)}  due ${localDateOf(d.dueAt)} (${d.retentionMonths} months)`,
        );
      out(`${due.length} consent${due.length === 1 ? '' : 's'} would be deleted (dry run: nothing changed)`);
      return;
    }
    const run = await deleteDueConsents(ctx);
    const outcomes = Object.entries(run.byOutcome).map(([outcome, n]) => `${outcome} ${n}`);
    out(
      `${run.deleted} consent${run.deleted === 1 ? '' : 's'} deleted${outcomes.length ? ` (${outcomes.join(', ')})` : ''}; their tombstones and audit events stay`,
    );
  },
};

if (isMain(import.meta.url)) await runCli(retentionCli);

// The admin API for an organisation's retention time (issue 16 §4): how many months a consent's documents
// and personal data are kept after it ended, before the nightly job deletes them and keeps a tombstone.
import { z } from 'zod';
import { getRetentionMonths, setRetentionMonths } from '../../identity/organisations.ts';
import { RETENTION_MONTHS } from '../../domain/retention.ts';
import { AppError } from '../../errors.ts';
import type { App } from '../types.ts';
import { ADMIN, BASE, requireAdmin } from './common.ts';
import { errors, orgParams } from './schemas.ts';

const months = z.number().int().min(RETENTION_MONTHS.min).max(RETENTION_MONTHS.max);

const retentionSchema = z
  .object({
    months: months.describe('Months kept after the consent ended, in force now'),
    default: z.boolean().describe("Whether the organisation follows the service's default"),
    defaultMonths: months.describe("The service's default (RETENTION_MONTHS)"),
  })
  .meta({ id: 'Retention' });

const retentionBody = z
  .object({
    months: months
      .nullable()
      .describe(`${RETENTION_MONTHS.min}–${RETENTION_MONTHS.max}; null: follow the service's default`),
  })
  .strict();

export function retentionRoutes(app: App) {
  const { db } = app;
  const defaultMonths = app.config.retention.defaultMonths;
  const answer = (own: number | null) => ({
    months: own ?? defaultMonths,
    default: own === null,
    defaultMonths,
  });

  app.get(
    `${BASE}/retention`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "The organisation's retention time",
        description:
          'How many months after a consent ended (withdrawn, ended, expired, declined, cancelled, request ' +
          'expired) its documents and personal data are kept. Then they are deleted; a tombstone without ' +
          'personal data stays for statistics, and the audit trail stays whole.',
        params: orgParams,
        response: { 200: retentionSchema, ...errors },
      },
    },
    async (request) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      return answer(await getRetentionMonths(db, organisationId));
    },
  );

  app.put(
    `${BASE}/retention`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "Set the organisation's retention time",
        description:
          'Applies to every consent of the organisation from the next nightly run, ended ones too.',
        params: orgParams,
        body: retentionBody,
        response: { 200: retentionSchema, ...errors },
      },
    },
    async (request) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      if (!(await setRetentionMonths(db, organisationId, request.body.months)))
        throw new AppError('not_found');
      request.log.info({ organisationId, retentionMonths: request.body.months }, 'retention time set');
      return answer(request.body.months);
    },
  );
}

// The admin API: an organisation's admins manage its API clients and staff users.
// /api/v1/admin/organisations/{organisationId}/…, staff session with role `admin` in that organisation
// (identity/policy.ts `decideAdmin`: the organisation's other staff get 403, everyone else 404).
// The routes: the organisations the caller administers (here), API clients (clients.ts), staff (staff.ts),
// the retention time (retention.ts);
// schemas.ts and presenters.ts describe and shape the answers.
import { z } from 'zod';
import { callerOf } from '../../identity/caller.ts';
import { getOrganisations } from '../../identity/organisations.ts';
import type { App } from '../types.ts';
import { clientRoutes, secretRoutes } from './clients.ts';
import { ADMIN } from './common.ts';
import { organisationOut } from './presenters.ts';
import { errors, organisationSchema } from './schemas.ts';
import { retentionRoutes } from './retention.ts';
import { staffRoutes } from './staff.ts';

export default async function adminRoutes(app: App) {
  const { db } = app;

  app.get(
    '/api/v1/admin/organisations',
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'The organisations the caller is admin of',
        response: { 200: z.object({ organisations: z.array(organisationSchema) }), ...errors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const ids = caller.kind === 'staff' ? caller.memberships.filter((m) => m.role === 'admin') : [];
      const orgs = await getOrganisations(
        db,
        ids.map((m) => m.organisationId),
      );
      return { organisations: orgs.map(organisationOut) };
    },
  );

  clientRoutes(app);
  secretRoutes(app);
  staffRoutes(app);
  retentionRoutes(app);
}

// The admin API for an organisation's staff users: list, invite (bound at their first login), disable a
// membership.
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  disableMembership,
  getOrganisationStaff,
  inviteStaff,
  listOrganisationStaff,
} from '../../identity/staff.ts';
import type { App } from '../types.ts';
import { ADMIN, BASE, requireAdmin } from './common.ts';
import { staffOut } from './presenters.ts';
import { errors, inviteSchema, orgParams, staffParams, staffSchema, withConflict } from './schemas.ts';

export function staffRoutes(app: App) {
  const { db } = app;

  async function staffOf(organisationId: string, staffId: string) {
    const staff = await getOrganisationStaff(db, organisationId, staffId);
    if (!staff) throw new AppError('not_found');
    return staffOut(staff);
  }

  app.get(
    `${BASE}/staff`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "The organisation's staff users",
        params: orgParams,
        response: { 200: z.object({ staff: z.array(staffSchema) }), ...errors },
      },
    },
    async (request) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      return { staff: (await listOrganisationStaff(db, organisationId)).map(staffOut) };
    },
  );

  app.post(
    `${BASE}/staff`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: 'Invite a staff user (their first login with this e-mail address binds the account)',
        description:
          'An address that already has an account gets a membership of this organisation; a disabled ' +
          'membership is enabled again with the given role. 409 when the person is already a member.',
        params: orgParams,
        body: inviteSchema,
        response: { 201: staffSchema, ...withConflict },
      },
    },
    async (request, reply) => {
      const { organisationId } = request.params;
      requireAdmin(request, organisationId);
      const { staff, outcome } = await inviteStaff(db, { ...request.body, organisationId });
      if (outcome === 'already_member')
        throw new AppError('conflict', 'Personen är redan medlem i organisationen.');
      request.log.info({ organisationId, staff: staff.id, outcome }, 'staff invited');
      return reply.code(201).send(await staffOf(organisationId, staff.id));
    },
  );

  app.post(
    `${BASE}/staff/:staffId/disable`,
    {
      config: ADMIN,
      schema: {
        tags: ['admin'],
        summary: "Disable a staff user's membership of the organisation",
        description:
          'The person keeps any other organisation. An admin cannot disable their own membership (409).',
        params: staffParams,
        response: { 200: staffSchema, ...withConflict },
      },
    },
    async (request) => {
      const { organisationId, staffId } = request.params;
      const caller = requireAdmin(request, organisationId);
      await staffOf(organisationId, staffId);
      if (caller.kind === 'staff' && caller.staffId === staffId)
        throw new AppError('conflict', 'Du kan inte stänga av ditt eget medlemskap.');
      await disableMembership(db, organisationId, staffId, app.clock.now());
      request.log.info({ organisationId, staff: staffId }, 'staff membership disabled');
      return staffOf(organisationId, staffId);
    },
  );
}

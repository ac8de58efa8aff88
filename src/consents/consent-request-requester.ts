// Who asks for a consent: the requesting organisation (a member of the chosen HLT team) and the person
// printed under "Samtycke inhämtat av" — the staff member, or the API client's named contact.
import type { ObtainedBy } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { getApiClient } from '../identity/api-clients.ts';
import { getOrganisation, isTeamMember } from '../identity/organisations.ts';
import { getStaff } from '../identity/staff.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import { type FieldError, validationFailed } from './validation.ts';

export interface Requester {
  organisation: { id: string; name: string; hltArea: string };
  obtainedBy: ObtainedBy;
}

export const NOT_IN_TEAM: FieldError = {
  field: 'teamId',
  message: 'Din organisation ingår inte i det valda HLT-teamet.',
};

/** Whether the organisation is a member of the team the request is for. */
export const inTeam = (ctx: ConsentContext, organisationId: string, teamId: string): Promise<boolean> =>
  isTeamMember(ctx.db, teamId, organisationId);

export async function loadRequester(
  ctx: ConsentContext,
  actor: OrganisationActor,
  teamId: string,
  obtainedByPhone: string | undefined,
): Promise<Requester> {
  const org = await getOrganisation(ctx.db, actor.organisationId);
  if (!org) throw new AppError('forbidden', 'Organisationen finns inte.');
  if (!(await inTeam(ctx, org.id, teamId))) throw validationFailed([NOT_IN_TEAM]);
  let obtainedBy: ObtainedBy;
  if (actor.type === 'staff') {
    const staff = await getStaff(ctx.db, actor.staffId);
    if (!staff || staff.disabledAt)
      throw new AppError('forbidden', 'Personalkontot finns inte eller är avstängt.');
    // The phone the staff member gave on this request, else the one on their staff record.
    obtainedBy = compact({
      name: staff.name,
      title: staff.title,
      phone: obtainedByPhone ?? staff.phone,
      email: staff.email,
    });
  } else {
    const client = await getApiClient(ctx.db, actor.clientId);
    if (!client || client.disabledAt || client.organisationId !== actor.organisationId)
      throw new AppError('forbidden', 'API-klienten finns inte eller är avstängd.');
    const contactName = actor.contactName?.trim();
    if (!contactName)
      throw validationFailed([{ field: 'contactName', message: 'Ange namnet på den som begär samtycket.' }]);
    obtainedBy = compact({ name: contactName, email: client.contactEmail });
  }
  return { organisation: { id: org.id, name: org.name, hltArea: org.hltArea }, obtainedBy };
}

function compact(o: {
  name: string;
  title?: string | null;
  phone?: string | null;
  email?: string | null;
}): ObtainedBy {
  const out: ObtainedBy = { name: o.name };
  if (o.title) out.title = o.title;
  if (o.phone) out.phone = o.phone;
  if (o.email) out.email = o.email;
  return out;
}

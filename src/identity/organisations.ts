// Organisations (school, social services, health care) and the HLT teams they belong to. Repository
// functions take the db (or a transaction) first and return domain types, never rows.
import type { DbOrTx } from '../db/index.ts';
import type { OrganisationType } from '../db/schema.ts';

export type { OrganisationType } from '../db/schema.ts';
export const ORGANISATION_TYPES = [
  'school',
  'social_services',
  'health_care',
] as const satisfies readonly OrganisationType[];

export interface Organisation {
  id: string;
  name: string;
  type: OrganisationType;
  municipality: string;
  hltArea: string;
  createdAt: Date;
}

export interface HltTeam {
  id: string;
  name: string;
  hltArea: string;
  municipality: string;
  createdAt: Date;
}

/** One organisation's membership of one HLT team. */
export interface TeamMembership {
  teamId: string;
  organisationId: string;
}

export interface NewOrganisation {
  name: string;
  type: OrganisationType;
  municipality: string;
  hltArea: string;
}

type OrganisationRow = {
  id: string;
  name: string;
  type: OrganisationType;
  municipality: string;
  hlt_area: string;
  created_at: Date;
};

const toOrganisation = (r: OrganisationRow): Organisation => ({
  id: r.id,
  name: r.name,
  type: r.type,
  municipality: r.municipality,
  hltArea: r.hlt_area,
  createdAt: r.created_at,
});

const toTeam = (r: Omit<OrganisationRow, 'type'>): HltTeam => ({
  id: r.id,
  name: r.name,
  hltArea: r.hlt_area,
  municipality: r.municipality,
  createdAt: r.created_at,
});

export async function createOrganisation(db: DbOrTx, org: NewOrganisation): Promise<Organisation> {
  const row = await db
    .insertInto('organisations')
    .values({ name: org.name, type: org.type, municipality: org.municipality, hlt_area: org.hltArea })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOrganisation(row);
}

/** The organisation with this name in this municipality, created if missing (seeding). */
export async function ensureOrganisation(db: DbOrTx, org: NewOrganisation): Promise<Organisation> {
  await db
    .insertInto('organisations')
    .values({ name: org.name, type: org.type, municipality: org.municipality, hlt_area: org.hltArea })
    .onConflict((oc) => oc.constraint('organisations_name_uq').doNothing())
    .execute();
  const row = await db
    .selectFrom('organisations')
    .selectAll()
    .where('municipality', '=', org.municipality)
    .where('name', '=', org.name)
    .executeTakeFirstOrThrow();
  return toOrganisation(row);
}

export async function getOrganisation(db: DbOrTx, id: string): Promise<Organisation | undefined> {
  const row = await db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toOrganisation(row);
}

export async function getOrganisations(db: DbOrTx, ids: readonly string[]): Promise<Organisation[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('organisations')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('name')
    .execute();
  return rows.map(toOrganisation);
}

export async function listOrganisations(db: DbOrTx): Promise<Organisation[]> {
  const rows = await db
    .selectFrom('organisations')
    .selectAll()
    .orderBy('municipality')
    .orderBy('name')
    .execute();
  return rows.map(toOrganisation);
}

/** The team with this name in this municipality, created if missing. */
export async function ensureTeam(
  db: DbOrTx,
  team: { name: string; hltArea: string; municipality: string },
): Promise<HltTeam> {
  await db
    .insertInto('hlt_teams')
    .values({ name: team.name, hlt_area: team.hltArea, municipality: team.municipality })
    .onConflict((oc) => oc.constraint('hlt_teams_name_uq').doNothing())
    .execute();
  const row = await db
    .selectFrom('hlt_teams')
    .selectAll()
    .where('municipality', '=', team.municipality)
    .where('name', '=', team.name)
    .executeTakeFirstOrThrow();
  return toTeam(row);
}

export async function getTeam(db: DbOrTx, id: string): Promise<HltTeam | undefined> {
  const row = await db.selectFrom('hlt_teams').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toTeam(row);
}

/** Adds the organisation to the team (nothing happens when it already is a member). */
export async function addTeamMember(db: DbOrTx, teamId: string, organisationId: string): Promise<void> {
  await db
    .insertInto('team_members')
    .values({ team_id: teamId, organisation_id: organisationId })
    .onConflict((oc) => oc.columns(['team_id', 'organisation_id']).doNothing())
    .execute();
}

export async function removeTeamMember(db: DbOrTx, teamId: string, organisationId: string): Promise<void> {
  await db
    .deleteFrom('team_members')
    .where('team_id', '=', teamId)
    .where('organisation_id', '=', organisationId)
    .execute();
}

/** Whether the organisation is a member of the team. */
export async function isTeamMember(db: DbOrTx, teamId: string, organisationId: string): Promise<boolean> {
  const row = await db
    .selectFrom('team_members')
    .select('team_id')
    .where('team_id', '=', teamId)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The organisations that are members of a team. */
export async function teamOrganisations(db: DbOrTx, teamId: string): Promise<Organisation[]> {
  const rows = await db
    .selectFrom('team_members as m')
    .innerJoin('organisations as o', 'o.id', 'm.organisation_id')
    .selectAll('o')
    .where('m.team_id', '=', teamId)
    .orderBy('o.name')
    .execute();
  return rows.map(toOrganisation);
}

/**
 * The teams these organisations belong to, one entry per (team, organisation). The authorization policy
 * (policy.ts) uses it to tell "another organisation of the consent's team" from "anyone else".
 */
export async function teamMembershipsOf(
  db: DbOrTx,
  organisationIds: readonly string[],
): Promise<TeamMembership[]> {
  if (organisationIds.length === 0) return [];
  const rows = await db
    .selectFrom('team_members')
    .select(['team_id', 'organisation_id'])
    .where('organisation_id', 'in', organisationIds)
    .execute();
  return rows.map((r) => ({ teamId: r.team_id, organisationId: r.organisation_id }));
}

/** The organisation's own retention time in months (issue 16 §4); null when it follows the default. */
export async function getRetentionMonths(db: DbOrTx, organisationId: string): Promise<number | null> {
  const row = await db
    .selectFrom('organisations')
    .select('retention_months')
    .where('id', '=', organisationId)
    .executeTakeFirst();
  return row?.retention_months ?? null;
}

/** Sets the organisation's retention time (null: the default); false when there is no such organisation. */
export async function setRetentionMonths(
  db: DbOrTx,
  organisationId: string,
  months: number | null,
): Promise<boolean> {
  const result = await db
    .updateTable('organisations')
    .set({ retention_months: months })
    .where('id', '=', organisationId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

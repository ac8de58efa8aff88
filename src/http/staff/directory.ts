// Names the staff pages show next to ids: teams, organisations, staff members (timeline).
import type { DbOrTx } from '../../db/index.ts';
import { getOrganisations, getTeam } from '../../identity/organisations.ts';
import { getStaff } from '../../identity/staff.ts';

/** Team id → name, sorted by name. A staff member sees a handful of teams: one query each is fine. */
export async function teamNames(db: DbOrTx, ids: readonly string[]): Promise<Map<string, string>> {
  const teams = await Promise.all([...new Set(ids)].map((id) => getTeam(db, id)));
  return new Map(
    teams
      .filter((t) => t !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name, 'sv'))
      .map((t) => [t.id, t.name]),
  );
}

export async function organisationNames(db: DbOrTx, ids: readonly string[]): Promise<Map<string, string>> {
  const orgs = await getOrganisations(db, ids);
  return new Map(orgs.map((o) => [o.id, o.name]));
}

export async function staffNames(db: DbOrTx, ids: readonly string[]): Promise<Map<string, string>> {
  const staff = await Promise.all([...new Set(ids)].map((id) => getStaff(db, id)));
  return new Map(staff.filter((s) => s !== undefined).map((s) => [s.id, s.name]));
}

// Staff users and their memberships of organisations. Staff log in through OpenID Connect (no passwords
// here): an admin invites an e-mail address with a role, the first login with that address binds the
// user to the provider's issuer + subject (staff-login.ts). A membership can be disabled by the
// organisation's admin; `staff_users.disabled_at` disables the person everywhere.
import type { DbOrTx } from '../db/index.ts';
import type { StaffRole } from '../db/schema.ts';

export type { StaffRole } from '../db/schema.ts';
export const STAFF_ROLES = ['staff', 'admin'] as const satisfies readonly StaffRole[];

export interface StaffUser {
  id: string;
  email: string;
  name: string;
  title: string | null;
  phone: string | null;
  /** Bound to an OpenID provider account (has logged in at least once). */
  loginBound: boolean;
  lastLoginAt: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

/** A staff user as seen from one organisation. */
export interface OrganisationStaff extends StaffUser {
  organisationId: string;
  role: StaffRole;
  /** When this organisation's membership was disabled (or the user, whichever came first). */
  membershipDisabledAt: Date | null;
}

export interface Membership {
  organisationId: string;
  role: StaffRole;
}

export interface Invitation {
  email: string;
  name: string;
  title?: string | null | undefined;
  phone?: string | null | undefined;
  organisationId: string;
  role: StaffRole;
}

/** What an invitation did: a new user, a new membership for an existing user, or nothing. */
export type InviteOutcome = 'invited' | 'added' | 'reactivated' | 'already_member';

/** E-mail addresses are matched case-insensitively: stored trimmed and lower-case. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

type StaffRow = {
  id: string;
  email: string;
  name: string;
  title: string | null;
  phone: string | null;
  oidc_subject: string | null;
  last_login_at: Date | null;
  disabled_at: Date | null;
  created_at: Date;
};

const toStaff = (r: StaffRow): StaffUser => ({
  id: r.id,
  email: r.email,
  name: r.name,
  title: r.title,
  phone: r.phone,
  loginBound: r.oidc_subject !== null,
  lastLoginAt: r.last_login_at,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
});

const STAFF_COLUMNS = [
  's.id',
  's.email',
  's.name',
  's.title',
  's.phone',
  's.oidc_subject',
  's.last_login_at',
  's.disabled_at',
  's.created_at',
] as const;

export async function getStaff(db: DbOrTx, id: string): Promise<StaffUser | undefined> {
  const row = await db
    .selectFrom('staff_users as s')
    .select(STAFF_COLUMNS)
    .where('s.id', '=', id)
    .executeTakeFirst();
  return row && toStaff(row);
}

/** The staff member's own phone number ("Samtycke inhämtat av" on the forms they ask for). */
export async function setStaffPhone(db: DbOrTx, staffId: string, phone: string): Promise<void> {
  await db.updateTable('staff_users').set({ phone }).where('id', '=', staffId).execute();
}

export async function findStaffByEmail(db: DbOrTx, email: string): Promise<StaffUser | undefined> {
  const row = await db
    .selectFrom('staff_users as s')
    .select(STAFF_COLUMNS)
    .where('s.email', '=', normaliseEmail(email))
    .executeTakeFirst();
  return row && toStaff(row);
}

/**
 * Invites `email` to the organisation with `role`. An existing user (same e-mail) gets the membership;
 * their name and other details are left as they are. A disabled membership is enabled again with the
 * new role.
 */
export async function inviteStaff(
  db: DbOrTx,
  invitation: Invitation,
): Promise<{ staff: StaffUser; outcome: InviteOutcome }> {
  const email = normaliseEmail(invitation.email);
  const inserted = await db
    .insertInto('staff_users')
    .values({
      email,
      name: invitation.name,
      title: invitation.title ?? null,
      phone: invitation.phone ?? null,
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returning('id')
    .executeTakeFirst();
  const staff = await findStaffByEmail(db, email);
  if (!staff) throw new Error('staff user vanished while being invited');

  const existing = await db
    .selectFrom('staff_memberships')
    .select(['disabled_at'])
    .where('staff_id', '=', staff.id)
    .where('organisation_id', '=', invitation.organisationId)
    .executeTakeFirst();
  if (existing && existing.disabled_at === null) return { staff, outcome: 'already_member' };
  if (existing) {
    await db
      .updateTable('staff_memberships')
      .set({ disabled_at: null, role: invitation.role })
      .where('staff_id', '=', staff.id)
      .where('organisation_id', '=', invitation.organisationId)
      .execute();
    return { staff, outcome: 'reactivated' };
  }
  await db
    .insertInto('staff_memberships')
    .values({ staff_id: staff.id, organisation_id: invitation.organisationId, role: invitation.role })
    .execute();
  return { staff, outcome: inserted ? 'invited' : 'added' };
}

function organisationStaffQuery(db: DbOrTx, organisationId: string) {
  return db
    .selectFrom('staff_memberships as m')
    .innerJoin('staff_users as s', 's.id', 'm.staff_id')
    .select(STAFF_COLUMNS)
    .select(['m.organisation_id', 'm.role', 'm.disabled_at as membership_disabled_at'])
    .where('m.organisation_id', '=', organisationId);
}

type OrganisationStaffRow = StaffRow & {
  organisation_id: string;
  role: StaffRole;
  membership_disabled_at: Date | null;
};

const toOrganisationStaff = (r: OrganisationStaffRow): OrganisationStaff => {
  const disabled = [r.membership_disabled_at, r.disabled_at].filter((d): d is Date => d !== null);
  return {
    ...toStaff(r),
    organisationId: r.organisation_id,
    role: r.role,
    membershipDisabledAt: disabled.length ? new Date(Math.min(...disabled.map((d) => d.getTime()))) : null,
  };
};

export async function listOrganisationStaff(
  db: DbOrTx,
  organisationId: string,
): Promise<OrganisationStaff[]> {
  const rows = await organisationStaffQuery(db, organisationId).orderBy('s.name').orderBy('s.id').execute();
  return rows.map(toOrganisationStaff);
}

export async function getOrganisationStaff(
  db: DbOrTx,
  organisationId: string,
  staffId: string,
): Promise<OrganisationStaff | undefined> {
  const row = await organisationStaffQuery(db, organisationId).where('s.id', '=', staffId).executeTakeFirst();
  return row && toOrganisationStaff(row);
}

/** Ends one organisation's membership (the person keeps their other organisations). */
export async function disableMembership(
  db: DbOrTx,
  organisationId: string,
  staffId: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('staff_memberships')
    .set({ disabled_at: at })
    .where('staff_id', '=', staffId)
    .where('organisation_id', '=', organisationId)
    .where('disabled_at', 'is', null)
    .execute();
}

/** Disables the person everywhere: every membership stops counting. */
export async function disableStaff(db: DbOrTx, staffId: string, at: Date): Promise<void> {
  await db
    .updateTable('staff_users')
    .set({ disabled_at: at })
    .where('id', '=', staffId)
    .where('disabled_at', 'is', null)
    .execute();
}

/** The memberships that count: none for a disabled user, disabled memberships left out. */
export async function activeMemberships(db: DbOrTx, staffId: string): Promise<Membership[]> {
  const rows = await db
    .selectFrom('staff_memberships as m')
    .innerJoin('staff_users as s', 's.id', 'm.staff_id')
    .select(['m.organisation_id', 'm.role'])
    .where('m.staff_id', '=', staffId)
    .where('m.disabled_at', 'is', null)
    .where('s.disabled_at', 'is', null)
    .orderBy('m.organisation_id')
    .execute();
  return rows.map((r) => ({ organisationId: r.organisation_id, role: r.role }));
}

// Which staff user a staff login is: bound by the provider's issuer + subject; on the first login found by
// the invited e-mail address (staff_users.email), which the provider must say it has verified, and then
// bound to that issuer + subject for good. No passwords: the organisation's provider authenticates.
import type { Db, Tx } from '../db/index.ts';
import { AppError } from '../errors.ts';
import type { StaffIdentity } from './claims.ts';

export interface StaffLogin {
  staffId: string;
  name: string;
  /** Whether this login bound the account to the provider (its first login). */
  bound: boolean;
}

const UNKNOWN_MESSAGE =
  'Du har inget konto i Samtycke med den här inloggningen. Be din organisations administratör om en inbjudan.';

// Development only (a login through the built-in development IdP, which production refuses): a newcomer
// who logs in before `npm run seed:dev` must learn what to run, not to ask an administrator who does not
// exist.
const DEV_NO_STAFF_MESSAGE =
  'Det finns inga personalkonton ännu. I utvecklingsläget skapar kommandot npm run seed:dev ' +
  'testorganisationerna och deras personal. Kör det i projektmappen (det går bra medan tjänsten är igång) ' +
  'och logga sedan in igen som någon under rubriken Personal.';
const DEV_UNKNOWN_MESSAGE =
  'Den här testpersonen har inget personalkonto. Logga in som någon under rubriken Personal i ' +
  'utvecklingsinloggningen; saknas deras konton, kör npm run seed:dev i projektmappen och försök igen.';

/** Whether the login came from the built-in development IdP (mounted at `/dev-idp`; refused in production). */
function fromDevIdp(issuer: string): boolean {
  try {
    return new URL(issuer).pathname.replace(/\/+$/, '').endsWith('/dev-idp');
  } catch {
    return false;
  }
}

/** The `staff_unknown` error, with what to do in development. */
async function unknownStaff(tx: Tx, identity: StaffIdentity, reason: string): Promise<AppError> {
  let message = UNKNOWN_MESSAGE;
  if (fromDevIdp(identity.issuer)) {
    const any = await tx.selectFrom('staff_users').select('id').limit(1).executeTakeFirst();
    message = any ? DEV_UNKNOWN_MESSAGE : DEV_NO_STAFF_MESSAGE;
  }
  return new AppError('staff_unknown', message, { extra: { reason } });
}

/** Resolves and records a staff login; throws `staff_unknown` or `staff_disabled` with a message to show. */
export async function resolveStaffLogin(db: Db, identity: StaffIdentity, now: Date): Promise<StaffLogin> {
  return db.transaction().execute(async (tx) => {
    const bound = await tx
      .selectFrom('staff_users')
      .select(['id', 'name', 'disabled_at'])
      .where('oidc_issuer', '=', identity.issuer)
      .where('oidc_subject', '=', identity.subject)
      .forUpdate()
      .executeTakeFirst();
    if (bound) {
      refuseDisabled(bound.disabled_at);
      await tx.updateTable('staff_users').set({ last_login_at: now }).where('id', '=', bound.id).execute();
      return { staffId: bound.id, name: bound.name, bound: false };
    }

    // First login: only an address the provider has verified may claim an invitation.
    if (identity.email === undefined || identity.emailVerified !== true) {
      throw await unknownStaff(tx, identity, 'no_verified_email');
    }
    const invited = await tx
      .selectFrom('staff_users')
      .select(['id', 'name', 'disabled_at', 'oidc_issuer'])
      .where((eb) => eb(eb.fn('lower', ['email']), '=', identity.email!.toLowerCase()))
      .forUpdate()
      .executeTakeFirst();
    if (!invited) throw await unknownStaff(tx, identity, 'unknown');
    refuseDisabled(invited.disabled_at);
    if (invited.oidc_issuer !== null) {
      // The address belongs to an account already bound to another login: not this one's to take.
      throw new AppError('staff_unknown', UNKNOWN_MESSAGE, { extra: { reason: 'bound_to_other' } });
    }
    await tx
      .updateTable('staff_users')
      .set({ oidc_issuer: identity.issuer, oidc_subject: identity.subject, last_login_at: now })
      .where('id', '=', invited.id)
      .execute();
    return { staffId: invited.id, name: invited.name, bound: true };
  });
}

function refuseDisabled(disabledAt: Date | null): void {
  if (disabledAt !== null) {
    throw new AppError(
      'staff_disabled',
      'Ditt konto i Samtycke är avstängt. Kontakta din organisations administratör.',
    );
  }
}

// What a successful login leaves behind: a session (a new one, or the same person's renewed after a fresh
// identification) and its cookie. The callback (routes.ts) calls these once the provider's answer is
// checked; staff are bound to their account first (identity/staff-login.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity, StaffIdentity } from '../../identity/claims.ts';
import {
  createSession,
  endSession,
  reauthenticateSession,
  setSessionCookie,
} from '../../identity/sessions.ts';
import { resolveStaffLogin } from '../../identity/staff-login.ts';

export async function signerLoggedIn(
  request: FastifyRequest,
  reply: FastifyReply,
  identity: Identity,
  fresh: boolean,
) {
  const { db, keys, config, clock } = request.server;
  const now = clock.now();
  const auth = {
    name: identity.name,
    issuer: identity.issuer,
    subject: identity.subject,
    acr: identity.acr ?? null,
    authTime: identity.authTime ?? null,
  };
  const current = request.session;
  if (fresh && current?.audience === 'signer' && current.personalNumber === identity.personalNumber) {
    const renewed = await reauthenticateSession(db, keys, current, auth, now);
    if (renewed) {
      setSessionCookie(reply, config, renewed.id);
      request.log.info({ audience: 'signer', fresh, acr: auth.acr }, 'identified again');
      return;
    }
  }
  if (current) await endSession(db, current.idHash, now);
  const created = await createSession(
    db,
    keys,
    { audience: 'signer', staffId: null, personalNumber: identity.personalNumber, ...auth },
    { now, absoluteHours: config.session.absoluteHours },
  );
  setSessionCookie(reply, config, created.id);
  request.log.info({ audience: 'signer', fresh, acr: auth.acr }, 'logged in');
}

/**
 * An identification for an act also serves as the login: the same person's session is renewed, a
 * missing one is made. Someone else's session is left as it is (the act's handler refuses the act when
 * the identified person is not the signer).
 */
export async function actIdentified(request: FastifyRequest, reply: FastifyReply, identity: Identity) {
  const current = request.session;
  if (current && !(current.audience === 'signer' && current.personalNumber === identity.personalNumber))
    return;
  await signerLoggedIn(request, reply, identity, true);
}

export async function staffLoggedIn(request: FastifyRequest, reply: FastifyReply, identity: StaffIdentity) {
  const { db, keys, config, clock } = request.server;
  const now = clock.now();
  const staff = await resolveStaffLogin(db, identity, now);
  if (request.session) await endSession(db, request.session.idHash, now);
  const created = await createSession(
    db,
    keys,
    {
      audience: 'staff',
      staffId: staff.staffId,
      personalNumber: null,
      name: staff.name,
      issuer: identity.issuer,
      subject: identity.subject,
      acr: identity.acr ?? null,
      authTime: identity.authTime ?? null,
    },
    { now, absoluteHours: config.session.absoluteHours },
  );
  setSessionCookie(reply, config, created.id);
  request.log.info({ audience: 'staff', staffId: staff.staffId, bound: staff.bound }, 'logged in');
}

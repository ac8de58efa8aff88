// The invitation link: /s/:token → login → the consent under Mina samtycken. The token only leads there:
// it says which consent and role the link was for, so that someone else who opens it is refused (and the
// attempt recorded) rather than shown anything. Reading, signing and declining happen at the consent's
// own pages (sign-routes.ts), which a person can also reach by logging in at the service's address.
// The token is never logged (logging.ts masks /s/…) and never stored: the login the link starts returns to
// the link's id (`/mina-samtycken/inbjudan/:id`), since the login attempt keeps where to return in the
// database, where invitations keep only the token's hash (issue 15 §5). The id opens nothing by itself:
// that page wants the e-identification of the person the link is for before it says anything.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getLoadedConsent } from '../../consents/consent.repository.ts';
import { consentContext, resolveInvitation, resolveInvitationById } from '../../consents/index.ts';
import { invitationById, type ResolvedInvitation } from '../../consents/invitations.repository.ts';
import { assertSignerIsOnForm } from '../../consents/signer-check.ts';
import { isUuid } from '../../db/uuid.ts';
import { AppError } from '../../errors.ts';
import type { App } from '../types.ts';
import { signerActorOf, signerSession, toLogin } from './common.ts';

const hidden = { schema: { hide: true }, config: { auth: false as const } };

interface TokenParams {
  token: string;
}

/** Where the login the link starts returns: the link's id, never its token. */
export const afterLogin = (invitation: Pick<ResolvedInvitation, 'invitationId'>): string =>
  `/mina-samtycken/inbjudan/${invitation.invitationId}`;

export default async function invitationRoutes(app: App) {
  const { db, clock } = app;
  // The link's pages, counted per address (rate limit, issue 15 §1) before the token is looked up.
  const linkPage = { ...hidden, onRequest: app.limits.invitationPerAddress.hook };

  // 1. The invitation: nothing about the consent or the people, only what happens next.
  app.get<{ Params: TokenParams }>('/s/:token', linkPage, async (request, reply) => {
    const invitation = await resolveInvitation(db, app.keys, request.params.token, clock.now());
    return reply.page('signer/invitation', {
      title: 'En förfrågan om samtycke väntar på dig',
      loginHref: `/auth/login?returnTo=${encodeURIComponent(afterLogin(invitation))}`,
    });
  });

  /** The identified person must be the one the link is for (else `wrong_person`, recorded). */
  async function assertLinkHolder(
    request: FastifyRequest,
    session: NonNullable<ReturnType<typeof signerSession>>,
    link: Pick<ResolvedInvitation, 'consentId' | 'role'>,
  ) {
    const loaded = await getLoadedConsent(db, app.keys, link.consentId);
    const formSigner = loaded.signers.find((s) => s.role === link.role);
    if (!formSigner) throw new AppError('invitation_not_found');
    const actor = signerActorOf(session, link.role, formSigner.name);
    await assertSignerIsOnForm(consentContext(app), loaded, actor, 'sign', request.id);
  }

  const toConsent = (reply: FastifyReply, invitation: ResolvedInvitation) =>
    reply
      .header('cache-control', 'no-store')
      .redirect(`/mina-samtycken/${invitation.consentId}/granska`, 303);

  // 2. The link, for a browser that already has a session (or was sent here by an earlier version).
  app.get<{ Params: TokenParams }>('/s/:token/granska', linkPage, async (request, reply) => {
    const invitation = await resolveInvitation(db, app.keys, request.params.token, clock.now());
    const session = signerSession(request);
    if (!session) return toLogin(reply, afterLogin(invitation));
    await assertLinkHolder(request, session, invitation);
    return toConsent(reply, invitation);
  });

  // 3. Where the login returns. The id is no secret (it is in logs and in the login attempt), so nothing is
  // said about the link before the person it is for has identified: without a session, the login; someone
  // else is refused (and recorded) whatever became of the link; only then whether it is still good.
  app.get<{ Params: { id: string } }>('/mina-samtycken/inbjudan/:id', linkPage, async (request, reply) => {
    const { id } = request.params;
    if (!isUuid(id)) throw new AppError('invitation_not_found');
    const session = signerSession(request);
    if (!session) return toLogin(reply, afterLogin({ invitationId: id }));
    const link = await invitationById(db, id);
    if (!link) throw new AppError('invitation_not_found');
    await assertLinkHolder(request, session, link);
    return toConsent(reply, await resolveInvitationById(db, app.keys, id, clock.now()));
  });
}

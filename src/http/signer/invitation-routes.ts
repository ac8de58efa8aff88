// The invitation link: /s/:token → login → the consent under Mina samtycken. The token only leads there:
// it says which consent and role the link was for, so that someone else who opens it is refused (and the
// attempt recorded) rather than shown anything. Reading, signing and declining happen at the consent's
// own pages (sign-routes.ts), which a person can also reach by logging in at the service's address.
// The token is never logged (logging.ts masks /s/…); it travels only in our own relative URLs.
import { getLoadedConsent } from '../../consents/consent.repository.ts';
import { consentContext, resolveInvitation } from '../../consents/index.ts';
import { assertSignerIsOnForm } from '../../consents/signer-check.ts';
import { AppError } from '../../errors.ts';
import type { App } from '../types.ts';
import { signerActorOf, signerSession, toLogin } from './common.ts';

const hidden = { schema: { hide: true }, config: { auth: false as const } };

interface TokenParams {
  token: string;
}

export default async function invitationRoutes(app: App) {
  const { db, clock } = app;

  // 1. The invitation: nothing about the consent or the people, only what happens next.
  app.get<{ Params: TokenParams }>('/s/:token', hidden, async (request, reply) => {
    const { token } = request.params;
    await resolveInvitation(db, token, clock.now());
    return reply.page('signer/invitation', {
      title: 'En förfrågan om samtycke väntar på dig',
      loginHref: `/auth/login?returnTo=${encodeURIComponent(`/s/${token}/granska`)}`,
    });
  });

  // 2. After the login: the identified person must be the one the link is for; then the consent's page.
  app.get<{ Params: TokenParams }>('/s/:token/granska', hidden, async (request, reply) => {
    const { token } = request.params;
    const invitation = await resolveInvitation(db, token, clock.now());
    const session = signerSession(request);
    if (!session) return toLogin(reply, `/s/${token}/granska`);
    const loaded = await getLoadedConsent(db, invitation.consentId);
    const formSigner = loaded.signers.find((s) => s.role === invitation.role);
    if (!formSigner) throw new AppError('invitation_not_found');
    const actor = signerActorOf(session, invitation.role, formSigner.name);
    await assertSignerIsOnForm(consentContext(app), loaded, actor, 'sign', request.id);
    return reply
      .header('cache-control', 'no-store')
      .redirect(`/mina-samtycken/${invitation.consentId}/granska`, 303);
  });
}

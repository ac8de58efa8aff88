// The 'signer-pages' plugin: the guardian's and the youth's pages, server-rendered, Swedish, phone first.
//
//   GET  /s/:token                               the invitation: no personal data, how it works
//   GET  /s/:token/granska                       after login: checks the person, then the consent's page
//   GET  /mina-samtycken                         every consent the person is a signer of
//   GET  /mina-samtycken/:id/granska             read and sign (sign-routes.ts), also without a link
//   POST /mina-samtycken/:id/signera      (CSRF) the signature's own identification, then the signature
//   GET  /mina-samtycken/:id/underskrivet        the receipt page
//   GET  /mina-samtycken/:id/avboj, POST (CSRF)  decline
//   GET  /mina-samtycken/:id/dokument, /kvittens downloads
//   GET  /mina-samtycken/:id/atkomst             who has read the consent: staff and systems (mine-routes.ts)
//   GET  /mina-samtycken/:id/aterkalla           withdraw: the confirmation page (mine-routes.ts)
//   POST /mina-samtycken/:id/aterkalla    (CSRF) the withdrawal's own identification, then the withdrawal
//   GET  /mina-samtycken/:id/aterkallat          the confirmation
//
// Signing and withdrawing each start their own authorization request (prompt=login, max_age=0) with the
// act kept server-side; the act completes in its handler (`app.acts`, http/auth/) only when the provider's
// auth_time is after the act started. Routes declare `auth: false` on purpose: without a session a page
// sends the browser through the login (a redirect, not the JSON 401 the caller plugin would answer) and
// back. Errors here become Swedish pages (render-error.ts), never JSON.
import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import type { App } from '../types.ts';
import invitationRoutes from './invitation-routes.ts';
import mineRoutes from './mine-routes.ts';
import { renderSignerError } from './render-error.ts';
import signRoutes from './sign-routes.ts';

export { renderSignerError };

async function signerPages(app: App) {
  app.setErrorHandler((error: FastifyError, request, reply) => renderSignerError(request, reply, error));
  await app.register(invitationRoutes);
  await app.register(signRoutes);
  await app.register(mineRoutes);
}

export default fp(signerPages, {
  name: 'signer-pages',
  encapsulate: true,
  dependencies: ['identity', 'auth', 'views', 'signing'],
});

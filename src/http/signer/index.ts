// The 'signer-pages' plugin: the guardian's and the youth's pages, server-rendered, Swedish, phone first.
//
//   GET  /s/:token                 the invitation: no personal data, how e-identification works
//   GET  /s/:token/granska         after login: the form as HTML, what consenting means, the sign form
//   GET  /s/:token/dokument        the form's current revision as an inline PDF
//   POST /s/:token/signera  (CSRF) sign (fresh identification first); the receipt page
//   GET  /s/:token/signera         the sign form again, after the fresh identification
//   GET  /s/:token/avboj           decline: the confirmation page with an optional reason
//   POST /s/:token/avboj    (CSRF) decline
//   GET  /mina-samtycken           every consent the person is a signer of
//   GET  /mina-samtycken/:id/dokument, /kvittens   downloads
//   GET  /mina-samtycken/:id/aterkalla             withdraw: the confirmation page
//   POST /mina-samtycken/:id/aterkalla      (CSRF) withdraw (fresh identification first)
//
// Routes declare `auth: false` on purpose: without a session a page sends the browser through the login
// (a redirect, not the JSON 401 the caller plugin would answer) and back. Errors here become Swedish pages
// (templates/pages/signer/error.eta) with the error's status, never JSON.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type AppError, ERROR_CODES } from '../../errors.ts';
import { toAppError } from '../errors.ts';
import type { App } from '../types.ts';
import invitationRoutes from './invitation-routes.ts';
import myConsentsRoutes from './my-consents-routes.ts';

/** The message a person sees: ours for 4xx (written for them), the title only for 5xx. */
function shownMessage(e: AppError): string {
  return e.expose ? e.message : ERROR_CODES[e.code].title;
}

export function renderSignerError(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  const e = toAppError(error);
  if (e.status >= 500) request.log.error({ err: error, errorCode: e.code }, 'request failed');
  else request.log.info({ errorCode: e.code, status: e.status }, 'request rejected');
  const logoutCsrf = request.session?.csrfToken;
  if (e.code === 'wrong_person')
    return reply.page('signer/wrong-person', { title: ERROR_CODES.wrong_person.title, logoutCsrf }, 403);
  return reply.page(
    'signer/error',
    {
      title: ERROR_CODES[e.code].title,
      message: shownMessage(e),
      code: e.code,
      loggedIn: !!logoutCsrf,
      logoutCsrf,
    },
    e.status,
  );
}

async function signerPages(app: App) {
  app.setErrorHandler((error: FastifyError, request, reply) => renderSignerError(request, reply, error));
  await app.register(invitationRoutes);
  await app.register(myConsentsRoutes);
}

export default fp(signerPages, {
  name: 'signer-pages',
  encapsulate: true,
  dependencies: ['identity', 'views', 'signing'],
});

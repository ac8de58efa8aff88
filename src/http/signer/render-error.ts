// Errors on the signer pages are Swedish pages (templates/pages/signer/error.eta) with the error's status,
// never JSON: a person on a phone is on the other end.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppError, ERROR_CODES } from '../../errors.ts';
import { toAppError } from '../errors.ts';

/** The message a person sees: ours for 4xx (written for them), the title only for 5xx. */
function shownMessage(e: AppError): string {
  return e.expose ? e.message : ERROR_CODES[e.code].title;
}

/** Renders `error`; `back` is the way back to the page the act started from (an act's own identification). */
export function renderSignerError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  back?: { href: string; label: string },
) {
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
      back,
    },
    e.status,
  );
}

// The `staff-pages` plugin: server-rendered pages for staff (Swedish, no JavaScript). Routes:
//   GET  /personal                        start: log in, or the list of consents (list.ts)
//   GET  /samtycken/ny, POST              new request form (new-request.ts)
//   GET  /personal/sok, POST              search by the child's personal number, in a POST body (search.ts)
//   GET  /samtycken/:id/lankar            the invitation links just made, once (new-request.ts)
//   GET  /samtycken/:id                   the consent page; POST …/{paminn,avbryt,aterkalla,avsluta,fornya};
//   GET  …/{avbryt,aterkalla,avsluta}      the confirmation step before an act that cannot be undone;
//   GET  …/dokument, …/kvitto             downloads (consent.ts)
// Encapsulated: its error handler answers these routes with HTML pages instead of problem+json.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppError } from '../../errors.ts';
import { toAppError } from '../errors.ts';
import type { App } from '../types.ts';
import { staffFrame } from './common.ts';
import consentRoutes from './consent.ts';
import listRoutes, { LOGIN_HREF, loginPage } from './list.ts';
import newRequestRoutes from './new-request.ts';
import searchRoutes from './search.ts';

function errorPage(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  if (error.code === 'unauthorized' || error.code === 'session_expired') {
    const notice =
      error.code === 'session_expired'
        ? 'Du har varit inaktiv för länge. Logga in igen.'
        : 'Logga in som personal för att se sidan.';
    return loginPage(reply, 401, notice);
  }
  const texts: Partial<Record<string, { title: string; text: string }>> = {
    not_found: {
      title: 'Sidan finns inte',
      text: 'Sidan eller samtycket finns inte, eller så har du inte tillgång till det.',
    },
    csrf_failed: {
      title: 'Formuläret har gått ut',
      text: 'Ladda om sidan och försök igen. Formuläret skickades inte.',
    },
    forbidden: { title: 'Åtkomst nekad', text: 'Du har inte behörighet att göra detta.' },
    // A rate limit (http/rate-limit.ts): its message says how long to wait.
    too_many_requests: { title: 'För många försök', text: error.message },
  };
  const known = texts[error.code];
  const title = known?.title ?? (error.expose ? error.message : 'Något gick fel');
  const text = known?.text ?? (error.expose ? '' : 'Något gick fel hos oss. Försök igen om en stund.');
  const frame =
    request.session?.audience === 'staff' ? staffFrame(request, title) : { title, area: 'staff' as const };
  return reply.page('staff/error', { ...frame, heading: title, text, loginHref: LOGIN_HREF }, error.status);
}

async function staffPages(app: App) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toAppError(err);
    if (error.status >= 500) request.log.error({ err, errorCode: error.code }, 'request failed');
    else request.log.info({ errorCode: error.code, status: error.status }, 'request rejected');
    return errorPage(request, reply, error);
  });
  await app.register(listRoutes);
  await app.register(newRequestRoutes);
  await app.register(consentRoutes);
  await app.register(searchRoutes);
}

export default fp(staffPages, {
  name: 'staff-pages',
  dependencies: ['views', 'identity', 'caller-resolution', 'signing'],
  encapsulate: true,
});

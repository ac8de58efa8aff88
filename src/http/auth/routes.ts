// Login, fresh identification, callback and logout: browser routes answering redirects and Swedish pages.
//
//   GET  /auth/login?returnTo=/path        signer login (guardians, youths)
//   GET  /auth/staff/login?returnTo=/path  staff login
//   GET  /auth/callback                    the provider's answer → session → 303 to returnTo, or, for an
//                                          identification made for an act (begin-login.ts
//                                          startActIdentification), the act's handler
//   POST /auth/logout   (CSRF)             ends the session here, then at the provider where it can
//   GET  /auth/logged-out                  "Du är utloggad" (also where the provider sends the browser back)
//
// A failed login shows a page with what went wrong and a way to start again; nothing is stored (no session,
// no cookie), and the attempt, once taken, stays used. No URL, cookie or log line carries a personal number:
// the number only exists in the provider's tokens and in our session row.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES } from '../../errors.ts';
import { csrfValid } from '../../identity/csrf.ts';
import {
  type AttemptProblem,
  type ConsumedLoginAttempt,
  consumeLoginAttempt,
} from '../../identity/login-attempts.ts';
import { type Audience, clearSessionCookie, cookieNames, endSession } from '../../identity/sessions.ts';
import { toAppError } from '../errors.ts';
import { redirectToProvider } from './begin-login.ts';
import { actIdentified, signerLoggedIn, staffLoggedIn } from './logged-in.ts';
import { errorPage, loggedOutPage, type PageLink, sendPage } from './pages.ts';

const LOGIN_PATH: Readonly<Record<Audience, string>> = { signer: '/auth/login', staff: '/auth/staff/login' };
const hidden = { schema: { hide: true } } as const;

const ATTEMPT_MESSAGES: Record<AttemptProblem | 'missing', string> = {
  missing: 'Svaret från inloggningen saknar uppgifter. Börja om.',
  unknown: 'Inloggningen har gått ut eller är ogiltig. Börja om.',
  consumed: 'Inloggningen är redan använd. Börja om.',
  expired: 'Inloggningen tog för lång tid och har gått ut. Börja om.',
  other_browser:
    'Inloggningen påbörjades i en annan webbläsare (eller med kakor avstängda). Börja om i den här webbläsaren.',
};

function loginLink(audience: Audience, returnTo: string): PageLink {
  return { href: `${LOGIN_PATH[audience]}?returnTo=${encodeURIComponent(returnTo)}`, label: 'Börja om' };
}

/** The message to show: 4xx messages are written for the person; of 5xx only our own "provider down". */
function shown(e: AppError): string {
  return e.expose || e.code === 'service_unavailable' ? e.message : ERROR_CODES[e.code].title;
}

function queryValue(request: FastifyRequest, key: string): unknown {
  const query = request.query;
  return query && typeof query === 'object' ? (query as Record<string, unknown>)[key] : undefined;
}

function loginFailed(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  context: { audience: Audience; returnTo: string; act: boolean },
) {
  const e = toAppError(error);
  const extra = e.extra ?? {};
  const fields = {
    audience: context.audience,
    errorCode: e.code,
    reason: extra.reason,
    providerError: extra.providerError,
  };
  if (e.status >= 500) request.log.error({ ...fields, err: error }, 'login failed');
  else request.log.info(fields, 'login refused');
  // An act's identification that failed (cancelled, or answered from an earlier login): back to the
  // act's page, which asks again.
  const links: PageLink[] =
    context.act || e.code === 'fresh_auth_required'
      ? [{ href: context.returnTo, label: 'Tillbaka' }]
      : e.code === 'staff_unknown' || e.code === 'staff_disabled'
        ? []
        : [loginLink(context.audience, context.returnTo)];
  return sendPage(reply, e.status, errorPage({ title: ERROR_CODES[e.code].title, message: shown(e), links }));
}

export default async function loginRoutes(app: FastifyInstance) {
  const { config, db, clock } = app;
  const names = cookieNames(config.production);

  for (const audience of ['signer', 'staff'] as const) {
    app.get(LOGIN_PATH[audience], hidden, (request, reply) =>
      redirectToProvider(request, reply, audience, {
        returnTo: queryValue(request, 'returnTo'),
        status: 302,
      }),
    );
  }

  app.get('/auth/callback', hidden, async (request, reply) => {
    const now = clock.now();
    const search = new URL(request.url, 'http://callback.invalid').search;
    const state = new URLSearchParams(search).get('state');
    const taken: ConsumedLoginAttempt | AttemptProblem | 'missing' = state
      ? await consumeLoginAttempt(db, state, request.cookies[names.login], now)
      : 'missing';
    if (typeof taken === 'string') {
      request.log.info({ errorCode: 'login_state_invalid', reason: taken }, 'login refused');
      return sendPage(
        reply,
        400,
        errorPage({
          title: ERROR_CODES.login_state_invalid.title,
          message: ATTEMPT_MESSAGES[taken],
          links: [{ href: '/auth/login', label: 'Börja om' }],
        }),
      );
    }

    const { audience, returnTo, stored, act } = taken;
    const callbackUrl = new URL(app.identity.redirectUri);
    callbackUrl.search = search;
    try {
      if (audience === 'signer') {
        const rp = await app.identity.signer();
        const identity = await rp.completeLogin(callbackUrl, stored);
        if (act) {
          const handler = app.acts.get(act.kind);
          if (!handler) throw new AppError('login_state_invalid', ATTEMPT_MESSAGES.unknown);
          await actIdentified(request, reply, identity);
          request.log.info({ audience: 'signer', act: act.kind, acr: identity.acr }, 'identified for an act');
          return await handler(request, reply, { identity, act, actStartedAt: stored.createdAt });
        }
        await signerLoggedIn(request, reply, identity, stored.fresh);
      } else {
        const rp = await app.identity.staff();
        await staffLoggedIn(request, reply, await rp.completeLogin(callbackUrl, stored));
      }
    } catch (error) {
      return loginFailed(request, reply, error, { audience, returnTo, act: act !== null });
    }
    return reply.header('cache-control', 'no-store').redirect(returnTo, 303);
  });

  app.post('/auth/logout', hidden, async (request, reply) => {
    const session = request.session;
    reply.header('cache-control', 'no-store');
    if (!session) {
      // Nothing to end (never logged in, or already expired): nothing changes, so no token is needed.
      clearSessionCookie(reply, config);
      return reply.redirect('/auth/logged-out', 303);
    }
    if (!csrfValid(request)) throw new AppError('csrf_failed');
    await endSession(db, session.idHash, clock.now());
    clearSessionCookie(reply, config);
    request.log.info({ audience: session.audience }, 'logged out');
    let providerLogout: string | undefined;
    try {
      const rp = session.audience === 'signer' ? await app.identity.signer() : await app.identity.staff();
      providerLogout = rp.endSessionUrl({ postLogoutRedirectUri: app.identity.postLogoutRedirectUri });
    } catch (err) {
      // Logged out here all the same; the provider's own session ends when it ends.
      request.log.warn({ err }, 'provider logout not available');
    }
    return reply.redirect(providerLogout ?? '/auth/logged-out', 303);
  });

  app.get('/auth/logged-out', hidden, async (_request, reply) => sendPage(reply, 200, loggedOutPage()));

  // Errors of these routes are pages, not problem documents: a browser is on the other end. (The log
  // field is `errorCode`: the logger censors any `code` key, as it could be an authorization code.)
  app.setErrorHandler((error: unknown, request, reply) => {
    const e = toAppError(error);
    if (e.status >= 500) request.log.error({ err: error, errorCode: e.code }, 'request failed');
    else request.log.info({ errorCode: e.code, status: e.status }, 'request rejected');
    const title = ERROR_CODES[e.code].title;
    return sendPage(
      reply,
      e.status,
      errorPage({ title, message: shown(e), links: [{ href: '/', label: 'Till startsidan' }] }),
    );
  });
}

// Sends the browser to the OpenID provider: a login attempt row (server-side), the browser-binding cookie,
// and the redirect. Used by the login routes and by every act that needs its own identification.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../identity/claims.ts';
import {
  LOGIN_ATTEMPT_TTL_SECONDS,
  type PendingAct,
  safeReturnTo,
  saveLoginAttempt,
} from '../../identity/login-attempts.ts';
import { type Audience, cookieNames, cookieOptions, randomToken } from '../../identity/sessions.ts';

/** Where a login returns when no (valid) returnTo was given. */
export const DEFAULT_RETURN: Readonly<Record<Audience, string>> = {
  signer: '/mina-samtycken',
  staff: '/',
};

const BINDING = /^[A-Za-z0-9_-]{43}$/;

export interface BeginOptions {
  returnTo: unknown;
  /** 302 for a link followed (GET), 303 after a form post. */
  status: 302 | 303;
  /** The act this identification is for: then prompt=login and max_age=0, an identification made now. */
  act?: PendingAct;
  /** Shown by the provider where it supports the Swedish profile's user message (no personal data). */
  userMessage?: string;
}

export async function redirectToProvider(
  request: FastifyRequest,
  reply: FastifyReply,
  audience: Audience,
  options: BeginOptions,
): Promise<FastifyReply> {
  const app = request.server;
  const { config } = app;
  const names = cookieNames(config.production);
  const returnTo = safeReturnTo(options.returnTo, DEFAULT_RETURN[audience]);
  // Counted before the attempt's row is written: too many starts from one address write none.
  await app.limits.loginPerAddress.take(request, reply);
  const rp = audience === 'signer' ? await app.identity.signer() : await app.identity.staff();
  const attempt = await rp.beginLogin({
    fresh: options.act !== undefined,
    ...(options.userMessage && config.oidc.userMessage ? { userMessage: options.userMessage } : {}),
  });
  // One binding per browser: logins in two tabs both finish.
  const existing = request.cookies[names.login];
  const binding = existing && BINDING.test(existing) ? existing : randomToken();
  await saveLoginAttempt(app.db, attempt, {
    audience,
    returnTo,
    browserBinding: binding,
    ...(options.act ? { act: options.act } : {}),
  });
  reply.setCookie(names.login, binding, cookieOptions(config.production, LOGIN_ATTEMPT_TTL_SECONDS));
  return reply.header('cache-control', 'no-store').redirect(attempt.url, options.status);
}

/** What an act's handler gets back from the provider: who identified, for which act, started when. */
export interface IdentifiedAct {
  identity: Identity;
  act: PendingAct;
  /** When the act's identification was asked for; `auth_time` was checked to be after it. */
  actStartedAt: Date;
}

/** Completes an act after its identification and answers the browser (a redirect or a page). */
export type ActHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  identified: IdentifiedAct,
) => Promise<FastifyReply>;

/**
 * Starts the identification for an act (signing, withdrawing): its own authorization request with
 * prompt=login and max_age=0, with the act kept server-side in the login attempt. The callback hands the
 * identity to the handler registered for `act.kind` (`app.acts`, index.ts). `returnTo` is where "Tillbaka"
 * leads if the identification fails.
 */
export function startActIdentification(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { act: PendingAct; returnTo: string; userMessage?: string },
): Promise<FastifyReply> {
  return redirectToProvider(request, reply, 'signer', { ...options, status: 303 });
}

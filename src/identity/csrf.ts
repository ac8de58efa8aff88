// CSRF protection for every state-changing form post (OWASP CSRF Prevention Cheat Sheet):
// - with a session: the synchronizer token stored in the session row;
// - without one (e.g. a form shown before login): a double-submit cookie, HttpOnly and `__Host-` in
//   production, whose value the form repeats.
// Plus defence in depth from the browser's own headers: `Sec-Fetch-Site` other than `same-origin` and an
// `Origin` naming another site are refused. `Origin: null` is not refused on its own: browsers send it
// legitimately (e.g. a same-origin form post from a page whose referrer policy is `no-referrer`, per the
// Fetch standard's "serialize a request origin"), so the token decides then. SameSite=Lax on the session
// cookie already keeps it off cross-site posts; the token is what makes that not the only line.
// The hidden form field that carries the token is markup: http/csrf-field.ts.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { cookieNames, cookieOptions, randomToken } from './sessions.ts';

/** The form field (and `x-csrf-token` header for scripts) that carries the token. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** A double-submit token made for this response, written as a cookie when the response is sent. */
const pendingCookies = new WeakMap<FastifyRequest, string>();

/** The token a form on this response must carry. */
export function csrfToken(request: FastifyRequest): string {
  if (request.session) return request.session.csrfToken;
  const name = cookieNames(request.server.config.production).csrf;
  const existing = request.cookies[name];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  let token = pendingCookies.get(request);
  if (!token) {
    token = randomToken();
    pendingCookies.set(request, token);
  }
  return token;
}

/** onSend: writes a double-submit cookie made while rendering this response. */
export function writeCsrfCookie(request: FastifyRequest, reply: FastifyReply): void {
  const token = pendingCookies.get(request);
  if (token === undefined) return;
  const { production } = request.server.config;
  // A day: long enough for a form left open, short enough not to follow the browser around.
  reply.setCookie(cookieNames(production).csrf, token, cookieOptions(production, 24 * 3600));
}

function submittedToken(request: FastifyRequest): string | undefined {
  const body = request.body;
  if (body && typeof body === 'object' && CSRF_FIELD in body) {
    const value = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof value === 'string') return value;
  }
  const header = request.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the request's token is the one its session (or its double-submit cookie) holds. */
export function csrfValid(request: FastifyRequest): boolean {
  // Fetch Metadata (W3C): sent by current browsers, never forgeable by a page.
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = request.headers.origin;
  if (
    origin !== undefined &&
    origin !== 'null' &&
    origin !== new URL(request.server.config.publicBaseUrl).origin
  )
    return false;
  const submitted = submittedToken(request);
  if (!submitted) return false;
  if (request.session) return same(submitted, request.session.csrfToken);
  const cookie = request.cookies[cookieNames(request.server.config.production).csrf];
  return cookie !== undefined && cookie !== '' && same(submitted, cookie);
}

/** preHandler for every state-changing form post: refuses with `csrf_failed` (403). */
export async function requireCsrf(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (!csrfValid(request)) throw new AppError('csrf_failed');
}

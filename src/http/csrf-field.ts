// The CSRF token as a form carries it: a hidden input for every form that posts (identity/csrf.ts makes and
// checks the token).
import type { FastifyRequest } from 'fastify';
import { CSRF_FIELD, csrfToken } from '../identity/csrf.ts';
import { escapeHtml } from './auth/pages.ts';

/** The hidden input with the token, for every form that posts. */
export function csrfField(request: FastifyRequest): string {
  return `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrfToken(request))}">`;
}

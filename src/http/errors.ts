// The one error handler: every error becomes an RFC 9457 problem+json answer. 5xx details are logged
// (without personal data, see logging.ts) and hidden from the caller.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode, isAppError } from '../errors.ts';
import { problem } from './problem.ts';

/** Fastify's own error codes that are the caller's fault, mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_VALIDATION: 'validation_failed',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

/** Turn any thrown value into an AppError (unknown errors become internal_error, keeping the cause). */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((v) => ({
      field: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)]
        .filter(Boolean)
        .join('.'),
      message: v.message ?? 'ogiltigt värde',
    }));
    return new AppError('validation_failed', 'En eller flera uppgifter är inte giltiga.', {
      extra: { errors },
    });
  }
  const fe = error as Partial<FastifyError>;
  const mapped = (fe.code && FASTIFY_CODES[fe.code]) || (fe.statusCode && STATUS_CODES[fe.statusCode]);
  if (mapped && (fe.statusCode ?? 400) < 500) {
    // Fastify's messages for these do not contain request data; they are in English, so use our title.
    return new AppError(mapped, undefined, { cause: error });
  }
  return new AppError('internal_error', undefined, { cause: error });
}

/** A browser navigating to a page (not the API, the token endpoint or the development IdP). */
function wantsPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (/^\/(api|oauth|dev-idp|openapi|docs|health)(\/|\.|$)/.test(request.url)) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

export function sendProblem(reply: FastifyReply, error: AppError) {
  const body = problem(error.code, error.expose ? error.message : undefined, error.extra ?? {});
  return reply.code(error.status).type('application/problem+json').send(body);
}

export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const appError = toAppError(error);
      if (appError.status >= 500)
        request.log.error({ err: error, errorCode: appError.code }, 'request failed');
      else request.log.info({ errorCode: appError.code, status: appError.status }, 'request rejected');
      return sendProblem(reply, appError);
    });
    app.setNotFoundHandler((request, reply) => {
      // A person's browser gets a Swedish page; API clients (and anything not asking for HTML) the problem.
      if (wantsPage(request) && typeof reply.page === 'function')
        return reply.page('not-found', { title: 'Sidan finns inte' }, 404);
      return sendProblem(reply, new AppError('not_found'));
    });
  },
  { name: 'errors' },
);

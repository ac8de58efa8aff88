// The one error handler: every error becomes an RFC 9457 problem+json answer. 5xx details are logged
// (without personal data, see logging.ts) and hidden from the caller. Fastify's answers before a request
// reaches a route (a bad URL, a path parameter over maxParamLength) and Node's answers to a request it
// could not parse (headers too large, a timeout) take the same shape: `earlyErrorHandler` and
// `clientErrorHandler`, given to Fastify in app.ts. No answer ever quotes the URL or a value sent.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES as HTTP_REASONS } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_CODES, type ErrorCode, isAppError } from '../errors.ts';
import { errorPage, sendPage } from './auth/pages.ts';
import { logRequest, sanitizeUrl } from './logging.ts';
import { problem } from './problem.ts';
import { EARLY_ANSWER_HEADERS } from './security-headers.ts';

/** Fastify's own error codes that are the caller's fault, mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_INVALID_URL: 'bad_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'headers_too_large',
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
  const status = fe.statusCode;
  // Any other 4xx of Fastify or a plugin is still the caller's: a 400, never a 500.
  const mapped =
    (fe.code && FASTIFY_CODES[fe.code]) ||
    (status && STATUS_CODES[status]) ||
    (status && status >= 400 && status < 500 ? 'bad_request' : undefined);
  if (mapped && (status ?? 400) < 500) {
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

/** The page a person's browser gets for an address that cannot be one of ours (never quoting it). */
const BAD_ADDRESS_PAGE = errorPage({
  title: 'Sidan finns inte',
  message:
    'Adressen är inte giltig. Kontrollera att hela adressen kom med, om du har skrivit av eller kopierat den.',
  links: [
    { href: '/mina-samtycken', label: 'Mina samtycken' },
    { href: '/', label: 'Till startsidan', secondary: true },
  ],
});

/**
 * Fastify's `frameworkErrors`: its answers before routing (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH). No
 * hook runs for these, so the request id and the request's log line are given here.
 */
export function earlyErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(error);
  reply.header('x-request-id', request.id).headers(EARLY_ANSWER_HEADERS);
  if (wantsPage(request)) sendPage(reply, appError.status, BAD_ADDRESS_PAGE);
  else sendProblem(reply, appError);
  if (appError.status >= 500) request.log.error({ err: error, errorCode: appError.code }, 'request failed');
  logRequest(request, reply, { errorCode: appError.code });
}

/** The method and sanitised path of a request Node could not parse, when its first line came through. */
function requestLineOf(error: ConnectionError): { method?: string; url?: string } {
  const raw = error.rawPacket as unknown;
  if (!Buffer.isBuffer(raw)) return {};
  const line = /^([A-Z]{1,16}) (\S{1,8192}) HTTP\/1\.[01]\r?\n/.exec(
    raw.subarray(0, 8300).toString('latin1'),
  );
  return line?.[1] && line[2] ? { method: line[1], url: sanitizeUrl(line[2]) } : {};
}

/**
 * Fastify's `clientErrorHandler` (`this` is the instance): Node could not parse the request (headers too
 * large: 431, a timeout: 408, anything else: 400). The answer is written to the socket as problem+json
 * with a new request id, and one log line says so.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A connection reset: nobody is there to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'bad_request';
  const { status } = ERROR_CODES[code];
  const reqId = randomUUID();
  const body = JSON.stringify(problem(code));
  this.log.info(
    { reqId, ...requestLineOf(error), status, errorCode: code, parserError: error.code },
    'request',
  );
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${HTTP_REASONS[status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${reqId}\r\n` +
        'Cache-Control: no-store\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  socket.destroy(error);
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

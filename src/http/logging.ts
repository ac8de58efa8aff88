// Logging without personal data. Three layers, because one is never enough:
// 1. serializers log only what we choose of a request (method, a sanitised path, status, timing);
// 2. keys that hold personal data or secrets are censored wherever they appear in a log object;
// 3. the final JSON line is scanned and anything shaped like a Swedish personal identity number or an
//    e-mail address is masked, whatever key or message it hides in (domain/personal-data.ts).
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskPersonalData } from '../domain/personal-data.ts';

const SENSITIVE_KEY =
  /^(authorization|cookie|set-cookie|password|secret|client_secret|token|access_token|id_token|refresh_token|code|code_verifier|state|nonce|personal_?number|personalidentitynumber|pnr|ssn|nin|name|given_?name|family_?name|first_?name|last_?name|phone|mobile|e-?mail|address)$/i;

const MAX_DEPTH = 6;
function censor(value: unknown, depth: number, underError: boolean): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => censor(v, depth + 1, underError));
  // Only plain objects are walked; class instances (errors, requests) go to their serializers, and the
  // final line is masked by maskingDestination whatever they print.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // An error's own `name` (TypeError, AppError…) is not personal data.
    if (SENSITIVE_KEY.test(key) && !(underError && key === 'name' && typeof v === 'string'))
      out[key] = '[censurerat]';
    else out[key] = censor(v, depth + 1, underError || key === 'err' || key === 'error' || key === 'cause');
  }
  return out;
}

/** A long opaque value (a token, a hash) in a path segment or a query key; uuids are kept. */
const opaque = (part: string): boolean => part.length >= 32 && !/^[0-9a-f-]{36}$/i.test(part);

/**
 * A request path safe to log: invitation tokens (`/s/{token}`) and other long opaque path segments (and
 * query keys) are replaced, and query values dropped (keys kept).
 */
export function sanitizeUrl(url: string): string {
  const [pathPart = '', query] = url.split('?', 2);
  const path = pathPart
    .split('/')
    .map((seg, i, all) => {
      if (all[i - 1] === 's' && i === 2) return '[token]';
      return opaque(seg) ? '[…]' : seg;
    })
    .join('/');
  if (!query) return path;
  const keys = query.split('&').map((kv) => kv.split('=')[0] ?? '');
  return `${path}?${keys.map((k) => `${opaque(k) ? '[…]' : k}=…`).join('&')}`;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => censor(obj, 0, false) as Record<string, unknown>,
    },
    serializers: {
      req: (req: IncomingMessage & { id?: string }) => ({
        method: req.method,
        url: sanitizeUrl(req.url ?? ''),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
}

/** A destination that masks personal data in every line before it reaches `target`. */
export function maskingDestination(target: { write(line: string): unknown }): DestinationStream {
  return { write: (line: string) => target.write(maskPersonalData(line)) };
}

export function createLogger(
  level: string,
  target: { write(line: string): unknown } = process.stdout,
): Logger {
  return pino(loggerOptions(level), maskingDestination(target));
}

/** The one log line of a request (app.ts logs it on response; early error answers log it themselves). */
export function logRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  extra: Record<string, unknown> = {},
) {
  request.log.info(
    {
      method: request.method,
      url: sanitizeUrl(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...extra,
    },
    'request',
  );
}

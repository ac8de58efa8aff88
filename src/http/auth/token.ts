// POST /oauth/token: OAuth 2.0 client credentials grant (RFC 6749 §4.4) for other HLT systems. Client
// authentication by HTTP Basic (client_secret_basic, §2.3.1) or form fields (client_secret_post). Answers
// a 10-minute access token (identity/caller.ts `accessTokens`).
//
// Errors here follow RFC 6749 §5.2 — `{ error, error_description }` as application/json — NOT our
// problem+json: OAuth client libraries expect that shape. This route is the one documented exception.
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hasForbiddenCharacter, textInput } from '../../domain/text.ts';
import {
  authenticateClient,
  CONSENT_SCOPES,
  type ConsentScope,
  isConsentScope,
} from '../../identity/api-clients.ts';
import { isAppError } from '../../errors.ts';
import { sendProblem, toAppError } from '../errors.ts';
import { problemSchema } from '../problem.ts';
import type { App } from '../types.ts';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'server_error';

/** An RFC 6749 §5.2 error. The description is for developers and never contains request values. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
  get status(): number {
    if (this.error === 'invalid_client') return 401;
    return this.error === 'server_error' ? 500 : 400;
  }
}

const MAX_PARAM = 512;
const param = (description: string) => textInput().max(MAX_PARAM).optional().meta({ description });

const tokenRequestSchema = z
  .object({
    grant_type: param('Must be `client_credentials`.'),
    scope: param(
      `Space-separated scopes: ${CONSENT_SCOPES.join(', ')}. Omitted: every scope the client is registered for.`,
    ),
    client_id: param('client_secret_post only (else use HTTP Basic).'),
    client_secret: param('client_secret_post only (else use HTTP Basic).'),
  })
  .meta({ id: 'TokenRequest' });
type TokenRequest = z.infer<typeof tokenRequestSchema>;

const tokenResponseSchema = z
  .object({
    access_token: z.string().meta({ description: 'A JWT (RFC 9068) to send as `Authorization: Bearer …`' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds (600)' }),
    scope: z.string().meta({ description: 'The granted scopes, space-separated' }),
  })
  .meta({ id: 'TokenResponse' });

const oauthErrorSchema = z
  .object({
    error: z.enum([
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_scope',
      'server_error',
    ]),
    error_description: z.string(),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 §5.2 error response (not problem+json)' });

/** Form decoding of a Basic credential part (RFC 6749 §2.3.1: encoded before base64). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** The client's id and secret from exactly one of the two methods. */
function clientCredentials(
  request: FastifyRequest,
  body: TokenRequest,
): { clientId: string; secret: string } {
  const header = request.headers.authorization;
  const inBody = body.client_id !== undefined || body.client_secret !== undefined;
  if (header !== undefined) {
    if (inBody)
      throw new OAuthError(
        'invalid_request',
        'Use one client authentication method: HTTP Basic or form fields.',
      );
    const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
    if (!match?.[1]) throw new OAuthError('invalid_client', 'Client authentication must be HTTP Basic.');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.');
    let credentials: { clientId: string; secret: string };
    try {
      credentials = {
        clientId: formDecode(decoded.slice(0, colon)),
        secret: formDecode(decoded.slice(colon + 1)),
      };
    } catch {
      throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.');
    }
    // The form fields get this check from their schema; a control character is no client's id or secret.
    if (hasForbiddenCharacter(credentials.clientId) || hasForbiddenCharacter(credentials.secret))
      throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials.');
    return credentials;
  }
  if (!body.client_id || !body.client_secret)
    throw new OAuthError('invalid_client', 'Client authentication is required.');
  return { clientId: body.client_id, secret: body.client_secret };
}

function grantedScopes(requested: string | undefined, registered: readonly ConsentScope[]): ConsentScope[] {
  const tokens = (requested ?? '').split(' ').filter(Boolean);
  if (tokens.length === 0) return [...registered];
  for (const token of tokens) {
    if (!isConsentScope(token)) throw new OAuthError('invalid_scope', 'Unknown scope requested.');
    if (!registered.includes(token))
      throw new OAuthError('invalid_scope', 'The client is not registered for a requested scope.');
  }
  return CONSENT_SCOPES.filter((s) => tokens.includes(s));
}

function sendOAuthError(reply: FastifyReply, error: OAuthError) {
  if (error.error === 'invalid_client')
    reply.header('www-authenticate', 'Basic realm="samtycke", charset="UTF-8"');
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json')
    .send({ error: error.error, error_description: error.description });
}

/** Every failure of this route in the RFC 6749 shape (body parsing and validation included). */
function oauthErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // RFC 6749 has no error for this: the rate limit answers as the rest of the API does (problem+json).
  if (isAppError(error) && error.code === 'too_many_requests') {
    request.log.info({ errorCode: error.code, status: error.status }, 'token request rejected');
    return sendProblem(reply.header('cache-control', 'no-store'), error);
  }
  if (error instanceof OAuthError) {
    request.log.info({ code: error.error, status: error.status }, 'token request rejected');
    return sendOAuthError(reply, error);
  }
  // The caller's fault or ours, as for every other route (errors.ts `toAppError`: our own errors, such as
  // the JSON parser's 415 and 400, carry `status`; Fastify's and the plugins' carry `statusCode`).
  if (toAppError(error).status < 500) {
    request.log.info({ code: 'invalid_request', status: 400 }, 'token request rejected');
    return sendOAuthError(reply, new OAuthError('invalid_request', 'Malformed token request.'));
  }
  request.log.error({ err: error }, 'token request failed');
  return sendOAuthError(reply, new OAuthError('server_error', 'The token could not be issued.'));
}

export default async function tokenRoutes(app: App) {
  // Encapsulated here: other plugins may register their own form parser.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);

  app.post(
    '/oauth/token',
    {
      config: { auth: false },
      errorHandler: oauthErrorHandler,
      onRequest: app.limits.tokenPerAddress.hook,
      schema: {
        tags: ['oauth'],
        summary: 'Get an access token (OAuth 2.0 client credentials)',
        description:
          'RFC 6749 §4.4. The body is `application/x-www-form-urlencoded`; the client authenticates with ' +
          'HTTP Basic (`client_id:client_secret`, each form-encoded first) or with `client_id` and ' +
          '`client_secret` in the form — not both. The token lives 10 minutes; send it as ' +
          '`Authorization: Bearer …`. **Errors are the RFC 6749 §5.2 JSON shape `{ error, ' +
          'error_description }`, not problem+json** (the one exception in this API): 400 for ' +
          '`invalid_request`, `unsupported_grant_type`, `invalid_scope`; 401 with `WWW-Authenticate: Basic` ' +
          'for `invalid_client`. Answers carry `Cache-Control: no-store`. Too many requests per client ' +
          'or per address: 429 `too_many_requests` as problem+json with `Retry-After`.',
        consumes: ['application/x-www-form-urlencoded'],
        security: [{ clientSecretBasic: [] }, {}],
        body: tokenRequestSchema,
        response: {
          200: tokenResponseSchema,
          400: oauthErrorSchema,
          401: oauthErrorSchema,
          429: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const contentType = request.headers['content-type'] ?? '';
      if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType))
        throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
      const body = request.body;
      if (!body.grant_type) throw new OAuthError('invalid_request', 'grant_type is required.');
      if (body.grant_type !== 'client_credentials')
        throw new OAuthError('unsupported_grant_type', 'Only client_credentials is supported.');
      const { clientId, secret } = clientCredentials(request, body);
      // Counted before the secret is checked: guessing is limited per client as well as per address.
      await app.limits.tokenPerClient.take(request, reply, `client:${clientId}`);
      const client = await authenticateClient(app.db, app.config.clientSecretHmacKey, clientId, secret);
      if (!client) throw new OAuthError('invalid_client', 'Client authentication failed.');
      const scopes = grantedScopes(body.scope, client.scopes);
      const { token, expiresIn } = app.accessTokens.issue(client, scopes);
      request.log.info({ apiClient: client.id, scope: scopes.join(' ') }, 'access token issued');
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({
          access_token: token,
          token_type: 'Bearer' as const,
          expires_in: expiresIn,
          scope: scopes.join(' '),
        });
    },
  );
}

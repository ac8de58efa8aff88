// A second OpenID provider, written by hand for the tests, that behaves like a Swedish eID broker: its
// own origin (a node:http server on its own port), the `ssn` claim, LoA 3 in `acr`, PKCE S256 required,
// the RFC 9207 `iss` in every authorization response, and a single-sign-on session: a request without
// `prompt=login` (and without a `max_age` the session is too old for) comes back at once with the *old*
// `auth_time`. Only `prompt=login` / `max_age` force a new identification, as at a real broker.
// Optionally it announces the Swedish OIDC profile's "Client Provided User Message" (Authentication
// Request Parameter Extensions for the Swedish OpenID Connect Profile, §2.1 and §3.1).
//
// It never writes to the console: what it saw is in `log` for the test to assert on. People, numbers and
// secrets are fictional (src/identity/dev-idp/people.ts).
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../src/clock.ts';
import { localDateOf } from '../../src/domain/dates.ts';
import { createTestPeople, type TestPerson } from '../../src/identity/dev-idp/people.ts';

export const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
/** §2.1: the request parameter; its value is UTF-8 JSON `{ "message#sv": base64(text), "mime_type" }`. */
export const USER_MESSAGE_PARAM = 'https://id.oidc.se/param/userMessage';
/** §3.1.1 and §3.1.2: the discovery parameters that announce it. */
export const USER_MESSAGE_SUPPORTED = 'https://id.oidc.se/disco/userMessageSupported';
export const USER_MESSAGE_MIME_TYPES = 'https://id.oidc.se/disco/userMessageSupportedMimeTypes';

const SSO_COOKIE = 'broker_sso';
const CODE_TTL_MS = 60_000;
const ID_TOKEN_TTL_S = 300;

/** One authorization request as the broker saw it. */
export interface AuthorizationRecord {
  at: Date;
  clientId: string;
  prompt: string | null;
  maxAge: string | null;
  acrValues: string | null;
  /** Answered at once from the SSO session (no login page). */
  answeredFromSso: boolean;
  /** How the request ended: a code, an error (e.g. `invalid_request`), or still at the login page. */
  outcome: 'code' | 'login_page' | `error:${string}`;
  /** `auth_time` of the identification the code carries (the SSO session's, or a new one). */
  authTime?: Date;
  /** The raw userMessage parameter, when sent. */
  userMessageRaw?: string;
  /** The decoded messages by language tag ('' = no tag) and the MIME type, when it parsed. */
  userMessage?: { messages: Record<string, string>; mimeType: string };
}

export interface BrokerOptions {
  /** Test people; default: those of the development IdP (so the same consent fixtures work). */
  people?: TestPerson[];
  clientId?: string;
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /**
   * Misbehave like some brokers do: answer from the SSO session (with its old auth_time) even when the
   * request says prompt=login or max_age=0. The service must then refuse the act.
   */
  ignoresForcedLogin?: boolean;
  /** Announce and honour the Client Provided User Message (§2.1, §3.1). */
  userMessageSupport?: boolean;
  clock?: Clock;
}

export interface Broker {
  /** `http://127.0.0.1:<port>`: its own origin. */
  issuer: string;
  origin: string;
  log: AuthorizationRecord[];
  clientId: string;
  clientSecret: string;
  /** The service's environment for this broker (signers and staff both log in here). */
  env: Record<string, string>;
  /** Ends every SSO session (as if the browser's broker session expired). */
  forgetSessions(): void;
  close(): Promise<void>;
}

interface Session {
  personKey: string;
  authTime: Date;
}
interface PendingLogin {
  params: URLSearchParams;
  record: AuthorizationRecord;
}
interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  personKey: string;
  authTime: Date;
  expires: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const token = () => randomBytes(24).toString('base64url');

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export async function startBrokerIdp(options: BrokerOptions): Promise<Broker> {
  const clock = options.clock ?? systemClock;
  const people = options.people ?? createTestPeople(localDateOf(clock.now())).people;
  const clientId = options.clientId ?? 'samtycke';
  const clientSecret = options.clientSecret ?? `broker-test-secret-${token()}`;
  const postLogoutUris = options.postLogoutRedirectUris ?? [];
  // The login form's post is answered with a redirect to the client: CSP form-action must allow it.
  const clientOrigins = [...new Set(options.redirectUris.map((u) => new URL(u).origin))];
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = b64url(
    createHash('sha256')
      .update(JSON.stringify(publicKey.export({ format: 'jwk' })))
      .digest(),
  ).slice(0, 16);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };

  const sessions = new Map<string, Session>();
  const pending = new Map<string, PendingLogin>();
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, { personKey: string; expires: number }>();
  const log: AuthorizationRecord[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof OAuthError) {
        json(res, error.status, { error: error.error, error_description: error.description });
      } else {
        // No details: they could hold request data. The test sees the status.
        json(res, 500, { error: 'server_error' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = origin;

  const personOf = (key: string): TestPerson => {
    const p = people.find((x) => x.key === key);
    if (!p) throw new OAuthError('server_error', 'unknown person', 500);
    return p;
  };
  // A stable, opaque subject per person at this broker: never the personal number itself.
  const subjectOf = (p: TestPerson) =>
    createHash('sha256').update(`${issuer}|${p.personalNumber}`).digest('hex').slice(0, 32);
  const claimsOf = (p: TestPerson): Record<string, unknown> => ({
    sub: subjectOf(p),
    ssn: p.personalNumber,
    name: p.name,
    given_name: p.givenName,
    family_name: p.familyName,
    ...(p.email ? { email: p.email, email_verified: true } : {}),
  });

  function signJwt(payload: Record<string, unknown>, key: KeyObject): string {
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
    const body = b64url(JSON.stringify(payload));
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), { key, dsaEncoding: 'ieee-p1363' });
    return `${header}.${body}.${b64url(signature)}`;
  }

  function redirectBack(
    res: ServerResponse,
    redirectUri: string,
    params: Record<string, string | null>,
    extraHeaders: Record<string, string> = {},
  ) {
    const url = new URL(redirectUri);
    // RFC 9207: the issuer goes with every authorization response, success or error.
    url.searchParams.set('iss', issuer);
    for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
    res.writeHead(302, { location: url.href, 'cache-control': 'no-store', ...extraHeaders });
    res.end();
  }

  function issueCode(params: URLSearchParams, personKey: string, authTime: Date): string {
    const code = token();
    codes.set(code, {
      clientId,
      redirectUri: params.get('redirect_uri') ?? '',
      codeChallenge: params.get('code_challenge') ?? '',
      nonce: params.get('nonce'),
      personKey,
      authTime,
      expires: clock.now().getTime() + CODE_TTL_MS,
    });
    return code;
  }

  function sessionOf(req: IncomingMessage): Session | undefined {
    const sid = cookies(req)[SSO_COOKIE];
    return sid ? sessions.get(sid) : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/openid-configuration':
        return json(res, 200, discovery());
      case 'GET /jwks':
        return json(res, 200, { keys: [jwk] });
      case 'GET /authorize':
        return authorize(req, res, url.searchParams);
      case 'POST /login':
        return login(req, res, new URLSearchParams(await readBody(req)));
      case 'POST /token':
        return tokenEndpoint(req, res, new URLSearchParams(await readBody(req)));
      case 'GET /userinfo':
      case 'POST /userinfo':
        return userinfo(req, res);
      case 'GET /logout':
        return endSession(req, res, url.searchParams);
      default:
        return html(res, 404, page('Sidan finns inte', '<h1>Sidan finns inte</h1>'));
    }
  }

  function discovery() {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      end_session_endpoint: `${issuer}/logout`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', 'profile', 'email'],
      claims_supported: [
        'sub',
        'ssn',
        'name',
        'given_name',
        'family_name',
        'email',
        'email_verified',
        'acr',
        'auth_time',
      ],
      acr_values_supported: [LOA3],
      prompt_values_supported: ['none', 'login'],
      ui_locales_supported: ['sv', 'en'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      ...(options.userMessageSupport
        ? { [USER_MESSAGE_SUPPORTED]: true, [USER_MESSAGE_MIME_TYPES]: ['text/plain'] }
        : {}),
    };
  }

  function authorize(req: IncomingMessage, res: ServerResponse, params: URLSearchParams) {
    const record: AuthorizationRecord = {
      at: clock.now(),
      clientId: params.get('client_id') ?? '',
      prompt: params.get('prompt'),
      maxAge: params.get('max_age'),
      acrValues: params.get('acr_values'),
      answeredFromSso: false,
      outcome: 'login_page',
    };
    const rawMessage = params.get(USER_MESSAGE_PARAM);
    if (rawMessage !== null) {
      record.userMessageRaw = rawMessage;
      const decoded = decodeUserMessage(rawMessage);
      if (decoded) record.userMessage = decoded;
    }
    log.push(record);

    // Without a known client and a registered redirect URI there is nowhere safe to send an error.
    const redirectUri = params.get('redirect_uri') ?? '';
    if (record.clientId !== clientId || !options.redirectUris.includes(redirectUri)) {
      record.outcome = 'error:invalid_client';
      return html(
        res,
        400,
        page('Fel i begäran', '<h1>Fel i begäran</h1><p>Okänd klient eller återadress.</p>'),
      );
    }
    const state = params.get('state');
    const fail = (error: string, description: string) => {
      record.outcome = `error:${error}`;
      redirectBack(res, redirectUri, { error, error_description: description, state });
    };
    if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'only code');
    if (!(params.get('scope') ?? '').split(' ').includes('openid'))
      return fail('invalid_scope', 'openid required');
    // PKCE S256 is required: a request without it (or with plain) is refused.
    if (!params.get('code_challenge') || params.get('code_challenge_method') !== 'S256')
      return fail('invalid_request', 'PKCE with S256 is required');

    const prompts = (record.prompt ?? '').split(' ').filter(Boolean);
    const session = sessionOf(req);
    const maxAge = record.maxAge === null ? null : Number(record.maxAge);
    const now = clock.now();
    const tooOld =
      session !== undefined &&
      maxAge !== null &&
      Number.isFinite(maxAge) &&
      (now.getTime() - session.authTime.getTime()) / 1000 >= maxAge;
    // A broker that ignores prompt=login and max_age (seen in the wild) answers from its session anyway.
    const mustLogin = options.ignoresForcedLogin
      ? session === undefined
      : prompts.includes('login') || session === undefined || tooOld;
    if (!mustLogin && session) {
      // The real-broker behaviour that matters: the SSO session answers, with its old auth_time.
      record.answeredFromSso = true;
      record.outcome = 'code';
      record.authTime = session.authTime;
      return redirectBack(res, redirectUri, {
        code: issueCode(params, session.personKey, session.authTime),
        state,
      });
    }
    if (prompts.includes('none')) return fail('login_required', 'a new identification is needed');
    const rid = token();
    pending.set(rid, { params, record });
    return html(
      res,
      200,
      loginPage(rid, options.userMessageSupport ? record.userMessage : undefined),
      clientOrigins,
    );
  }

  function login(_req: IncomingMessage, res: ServerResponse, form: URLSearchParams) {
    const rid = form.get('rid') ?? '';
    const attempt = pending.get(rid);
    if (!attempt)
      return html(
        res,
        400,
        page('Inloggningen har gått ut', '<h1>Inloggningen har gått ut</h1><p>Börja om från tjänsten.</p>'),
      );
    pending.delete(rid);
    const { params, record } = attempt;
    const redirectUri = params.get('redirect_uri') ?? '';
    const state = params.get('state');
    if (form.get('action') === 'abort') {
      record.outcome = 'error:access_denied';
      return redirectBack(res, redirectUri, {
        error: 'access_denied',
        error_description: 'cancelled',
        state,
      });
    }
    const person = people.find((p) => p.key === form.get('person'));
    if (!person) {
      pending.set(rid, attempt);
      return html(res, 400, loginPage(rid, undefined, 'Välj vem du är.'), clientOrigins);
    }
    const authTime = clock.now();
    const sid = token();
    sessions.set(sid, { personKey: person.key, authTime });
    record.outcome = 'code';
    record.authTime = authTime;
    return redirectBack(
      res,
      redirectUri,
      { code: issueCode(params, person.key, authTime), state },
      { 'set-cookie': `${SSO_COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax` },
    );
  }

  function clientOf(req: IncomingMessage, form: URLSearchParams): string {
    const header = req.headers.authorization;
    let id: string | null;
    let secret: string | null;
    if (header?.startsWith('Basic ')) {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } else {
      id = form.get('client_id');
      secret = form.get('client_secret');
    }
    if (id !== clientId || secret !== clientSecret)
      throw new OAuthError('invalid_client', 'client authentication failed', 401);
    return id;
  }

  function tokenEndpoint(req: IncomingMessage, res: ServerResponse, form: URLSearchParams) {
    const client = clientOf(req, form);
    if (form.get('grant_type') !== 'authorization_code')
      throw new OAuthError('unsupported_grant_type', 'only authorization_code');
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    // One-time codes: a second use finds nothing.
    codes.delete(code);
    const now = clock.now();
    if (!issued || issued.expires < now.getTime() || issued.clientId !== client)
      throw new OAuthError('invalid_grant', 'unknown, used or expired code');
    if (form.get('redirect_uri') !== issued.redirectUri)
      throw new OAuthError('invalid_grant', 'redirect_uri mismatch');
    const verifier = form.get('code_verifier') ?? '';
    if (b64url(createHash('sha256').update(verifier).digest()) !== issued.codeChallenge)
      throw new OAuthError('invalid_grant', 'PKCE verification failed');
    const person = personOf(issued.personKey);
    const iat = Math.floor(now.getTime() / 1000);
    const idToken = signJwt(
      {
        iss: issuer,
        aud: client,
        iat,
        exp: iat + ID_TOKEN_TTL_S,
        auth_time: Math.floor(issued.authTime.getTime() / 1000),
        acr: LOA3,
        ...(issued.nonce ? { nonce: issued.nonce } : {}),
        ...claimsOf(person),
      },
      privateKey,
    );
    const accessToken = token();
    accessTokens.set(accessToken, { personKey: person.key, expires: now.getTime() + ID_TOKEN_TTL_S * 1000 });
    return json(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ID_TOKEN_TTL_S,
      id_token: idToken,
    });
  }

  function userinfo(req: IncomingMessage, res: ServerResponse) {
    const header = req.headers.authorization ?? '';
    const at = header.startsWith('Bearer ') ? accessTokens.get(header.slice(7)) : undefined;
    if (!at || at.expires < clock.now().getTime()) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return res.end();
    }
    return json(res, 200, claimsOf(personOf(at.personKey)));
  }

  function endSession(req: IncomingMessage, res: ServerResponse, params: URLSearchParams) {
    const sid = cookies(req)[SSO_COOKIE];
    if (sid) sessions.delete(sid);
    const clear = `${SSO_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
    const back = params.get('post_logout_redirect_uri');
    if (back && postLogoutUris.includes(back)) {
      const url = new URL(back);
      const state = params.get('state');
      if (state) url.searchParams.set('state', state);
      res.writeHead(302, { location: url.href, 'set-cookie': clear, 'cache-control': 'no-store' });
      return res.end();
    }
    res.setHeader('set-cookie', clear);
    return html(res, 200, page('Utloggad', '<h1>Du är utloggad från mäklaren</h1>'));
  }

  function loginPage(rid: string, message?: AuthorizationRecord['userMessage'], error?: string): string {
    // §2.1: the message for the UI locale (sv), else the one without a language tag.
    const text =
      message && message.mimeType === 'text/plain'
        ? (message.messages.sv ?? message.messages[''])
        : undefined;
    const choices = people
      .map(
        (p, i) =>
          `<label><input type="radio" name="person" value="${escapeHtml(p.key)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(p.name)}</label>`,
      )
      .join('\n');
    return page(
      'Legitimera dig',
      `<h1>Legitimera dig med test-e-legitimation</h1>
${text ? `<p class="message" id="user-message"><strong>Meddelande från tjänsten:</strong> ${escapeHtml(text)}</p>` : ''}
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="rid" value="${rid}">
<fieldset><legend>Vem är du?</legend>
${choices}
</fieldset>
<button type="submit" name="action" value="login">Legitimera</button>
<button type="submit" name="action" value="abort">Avbryt</button>
</form>`,
    );
  }

  return {
    issuer,
    origin,
    log,
    clientId,
    clientSecret,
    env: {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_CLAIM_PROFILE: 'ssn',
    },
    forgetSessions: () => sessions.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** §2.1: UTF-8 JSON with `message` / `message#<lang>` (base64 of UTF-8 text) and `mime_type`. */
export function decodeUserMessage(raw: string): AuthorizationRecord['userMessage'] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const messages: Record<string, string> = {};
  let mimeType = 'text/plain';
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') return undefined;
    if (k === 'mime_type') mimeType = v;
    else if (k === 'message' || k.startsWith('message#'))
      messages[k.slice(8)] = Buffer.from(v, 'base64').toString('utf8');
  }
  return { messages, mimeType };
}

/** Encodes a user message as §2.1 wants it (for tests of the decoder and of the relying party). */
export function encodeUserMessage(messages: Record<string, string>, mimeType = 'text/plain'): string {
  const out: Record<string, string> = {};
  for (const [lang, text] of Object.entries(messages))
    out[lang ? `message#${lang}` : 'message'] = Buffer.from(text, 'utf8').toString('base64');
  out.mime_type = mimeType;
  return JSON.stringify(out);
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new OAuthError('invalid_request', 'body too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A page; `formTargets` are the origins a form post may be redirected to (CSP form-action covers them). */
function html(res: ServerResponse, status: number, body: string, formTargets: string[] = []) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formTargets.join(' ')}; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – testmäklare</title>
<style>body{font-family:system-ui,sans-serif;margin:0;padding:1rem;line-height:1.45;color:#1d1d1b}
main{max-width:40rem;margin:0 auto;overflow-wrap:anywhere}h1{font-size:1.5rem}label{display:block;margin:.4rem 0}
button{font:inherit;padding:.5rem 1rem;margin:.5rem .5rem 0 0}.message{background:#eef4fb;border:2px solid #1f4e79;padding:.5rem}</style>
</head>
<body><main>
${body}
</main></body></html>`;
}

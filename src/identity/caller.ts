// Who is calling, and what every route must declare about it.
//
// THE ROUTE CONVENTION. Every route says in its options who may call it:
//
//   app.get('/api/v1/consents/:id/status', { config: { auth: { scope: 'consent:status' } }, schema }, h)
//
//   auth: { scope: 'consent:read' }               API clients whose token carries the scope, and staff
//                                                 (staff sessions hold all three consent scopes)
//   auth: { scope: 'consent:read', staff: false } API clients only
//   auth: { staff: true }                         staff sessions only
//   auth: { staff: true, admin: true }            staff who are admin of some organisation (which one
//                                                 is decided by policy.ts `decideAdmin`)
//   auth: { signer: true }                        signer sessions ("Mina samtycken")
//   auth: false                                   public, on purpose
//
// A preValidation hook enforces it before the input is validated: no or an invalid token/session → 401
// `unauthorized` (`WWW-Authenticate: Bearer` where tokens are accepted); a valid token without the scope → 403
// `insufficient_scope`; a caller of another kind, or staff without an active membership → 403
// `forbidden`. Under /api/ a session-authenticated POST/PUT/PATCH/DELETE must also carry the session's
// CSRF token (`x-csrf-token` header, csrf.ts). A route under /api/ that declares nothing stops the app at
// start. The declaration also becomes the route's OpenAPI `security`.
//
// In the handler, `request.caller` is the resolved caller (`callerOf(request)` gives it non-null); which
// consent it may touch is policy.ts's job: `authorize(callerOf(request), 'read', consentRef)`.
// `request.getCaller()` resolves lazily (memoised) on routes that declare `auth: false`.
//
// Resolution: a Bearer access token (ours: signature, `iss`, `aud`, `exp` against app.clock; the client
// must still exist and be enabled, so a disabled client's tokens stop at once) → `api_client`; else a staff
// session (sessions.ts, `request.session`) → `staff` with its active memberships (none for a disabled
// user); else a signer session → `signer`; else null.
import { hkdfSync, randomUUID } from 'node:crypto';
import fastifyJwt, { type JWT } from '@fastify/jwt';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { type ApiClient, activeClientAccess, type ConsentScope, isConsentScope } from './api-clients.ts';
import { csrfValid } from './csrf.ts';
import { type TeamMembership, teamMembershipsOf } from './organisations.ts';
import type { SessionData } from './sessions.ts';
import { activeMemberships, type Membership } from './staff.ts';

// --- Callers ---------------------------------------------------------------------------------------------

export interface ApiClientCaller {
  kind: 'api_client';
  /** api_clients.id (the token's `sub`), not the OAuth client_id. */
  clientId: string;
  organisationId: string;
  /** The token's scopes that the client still holds. */
  scopes: ConsentScope[];
  /** The named contact at the organisation ("Samtycke inhämtat av"); the client's name when unset. */
  contactName: string | null;
  name: string;
  /** The teams the client's organisation belongs to (policy.ts). */
  teams: TeamMembership[];
}

export interface StaffCaller {
  kind: 'staff';
  staffId: string;
  /** Active memberships only; empty for a disabled user. */
  memberships: Membership[];
  /** The teams the staff member's organisations belong to (policy.ts). */
  teams: TeamMembership[];
}

export interface SignerCaller {
  kind: 'signer';
  /** 12 digits. Never log it. */
  personalNumber: string;
  name: string | null;
  issuer: string;
  acr: string | null;
  authTime: Date | null;
}

export type Caller = ApiClientCaller | StaffCaller | SignerCaller;
export type CallerKind = Caller['kind'];

export interface AuthRequirement {
  /** API clients whose token carries this scope are let in. Staff sessions hold every consent scope. */
  scope?: ConsentScope;
  /** Staff sessions are let in. Default: true when `scope` is set. */
  staff?: boolean;
  /** Only staff who are admin of at least one organisation. */
  admin?: boolean;
  /** Signer sessions are let in. */
  signer?: boolean;
}

/** `false`: public, declared on purpose. */
export type RouteAuth = AuthRequirement | false;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route: see the top of src/identity/caller.ts. */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The caller, set by the auth hook (preValidation) on routes that declare `config.auth`. */
    caller: Caller | null;
    /** Resolves the caller (memoised); for routes that declare `auth: false` but adapt to who calls. */
    getCaller(): Promise<Caller | null>;
  }
  interface FastifyInstance {
    accessTokens: AccessTokens;
  }
}

/** The caller of a route that declares `config.auth` (never null there). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError('unauthorized');
  return request.caller;
}

// --- Access tokens ---------------------------------------------------------------------------------------

/** RFC 6749 §4.4 access tokens live 10 minutes. */
export const ACCESS_TOKEN_SECONDS = 600;
/** Verified tokens kept in memory (see `verify` below): far more clients than any deployment has. */
const VERIFIED_TOKENS_KEPT = 10_000;

/** What our access tokens say (RFC 9068 shape). No personal data: a JWT payload is readable by anyone. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** api_clients.id */
  sub: string;
  client_id: string;
  org: string;
  /** Space-separated scopes. */
  scope: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface AccessTokens {
  issue(client: ApiClient, scopes: readonly ConsentScope[]): { token: string; expiresIn: number };
  /** The claims of a token we issued, unexpired at app.clock; undefined for anything else. */
  verify(token: string): AccessTokenClaims | undefined;
}

export const tokenIssuer = (config: Config) => config.publicBaseUrl;
export const tokenAudience = (config: Config) => `${config.publicBaseUrl}/api`;

/** A key for access tokens only, derived from SESSION_SECRET (RFC 5869), so no other use shares it. */
const tokenKey = (config: Config) =>
  Buffer.from(hkdfSync('sha256', config.sessionSecret, 'samtycke', 'samtycke access token v1', 32));

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'client_id', 'org', 'scope', 'iat', 'exp', 'jti'];

function isClaims(p: unknown): p is AccessTokenClaims {
  const c = p as Record<string, unknown>;
  return (
    typeof c === 'object' &&
    c !== null &&
    ['sub', 'client_id', 'org', 'scope', 'jti'].every((k) => typeof c[k] === 'string') &&
    typeof c.exp === 'number' &&
    typeof c.iat === 'number'
  );
}

// --- Resolution ------------------------------------------------------------------------------------------

interface Resolution {
  caller: Caller | null;
  /** A Bearer token was sent and is not (or no longer) valid. */
  invalidToken?: true;
  /** The caller came from a session cookie (CSRF applies). */
  viaSession?: true;
}

const resolutions = new WeakMap<FastifyRequest, Promise<Resolution>>();

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? match[1] : /^Bearer\b/i.test(header) ? '' : undefined;
}

async function resolve(request: FastifyRequest): Promise<Resolution> {
  const { db, accessTokens } = request.server;
  const token = bearerToken(request);
  if (token !== undefined) {
    const claims = token ? accessTokens.verify(token) : undefined;
    const access = claims && (await activeClientAccess(db, claims.sub));
    if (!claims || !access || access.client.organisationId !== claims.org)
      return { caller: null, invalidToken: true };
    const granted = claims.scope.split(' ').filter(isConsentScope);
    const { client, teams } = access;
    return {
      caller: {
        kind: 'api_client',
        clientId: client.id,
        organisationId: client.organisationId,
        scopes: granted.filter((s) => client.scopes.includes(s)),
        contactName: client.contactName,
        name: client.name,
        teams,
      },
    };
  }
  const session = (request as { session?: SessionData | null }).session;
  if (!session) return { caller: null };
  if (session.audience === 'staff' && session.staffId) {
    const memberships = await activeMemberships(db, session.staffId);
    const teams = await teamMembershipsOf(
      db,
      memberships.map((m) => m.organisationId),
    );
    return { caller: { kind: 'staff', staffId: session.staffId, memberships, teams }, viaSession: true };
  }
  if (session.audience === 'signer' && session.personalNumber) {
    return {
      caller: {
        kind: 'signer',
        personalNumber: session.personalNumber,
        name: session.name,
        issuer: session.issuer,
        acr: session.acr,
        authTime: session.authTime,
      },
      viaSession: true,
    };
  }
  return { caller: null };
}

/**
 * Whether the request carries an access token we issued, unexpired, whose claims grant `scope`: checked in
 * memory (signature, claims, expiry at app.clock) before anything is read for the request. Not the whole
 * resolution: whether the client is still enabled and still holds the scope is read from the database.
 */
export function bearsTokenFor(request: FastifyRequest, scope: ConsentScope): boolean {
  const token = bearerToken(request);
  const claims = token ? request.server.accessTokens.verify(token) : undefined;
  return claims !== undefined && claims.scope.split(' ').includes(scope);
}

function resolution(request: FastifyRequest): Promise<Resolution> {
  let r = resolutions.get(request);
  if (!r) {
    r = resolve(request);
    resolutions.set(request, r);
  }
  return r;
}

// --- Enforcement -----------------------------------------------------------------------------------------

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const REALM = 'realm="samtycke"';

/** Which kinds of caller a requirement lets in. */
export function admittedKinds(auth: AuthRequirement): CallerKind[] {
  const kinds: CallerKind[] = [];
  if (auth.staff ?? (auth.scope !== undefined || auth.admin === true)) kinds.push('staff');
  if (auth.scope) kinds.push('api_client');
  if (auth.signer) kinds.push('signer');
  return kinds;
}

async function enforce(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const auth = request.routeOptions.config.auth;
  if (!auth) return;
  const kinds = admittedKinds(auth);
  const { caller, invalidToken, viaSession } = await resolution(request);
  request.caller = caller;
  if (!caller) {
    if (invalidToken) reply.header('www-authenticate', `Bearer ${REALM}, error="invalid_token"`);
    else if (kinds.includes('api_client')) reply.header('www-authenticate', `Bearer ${REALM}`);
    throw new AppError('unauthorized');
  }
  if (!kinds.includes(caller.kind)) throw new AppError('forbidden');
  if (caller.kind === 'api_client' && auth.scope && !caller.scopes.includes(auth.scope)) {
    reply.header('www-authenticate', `Bearer ${REALM}, error="insufficient_scope", scope="${auth.scope}"`);
    throw new AppError('insufficient_scope');
  }
  if (caller.kind === 'staff') {
    if (caller.memberships.length === 0) throw new AppError('forbidden');
    if (auth.admin && !caller.memberships.some((m) => m.role === 'admin')) throw new AppError('forbidden');
  }
  if (
    viaSession &&
    UNSAFE_METHODS.has(request.method) &&
    request.routeOptions.url?.startsWith('/api/') &&
    !csrfValid(request)
  )
    throw new AppError('csrf_failed');
}

/** The route's OpenAPI `security` from its declaration (schemes defined in src/http/openapi.ts). */
function securityOf(auth: RouteAuth): Record<string, string[]>[] {
  if (!auth) return [];
  const kinds = admittedKinds(auth);
  const out: Record<string, string[]>[] = [];
  if (kinds.includes('api_client') && auth.scope) out.push({ oauth2: [auth.scope] });
  if (kinds.includes('staff') || kinds.includes('signer')) out.push({ session: [] });
  return out;
}

function declareRoute(route: RouteOptions): void {
  const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth;
  if (auth === undefined) {
    if (route.url.startsWith('/api/'))
      throw new Error(
        `${route.method} ${route.url}: every /api/ route must declare config.auth (see src/identity/caller.ts)`,
      );
    return;
  }
  if (auth && admittedKinds(auth).length === 0)
    throw new Error(`${route.method} ${route.url}: config.auth lets no caller in`);
  if (route.schema && !('security' in route.schema))
    route.schema = { ...route.schema, security: securityOf(auth) } as typeof route.schema;
}

export default fp(
  async (app) => {
    const { config } = app;
    // @fastify/jwt in its own encapsulated context, so it cannot clash with another registration of it.
    let jwt: JWT | undefined;
    await app.register(async (child) => {
      await child.register(fastifyJwt, {
        secret: tokenKey(config),
        namespace: 'accessToken',
        sign: { algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } },
        verify: {
          algorithms: ['HS256'],
          allowedIss: tokenIssuer(config),
          allowedAud: tokenAudience(config),
          checkTyp: 'at+jwt',
          requiredClaims: REQUIRED_CLAIMS,
          // `exp` is checked against app.clock below (tests move the clock).
          ignoreExpiration: true,
          ignoreNotBefore: true,
        },
      });
      jwt = (child.jwt as unknown as Record<string, JWT>).accessToken;
    });
    if (!jwt) throw new Error('@fastify/jwt did not register');
    const signer = jwt;

    // A token's signature and claims never change, so each is checked once: a client sends the same token
    // for up to ten minutes, and the HMAC check was a tenth of a status check's CPU. Expiry is still checked
    // on every use; only tokens that passed are kept, and the map starts over when full.
    const verified = new Map<string, AccessTokenClaims>();
    const accessTokens: AccessTokens = {
      issue(client, scopes) {
        const iat = Math.floor(app.clock.now().getTime() / 1000);
        const claims: AccessTokenClaims = {
          iss: tokenIssuer(config),
          aud: tokenAudience(config),
          sub: client.id,
          client_id: client.clientId,
          org: client.organisationId,
          scope: scopes.join(' '),
          iat,
          exp: iat + ACCESS_TOKEN_SECONDS,
          jti: randomUUID(),
        };
        return { token: signer.sign(claims), expiresIn: ACCESS_TOKEN_SECONDS };
      },
      verify(token) {
        let claims = verified.get(token);
        if (!claims) {
          let payload: unknown;
          try {
            payload = signer.verify(token);
          } catch {
            return undefined;
          }
          if (!isClaims(payload)) return undefined;
          claims = payload;
          if (verified.size >= VERIFIED_TOKENS_KEPT) verified.clear();
          verified.set(token, claims);
        }
        return claims.exp * 1000 > app.clock.now().getTime() ? claims : undefined;
      },
    };
    app.decorate('accessTokens', accessTokens);
    app.decorateRequest('caller', null);
    app.decorateRequest('getCaller', function (this: FastifyRequest) {
      return resolution(this).then((r) => r.caller);
    });
    app.addHook('onRoute', declareRoute);
    // Before validation (Fastify validates between preValidation and preHandler): a caller without valid
    // credentials is told 401 and learns nothing of what the route accepts.
    app.addHook('preValidation', enforce);
  },
  // Not 'caller': fastify-plugin sets fn[camelCase(name)], and `caller` is a forbidden function property.
  { name: 'caller-resolution', dependencies: ['db', 'identity'] },
);

// Server-side sessions. The browser holds only an opaque random id (256 bits) in a cookie; the row is keyed
// by its SHA-256, so a copy of the table cannot be replayed as cookies. A session ends on logout, after
// SESSION_IDLE_MINUTES without a request, and SESSION_ABSOLUTE_HOURS after the login, whichever comes first
// (OWASP Session Management Cheat Sheet: idle and absolute timeouts, id renewed at every authentication).
//
// The personal number of a signer is kept here, and only here: the signer's pages need it to find the
// consents they are a signer of. It never goes into the cookie, a URL or a log line.
import { createHash, randomBytes } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Selectable } from 'kysely';
import type { Config } from '../config.ts';
import type { DbOrTx } from '../db/index.ts';
import type { KeyRing } from '../db/encryption.ts';
import { openText, placeOf, sealText } from '../db/encrypted-columns.ts';
import type { Audience, SessionTable } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export type { Audience } from '../db/schema.ts';

/** The logged-in person of a request (`request.session`). Stable: the caller resolution builds on it. */
export interface SessionData {
  /** SHA-256 (hex) of the cookie's id: the row's key. Not a secret; never the id itself. */
  idHash: string;
  audience: Audience;
  /** staff_users.id for staff sessions. */
  staffId: string | null;
  /** A signer's 12-digit number (YYYYMMDDNNNC). Never log it, never put it in a URL or cookie. */
  personalNumber: string | null;
  name: string | null;
  /** The provider and the person's subject there. */
  issuer: string;
  subject: string;
  acr: string | null;
  /** When the person last authenticated at the provider (fresh identification updates it). */
  authTime: Date | null;
  /** Synchronizer token for this session's forms (see csrf.ts). */
  csrfToken: string;
  createdAt: Date;
  /** The absolute end of the session (login + SESSION_ABSOLUTE_HOURS); the idle timeout may end it sooner. */
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session from the cookie; null when there is none, or it has ended or expired. */
    session: SessionData | null;
  }
}

/** Requests that came with a session cookie whose session has ended or expired. */
const expiredRequests = new WeakSet<FastifyRequest>();

/** last_seen_at is written at most this often (a write per request would be wasteful). */
const TOUCH_INTERVAL_MS = 60_000;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// --- Cookies ---------------------------------------------------------------------------------------------

export interface CookieNames {
  session: string;
  /** The browser binding of a login in progress. */
  login: string;
  /** The double-submit CSRF token for forms shown without a session. */
  csrf: string;
}

/** `__Host-` in production: Secure, Path=/, no Domain, so no other host can set or read them. */
export function cookieNames(production: boolean): CookieNames {
  const prefix = production ? '__Host-' : '';
  return { session: `${prefix}samtycke`, login: `${prefix}samtycke_login`, csrf: `${prefix}samtycke_csrf` };
}

/** HttpOnly, SameSite=Lax, Path=/, and Secure in production. Without maxAge: gone when the browser closes. */
export function cookieOptions(production: boolean, maxAgeSeconds?: number): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: production,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

// --- Ids and hashes --------------------------------------------------------------------------------------

/** A random opaque value of 256 bits, base64url (43 characters). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

// --- Repository ------------------------------------------------------------------------------------------

/** What a login stores; the rest of `SessionData` is made with the row. */
export type NewSession = Pick<
  SessionData,
  'audience' | 'staffId' | 'personalNumber' | 'name' | 'issuer' | 'subject' | 'acr' | 'authTime'
>;

type SessionRow = Selectable<SessionTable>;

// The person's number and name are stored encrypted (src/db/encrypted-columns.ts), bound to the row's id
// hash: a new id (re-authentication) seals them again.
const sessionPlace = (idHash: string, column: 'personal_number' | 'name') =>
  placeOf('sessions', column, [idHash]);

function toSessionData(keys: KeyRing, row: SessionRow): SessionData {
  return {
    idHash: row.id_hash,
    audience: row.audience,
    staffId: row.staff_id,
    personalNumber: openText(keys, sessionPlace(row.id_hash, 'personal_number'), row.personal_number),
    name: openText(keys, sessionPlace(row.id_hash, 'name'), row.name),
    issuer: row.issuer,
    subject: row.subject,
    acr: row.acr,
    authTime: row.auth_time,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Creates a session; answers the cookie's id (only ever sent to the browser) and the session. */
export async function createSession(
  db: DbOrTx,
  keys: KeyRing,
  session: NewSession,
  options: { now: Date; absoluteHours: number },
): Promise<{ id: string; session: SessionData }> {
  const id = randomToken();
  const idHash = sha256(id);
  const row = await db
    .insertInto('sessions')
    .values({
      id_hash: idHash,
      audience: session.audience,
      staff_id: session.staffId,
      personal_number: sealText(keys, sessionPlace(idHash, 'personal_number'), session.personalNumber),
      name: sealText(keys, sessionPlace(idHash, 'name'), session.name),
      issuer: session.issuer,
      subject: session.subject,
      acr: session.acr,
      auth_time: session.authTime,
      csrf_token: randomToken(),
      created_at: options.now,
      last_seen_at: options.now,
      expires_at: new Date(options.now.getTime() + options.absoluteHours * 3_600_000),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { id, session: toSessionData(keys, row) };
}

/**
 * A new authentication of the session's person (fresh identification for an act): records it and gives
 * the session a new id, since its privileges changed. The CSRF token and the absolute expiry stay.
 * Undefined when the session has ended meanwhile.
 */
export async function reauthenticateSession(
  db: DbOrTx,
  keys: KeyRing,
  current: Pick<SessionData, 'idHash' | 'personalNumber'>,
  auth: Pick<NewSession, 'name' | 'issuer' | 'subject' | 'acr' | 'authTime'>,
  now: Date,
): Promise<{ id: string; session: SessionData } | undefined> {
  const id = randomToken();
  const idHash = sha256(id);
  const row = await db
    .updateTable('sessions')
    .set({
      id_hash: idHash,
      personal_number: sealText(keys, sessionPlace(idHash, 'personal_number'), current.personalNumber),
      name: sealText(keys, sessionPlace(idHash, 'name'), auth.name),
      issuer: auth.issuer,
      subject: auth.subject,
      acr: auth.acr,
      auth_time: auth.authTime,
      last_seen_at: now,
    })
    .where('id_hash', '=', current.idHash)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  return row ? { id, session: toSessionData(keys, row) } : undefined;
}

export async function endSession(db: DbOrTx, idHash: string, now: Date): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ ended_at: now })
    .where('id_hash', '=', idHash)
    .where('ended_at', 'is', null)
    .execute();
}

/**
 * Deletes at most `batchSize` sessions that ended or passed their absolute expiry before `before`
 * (housekeeping). Answers how many were deleted.
 */
export async function deleteExpiredSessions(db: DbOrTx, before: Date, batchSize: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where(
      'id_hash',
      'in',
      db
        .selectFrom('sessions')
        .select('id_hash')
        .where((eb) => eb.or([eb('expires_at', '<=', before), eb('ended_at', '<=', before)]))
        .limit(batchSize),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface SessionTimeouts {
  idleMinutes: number;
  absoluteHours: number;
}

/** The session for a cookie id, if it is active at `now`; touches last_seen_at at most once a minute. */
export async function findActiveSession(
  db: DbOrTx,
  keys: KeyRing,
  id: string,
  now: Date,
  timeouts: SessionTimeouts,
): Promise<SessionData | undefined> {
  if (!ID_PATTERN.test(id)) return undefined;
  const row = await db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', sha256(id))
    .executeTakeFirst();
  if (!row || !isActive(row, now, timeouts)) return undefined;
  if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_INTERVAL_MS) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now })
      .where('id_hash', '=', row.id_hash)
      .where('ended_at', 'is', null)
      .execute();
  }
  return toSessionData(keys, row);
}

function isActive(row: SessionRow, now: Date, timeouts: SessionTimeouts): boolean {
  const t = now.getTime();
  if (row.ended_at !== null) return false;
  if (t >= row.expires_at.getTime()) return false;
  // The absolute limit from the configuration as it is now, also for sessions made under another one.
  if (t >= row.created_at.getTime() + timeouts.absoluteHours * 3_600_000) return false;
  return t < row.last_seen_at.getTime() + timeouts.idleMinutes * 60_000;
}

// --- Request helpers -------------------------------------------------------------------------------------

/** onRequest: reads the session cookie into `request.session`; an expired one is cleared. */
export async function loadSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { config, clock, db, keys } = request.server;
  const name = cookieNames(config.production).session;
  const id = request.cookies[name];
  if (id === undefined || id === '') return;
  const session = await findActiveSession(db, keys, id, clock.now(), config.session);
  if (session) {
    request.session = session;
    return;
  }
  expiredRequests.add(request);
  reply.clearCookie(name, cookieOptions(config.production));
}

/** Whether the request came with a session cookie whose session has ended or expired. */
export function sessionExpired(request: FastifyRequest): boolean {
  return expiredRequests.has(request);
}

/**
 * The request's session, of the given audience when one is named. Throws `session_expired` when the
 * cookie's session has ended or expired, `unauthorized` when there is none (or of another audience).
 */
export function requireSession(request: FastifyRequest, audience?: Audience): SessionData {
  const session = request.session;
  if (session && (audience === undefined || session.audience === audience)) return session;
  if (!session && sessionExpired(request))
    throw new AppError('session_expired', 'Du har varit inaktiv för länge. Logga in igen.');
  throw new AppError('unauthorized');
}

/** Sets the session cookie. */
export function setSessionCookie(reply: FastifyReply, config: Config, id: string): void {
  reply.setCookie(cookieNames(config.production).session, id, cookieOptions(config.production));
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(cookieNames(config.production).session, cookieOptions(config.production));
}

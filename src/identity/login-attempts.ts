// Logins in progress, kept server-side (not only in a cookie): state (stored hashed), nonce, PKCE verifier,
// whether a fresh identification was asked for, the act it is for (signing, withdrawing: what the person
// confirmed, never in a URL), where to return, and a hash of a random value held by the browser that
// started it, so that the callback must come from that same browser. Used once, then kept as
// consumed until housekeeping removes it; valid for 10 minutes.

import type { DbOrTx } from '../db/index.ts';
import type { Audience } from '../db/schema.ts';
import { hasForbiddenCharacter } from '../domain/text.ts';
import type { LoginAttempt, StoredLoginAttempt } from './oidc-client.ts';
import { sha256 } from './sessions.ts';

export const LOGIN_ATTEMPT_TTL_SECONDS = 600;

/**
 * The act an identification is made for: a kind the pages registered (`sign`, `withdraw`) and what the
 * act needs to complete (validated by its handler). Its start is the attempt's `createdAt`.
 */
export interface PendingAct {
  kind: string;
  data: Record<string, unknown>;
}

export interface ConsumedLoginAttempt {
  audience: Audience;
  returnTo: string;
  act: PendingAct | null;
  /** What `completeLogin` needs; `state` is the one from the callback, which matched the stored hash. */
  stored: StoredLoginAttempt;
}

export async function saveLoginAttempt(
  db: DbOrTx,
  attempt: LoginAttempt,
  options: { audience: Audience; returnTo: string; browserBinding: string; act?: PendingAct },
): Promise<void> {
  await db
    .insertInto('login_attempts')
    .values({
      state_hash: sha256(attempt.state),
      nonce: attempt.nonce,
      code_verifier: attempt.codeVerifier,
      audience: options.audience,
      fresh: attempt.fresh,
      return_to: options.returnTo,
      browser_binding: sha256(options.browserBinding),
      act: options.act ? JSON.stringify(options.act) : null,
      created_at: attempt.createdAt,
      expires_at: new Date(attempt.createdAt.getTime() + LOGIN_ATTEMPT_TTL_SECONDS * 1000),
    })
    .execute();
}

/** Why an attempt could not be used (logged; the person sees one message, or a hint for another browser). */
export type AttemptProblem = 'unknown' | 'consumed' | 'expired' | 'other_browser';

/**
 * Takes the attempt for `state`, once: checks the browser binding, then marks it consumed in the same
 * statement that reads it, so two callbacks with the same state cannot both get it. A wrong browser does
 * not consume it (the right browser may still finish).
 */
export async function consumeLoginAttempt(
  db: DbOrTx,
  state: string,
  browserBinding: string | undefined,
  now: Date,
): Promise<ConsumedLoginAttempt | AttemptProblem> {
  const stateHash = sha256(state);
  const row = await db
    .updateTable('login_attempts')
    .set({ consumed_at: now })
    .where('state_hash', '=', stateHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .where('browser_binding', '=', sha256(browserBinding ?? ''))
    .returningAll()
    .executeTakeFirst();
  if (row) {
    return {
      audience: row.audience,
      returnTo: row.return_to,
      act: pendingAct(row.act),
      stored: {
        state,
        nonce: row.nonce,
        codeVerifier: row.code_verifier,
        fresh: row.fresh,
        createdAt: row.created_at,
      },
    };
  }
  const existing = await db
    .selectFrom('login_attempts')
    .select(['consumed_at', 'expires_at'])
    .where('state_hash', '=', stateHash)
    .executeTakeFirst();
  if (!existing) return 'unknown';
  if (existing.consumed_at !== null) return 'consumed';
  if (existing.expires_at.getTime() <= now.getTime()) return 'expired';
  return 'other_browser';
}

function pendingAct(value: Record<string, unknown> | null): PendingAct | null {
  if (!value || typeof value.kind !== 'string') return null;
  const data = value.data;
  return {
    kind: value.kind,
    data: data && typeof data === 'object' ? (data as Record<string, unknown>) : {},
  };
}

/** Deletes at most `batchSize` attempts that expired before `before` (housekeeping); answers how many. */
export async function deleteExpiredLoginAttempts(
  db: DbOrTx,
  before: Date,
  batchSize: number,
): Promise<number> {
  const result = await db
    .deleteFrom('login_attempts')
    .where(
      'id',
      'in',
      db.selectFrom('login_attempts').select('id').where('expires_at', '<=', before).limit(batchSize),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

const RETURN_BASE = 'http://samtycke.invalid';

/**
 * A safe place to return to after login: a path on this service, never another origin (no open redirect:
 * `//host`, `/\host`, `https:…`, control characters are all refused), not the login routes themselves, and
 * not an invitation link (its token is a secret).
 * Answers `fallback` when `value` is not one.
 */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return fallback;
  // One slash, then not a second slash or backslash; no backslashes or control characters anywhere
  // (browsers treat `\` as `/` and drop tabs and newlines from URLs).
  if (!/^\/(?![/\\])/.test(value) || value.includes('\\') || hasForbiddenCharacter(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, RETURN_BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== RETURN_BASE) return fallback;
  if (/^\/(auth|dev-idp)(\/|$)/.test(url.pathname)) return fallback;
  const path = `${url.pathname}${url.search}`;
  return holdsToken(path) ? fallback : path;
}

/**
 * An invitation link (`/s/{token}…`), or anything else with a run shaped like a token (43 base64url
 * characters), however percent-encoded: the return path is stored, and the database keeps no secret (the
 * link's pages send the login back to the link's id instead, signer/invitation-routes.ts).
 */
function holdsToken(path: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return /^\/s(\/|\?|$)/i.test(decoded) || /[A-Za-z0-9_-]{43}/.test(decoded);
}

// API client secrets (identity/api-clients.ts): 256 random bits we generate, shown once and stored only
// as their HMAC-SHA-256 under a key of the server's (CLIENT_SECRET_HMAC_KEY), compared in constant time.
// Secrets stored by earlier versions as scrypt are still accepted until their first successful use.
import { createHmac, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const SECRET_BYTES = 32;
const HMAC_PREFIX = 'hmac-sha256$';

export const generateClientSecret = () => randomBytes(SECRET_BYTES).toString('base64url');
export const generateClientId = () => `hlt-${randomBytes(12).toString('hex')}`;

const macOf = (secret: string, key: string) => createHmac('sha256', key).update(secret, 'utf8').digest();

/** `hmac-sha256$<MAC, base64url>`: HMAC-SHA-256 of the secret under `key` (CLIENT_SECRET_HMAC_KEY). */
export function hashClientSecret(secret: string, key: string): string {
  return `${HMAC_PREFIX}${macOf(secret, key).toString('base64url')}`;
}

/** Compared against when a client has no active secret, so that answer takes as long as a wrong secret. */
const NO_SECRET = Buffer.alloc(32);

/** Constant-time comparison of a MAC with a stored `hmac-sha256$…` hash; anything else never matches. */
function macMatches(mac: Buffer, encoded: string): boolean {
  if (!encoded.startsWith(HMAC_PREFIX)) return false;
  const stored = Buffer.from(encoded.slice(HMAC_PREFIX.length), 'base64url');
  return stored.length === mac.length && timingSafeEqual(stored, mac);
}

// Legacy: secrets stored as `scrypt$N$r$p$salt$hash` by versions before issue 15. Verified only until their
// first successful use, which rewrites them as HMAC. At most two run at once (≈ 32 MiB each), so wrong
// secrets sent for such a client queue here instead of taking the thread pool and the memory; the
// per-client rate limit bounds how many can arrive.
const LEGACY_CONCURRENCY = 2;
let legacyRunning = 0;
const legacyWaiting: (() => void)[] = [];

async function withLegacySlot<T>(fn: () => Promise<T>): Promise<T> {
  if (legacyRunning < LEGACY_CONCURRENCY) legacyRunning++;
  else await new Promise<void>((r) => legacyWaiting.push(r)); // a finishing one hands its slot over
  try {
    return await fn();
  } finally {
    const next = legacyWaiting.shift();
    if (next) next();
    else legacyRunning--;
  }
}

function scryptAsync(secret: string, salt: Buffer, keylen: number, cost: ScryptOptions): Promise<Buffer> {
  const maxmem = 256 * (cost.N ?? 0) * (cost.r ?? 0) * (cost.p ?? 1);
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keylen, { ...cost, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A legacy scrypt hash: constant-time comparison; a malformed or absurdly costly hash never matches. */
export async function legacyScryptMatches(secret: string, encoded: string): Promise<boolean> {
  const [algorithm, n, r, p, salt, hash] = encoded.split('$');
  if (algorithm !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Object.values(cost).every((v) => Number.isSafeInteger(v) && v > 0)) return false;
  // What earlier versions wrote (N = 2^15, r = 8, p = 1) and no more.
  if (cost.N > 2 ** 15 || cost.r > 8 || cost.p > 1) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== 32) return false;
  const actual = await withLegacySlot(() =>
    scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, cost),
  );
  return timingSafeEqual(actual, expected);
}

/** Whether `secret` matches a stored hash (HMAC under `key`, or a legacy scrypt hash). */
export async function verifyClientSecret(secret: string, encoded: string, key: string): Promise<boolean> {
  if (encoded.startsWith('scrypt$')) return legacyScryptMatches(secret, encoded);
  return macMatches(macOf(secret, key), encoded);
}

/**
 * Whether `secret` matches any of the `stored` HMAC hashes. Every one is compared (no early exit), and
 * with none stored it compares against nothing, so an unknown client costs what a wrong secret does.
 */
export function matchesAnyMac(secret: string, key: string, stored: readonly string[]): boolean {
  const mac = macOf(secret, key);
  let matched = false;
  for (const hash of stored) matched = macMatches(mac, hash) || matched;
  if (stored.length === 0) timingSafeEqual(mac, NO_SECRET);
  return matched;
}

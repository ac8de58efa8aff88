// Rate limits (issue 15 §1): fixed one-minute windows counted by @fastify/rate-limit's stores, in Redis when
// REDIS_URL is set (so every instance counts against the same limit) and in this process otherwise. Past a
// limit a request is refused with `too_many_requests` (429) and `Retry-After`: problem+json from the API
// and the token endpoint, a Swedish page from the pages (each route family's error handler renders it).
//
// `app.limits` holds the service's limits (settings RATE_LIMIT_*, README) and `create` for new ones. A limit
// counts a *subject*: the client's address (after TRUST_PROXY; IPv6 by /64), an API client id, a person,
// a caller. Subjects are never stored as they are: the key is an HMAC of the subject (a personal number has
// too few possible values for a plain hash), with a key derived from SESSION_SECRET.
//
// If Redis fails, the limits are counted in this process until it answers again (each instance then lets
// through up to the limit on its own), and a warning is logged at most once a minute.
import { createHmac, hkdfSync } from 'node:crypto';
import { createRequire } from 'node:module';
import rateLimit, {
  type FastifyRateLimitStore,
  type FastifyRateLimitStoreCtor,
  normalizeIP,
} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';

export interface LimitOptions {
  /** Short and unique: part of the store's keys. */
  name: string;
  /** Requests per window; 0: no limit. */
  max: number;
  /** Default 60. */
  windowSeconds?: number;
  /** What is counted when `take` is not told: by default the client's address. */
  subject?: (request: FastifyRequest) => string;
}

export interface RateLimit {
  /**
   * Counts one request for `subject` (default: the limit's own, else the client's address). Past the limit
   * sets `Retry-After` on the reply and throws AppError `too_many_requests`.
   */
  take(request: FastifyRequest, reply: FastifyReply, subject?: string): Promise<void>;
  /** `take` as a route hook (onRequest, preHandler). */
  hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export interface Limits {
  /** A limit of your own (e.g. a quota), counted in the same store. */
  create(options: LimitOptions): RateLimit;
  /** POST /oauth/token, per client_id (counted before the secret is checked). */
  tokenPerClient: RateLimit;
  /** POST /oauth/token, per address. */
  tokenPerAddress: RateLimit;
  /** Every login start (staff, signer, and an act's own identification), per address: before its row. */
  loginPerAddress: RateLimit;
  /** The invitation link's pages (/s/:token…), per address. */
  invitationPerAddress: RateLimit;
  /** Sign, decline and withdraw posts, per person (per address without a session). */
  signerActs: RateLimit;
  /** The search by child (API and staff page), per API client or staff member. */
  childSearch: RateLimit;
  /** Uploads to the public verification page (/verifiera), per address. */
  verifyPerAddress: RateLimit;
}

declare module 'fastify' {
  interface FastifyInstance {
    limits: Limits;
  }
}

const WINDOW_SECONDS = 60;
/** Subjects kept per limit by the in-process store (least recently used ones are forgotten first). */
const LOCAL_SUBJECTS = 20_000;

/** The client's address as a limit counts it: an IPv6 address by its /64 (one host has them all). */
export const addressOf = (request: FastifyRequest) => `ip:${normalizeIP(request.ip)}`;

/** "Vänta 1 minut" rather than a number of seconds a person has to work out. */
function waitText(seconds: number): string {
  if (seconds <= 90) return seconds <= 1 ? 'en sekund' : `${seconds} sekunder`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minuter`;
}

type Check = ReturnType<FastifyInstance['createRateLimit']>;

/** @fastify/rate-limit in a context of its own, so the Redis and the in-process store can both exist. */
async function limiterFactory(
  app: FastifyInstance,
  options: Parameters<typeof rateLimit>[1],
): Promise<FastifyInstance['createRateLimit']> {
  let create: FastifyInstance['createRateLimit'] | undefined;
  await app.register(async (child) => {
    await child.register(rateLimit, options);
    create = child.createRateLimit;
  });
  if (!create) throw new Error('@fastify/rate-limit did not register');
  return create;
}

/** What the package hands a store's constructor and `child()` (its merged settings), as far as used here. */
interface StoreParams {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
}
type RedisStoreClass = new (
  continueExceeding: boolean | undefined,
  exponentialBackoff: boolean | undefined,
  redis: Redis,
  key: string,
) => { incr: FastifyRateLimitStore['incr']; child(params: StoreParams): unknown };

/**
 * @fastify/rate-limit's Redis store, with keys `<prefix><limit>:<hmac>`. Its own `child()` inserts the
 * route's method and URL, which a limit made with `createRateLimit` does not have: every key read
 * `…undefinedundefined-<limit>:…`. (The package exports no types for its stores, and types the
 * constructor's and `child()`'s argument as the plugin's options and a route's, hence the cast.)
 */
function redisStore(redis: Redis, prefix: string): FastifyRateLimitStoreCtor {
  const require = createRequire(import.meta.url);
  const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as RedisStoreClass;
  class PrefixedRedisStore extends RedisStore {
    constructor(params: StoreParams) {
      super(params.continueExceeding, params.exponentialBackoff, redis, prefix);
    }

    override child(params: StoreParams): PrefixedRedisStore {
      return new PrefixedRedisStore(params);
    }
  }
  return PrefixedRedisStore as unknown as FastifyRateLimitStoreCtor;
}

async function connectRedis(app: FastifyInstance, url: string, warn: (err: unknown) => void): Promise<Redis> {
  // Imported only when configured: a service without Redis never loads the client.
  // The CommonJS module's exports, the Redis class itself, are its default export: in the bundle
  // (src/cli/run-compiled.js) the named `Redis` is not there, and the compiled service failed to start.
  const ioredis = await import('ioredis');
  const Redis = (ioredis.default as unknown as typeof ioredis.Redis | undefined) ?? ioredis.Redis;
  const redis = new Redis(url, {
    lazyConnect: true,
    // Fail at once while disconnected (the in-process count takes over) instead of queueing requests.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
  });
  redis.on('error', warn);
  try {
    await redis.connect();
  } catch (err) {
    warn(err);
  }
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  return redis;
}

async function rateLimitPlugin(app: FastifyInstance) {
  const { config } = app;
  const keyKey = Buffer.from(
    hkdfSync('sha256', config.sessionSecret, 'samtycke', 'samtycke rate limit keys v1', 32),
  );
  const keyOf = (name: string, subject: string) =>
    `${name}:${createHmac('sha256', keyKey).update(subject).digest('base64url').slice(0, 22)}`;

  let lastWarning = 0;
  const warn = (err: unknown) => {
    const now = Date.now();
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    app.log.warn({ err }, 'rate limit store (Redis) unavailable; counting in this process meanwhile');
  };

  // The key is made by `take` and handed over here (the store asks the request for it).
  const keys = new WeakMap<FastifyRequest, string>();
  const common = { global: false, keyGenerator: (req: FastifyRequest) => keys.get(req) ?? '' };
  const local = await limiterFactory(app, { ...common, cache: LOCAL_SUBJECTS });
  const redis = config.redis.url ? await connectRedis(app, config.redis.url, warn) : undefined;
  const shared = redis
    ? await limiterFactory(app, { ...common, store: redisStore(redis, `${config.redis.keyPrefix}rl:`) })
    : undefined;

  function create(options: LimitOptions): RateLimit {
    const windowMs = (options.windowSeconds ?? WINDOW_SECONDS) * 1000;
    const made = { max: options.max, timeWindow: windowMs };
    const inProcess: Check = local(made);
    const inRedis: Check | undefined = shared?.(made);
    const count = async (request: FastifyRequest) => {
      if (inRedis && redis?.status === 'ready') {
        try {
          return await inRedis(request);
        } catch (err) {
          warn(err);
        }
      }
      return inProcess(request);
    };
    const take = async (request: FastifyRequest, reply: FastifyReply, subject?: string) => {
      if (options.max <= 0) return;
      keys.set(request, keyOf(options.name, subject ?? options.subject?.(request) ?? addressOf(request)));
      let result: Awaited<ReturnType<Check>>;
      try {
        result = await count(request);
      } finally {
        keys.delete(request);
      }
      if (result.isAllowed || !result.isExceeded) return;
      const retryAfter = Math.max(1, result.ttlInSeconds);
      reply.header('retry-after', String(retryAfter));
      throw new AppError(
        'too_many_requests',
        `För många försök på kort tid. Vänta ${waitText(retryAfter)} och försök igen.`,
      );
    };
    return { take, hook: (request, reply) => take(request, reply) };
  }

  const l = config.rateLimits;
  app.decorate('limits', {
    create,
    tokenPerClient: create({ name: 'token-client', max: l.tokenPerClient }),
    tokenPerAddress: create({ name: 'token-address', max: l.tokenPerAddress }),
    loginPerAddress: create({ name: 'login-address', max: l.loginPerAddress }),
    invitationPerAddress: create({ name: 'invitation-address', max: l.invitationPerAddress }),
    verifyPerAddress: create({ name: 'verify-address', max: l.verifyPerAddress }),
    signerActs: create({
      name: 'signer-act',
      max: l.signerActsPerPerson,
      subject: (request) => {
        const number = request.session?.audience === 'signer' ? request.session.personalNumber : null;
        return number ? `person:${number}` : addressOf(request);
      },
    }),
    childSearch: create({
      name: 'child-search',
      max: l.childSearchPerCaller,
      subject: (request) => {
        const caller = request.caller;
        if (caller?.kind === 'api_client') return `client:${caller.clientId}`;
        if (caller?.kind === 'staff') return `staff:${caller.staffId}`;
        return addressOf(request);
      },
    }),
  } satisfies Limits);
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['identity'], fastify: '5.x' });

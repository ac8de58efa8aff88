// All configuration comes from environment variables, parsed once at start by this one zod schema.
// Its inferred type (`Config`) is the only config type: server, CLI scripts and tests use it.
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './paths.ts';
import { DEFAULT_RETENTION_MONTHS, RETENTION_MONTHS } from './domain/retention.ts';
import { DEV_BLIND_INDEX_KEY, DEV_ENCRYPTION_KEYS } from './db/encryption.ts';
import {
  bool,
  dayList,
  int,
  isDevKey,
  keySetting,
  list,
  optional,
  perMinute,
  trustProxy,
  url,
} from './config-values.ts';

/** The development session secret. Production refuses it (and anything shorter than 32 characters). */
export const DEV_SESSION_SECRET = 'development-only-session-secret-not-for-production';
/** The development key of the API client secrets' HMAC. Production refuses it (and anything shorter). */
export const DEV_CLIENT_SECRET_HMAC_KEY = 'development-only-client-secret-hmac-key-not-for-production';

export const CLAIM_PROFILES = ['swedish-oidc', 'ssn', 'nin'] as const;
export type ClaimProfile = (typeof CLAIM_PROFILES)[number];
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;

/** Environment variables we read. Anything else prefixed SAMTYCKE_/OIDC_/… that we don't know is an error. */
const envSchema = z.object({
  SAMTYCKE_ENV: optional(z.enum(['development', 'production'])),
  NODE_ENV: optional(z.string()),
  PORT: optional(int(0, 65535)).default(3000),
  HOST: optional(z.string().min(1)),
  DATABASE_URL: optional(z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })),
  /** Connections in the app's pool at most; a quarter of them may serve signatures at once (db/pool-share.ts). */
  DATABASE_POOL_SIZE: optional(int(4, 500)).default(20),
  DATA_DIR: optional(z.string().min(1)).default('.data'),
  PUBLIC_BASE_URL: optional(url),
  SESSION_SECRET: optional(z.string()),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
  RUN_JOBS: optional(bool).default(true),
  /** How often an idle job worker looks for work; new messages wake the workers at once (src/jobs/wake.ts). */
  JOB_POLLING_INTERVAL_SECONDS: optional(int(1, 600)).default(2),
  BODY_LIMIT_BYTES: optional(int(1024, 50 * 1024 * 1024)).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: optional(int(1000, 600_000)).default(30_000),
  /**
   * Worker threads for PDF work off the event loop: rendering forms and receipts, verifying signatures
   * (src/pdf/pdf-workers.ts); 0: on it. The name stays: operators set it.
   */
  PDF_RENDER_THREADS: optional(int(0, 16)).default(1),
  /** Serve /docs (Swagger UI) and /openapi.json; default: in development only. */
  API_DOCS: optional(bool),
  TRUST_PROXY: optional(trustProxy).default(false),

  // Rate limits (src/http/rate-limit.ts): requests per minute, counted in Redis when REDIS_URL is set
  REDIS_URL: optional(z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })),
  REDIS_KEY_PREFIX: optional(z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits, : _ . -')).default(
    'samtycke:',
  ),
  RATE_LIMIT_TOKEN_PER_CLIENT: perMinute(30),
  RATE_LIMIT_TOKEN_PER_ADDRESS: perMinute(120),
  RATE_LIMIT_LOGIN_PER_ADDRESS: perMinute(60),
  RATE_LIMIT_INVITATION_PER_ADDRESS: perMinute(60),
  RATE_LIMIT_SIGNER_ACTS_PER_PERSON: perMinute(20),
  RATE_LIMIT_CHILD_SEARCH_PER_CALLER: perMinute(30),
  /** Uploads to the public verification page (/verifiera), per address. */
  RATE_LIMIT_VERIFY_PER_ADDRESS: perMinute(20),
  /** Key of the HMAC-SHA-256 that API client secrets are stored as (src/identity/api-clients.ts). */
  CLIENT_SECRET_HMAC_KEY: optional(z.string()),
  /**
   * Encryption at rest (src/db/encryption.ts): the key ring `id:base64,id:base64,…` (the first is current,
   * the others still read what they wrote until `npm run keys -- rotate`), and the blind index's key.
   */
  ENCRYPTION_KEYS: optional(keySetting('ENCRYPTION_KEYS')),
  BLIND_INDEX_KEY: optional(keySetting('BLIND_INDEX_KEY', { single: true })),

  // The search by child (issue 15 §2): searches per API client or staff member in a sliding window, counted
  // in the database (child_lookups), so every instance counts against the same quota.
  CHILD_LOOKUP_QUOTA: optional(int(1, 1_000_000)).default(100),
  CHILD_LOOKUP_QUOTA_WINDOW_MINUTES: optional(int(1, 7 * 24 * 60)).default(60),
  /** Months an ended consent is kept when its organisation has set none (src/domain/retention.ts). */
  RETENTION_MONTHS: optional(int(RETENTION_MONTHS.min, RETENTION_MONTHS.max)).default(
    DEFAULT_RETENTION_MONTHS,
  ),
  /** Bearer token for GET /metrics (src/http/metrics.ts); unset: no /metrics. */
  METRICS_TOKEN: optional(z.string().min(32, 'at least 32 characters')),

  // Consent rules
  YOUTH_SIGNATURE_AGE: optional(int(1, 17)).default(12),
  REQUEST_LIFETIME_DAYS: optional(int(1, 365)).default(30),
  REMINDER_DAYS: optional(dayList).default([3, 7]),
  ENDING_SOON_DAYS: optional(int(1, 180)).default(30),

  // Signing (PDF)
  SIGNING_CA_CERT: optional(z.string().min(1)),
  SIGNING_CA_KEY: optional(z.string().min(1)),
  SIGNING_CA_CHAIN: optional(z.string().min(1)),
  TRUST_ANCHORS: optional(z.string().min(1)),
  TSA_URL: optional(url),
  TSA_TRUST_ANCHORS: optional(z.string().min(1)),
  SIGNING_CRLS: optional(z.string().min(1)),

  // Signer e-identification (OpenID Connect)
  OIDC_ISSUER: optional(url),
  OIDC_CLIENT_ID: optional(z.string().min(1)),
  OIDC_CLIENT_SECRET: optional(z.string().min(1)),
  OIDC_CLIENT_KEY: optional(z.string().min(1)),
  OIDC_CLIENT_AUTH_METHOD: optional(z.enum(CLIENT_AUTH_METHODS)),
  OIDC_SCOPES: optional(list),
  OIDC_CLAIM_PROFILE: optional(z.enum(CLAIM_PROFILES)).default('swedish-oidc'),
  OIDC_ACR_VALUES: optional(list),
  FRESH_AUTH_MAX_AGE_SECONDS: optional(int(10, 3600)).default(300),
  OIDC_USER_MESSAGE: optional(bool).default(true),

  // Staff login (defaults to the signer provider)
  STAFF_OIDC_ISSUER: optional(url),
  STAFF_OIDC_CLIENT_ID: optional(z.string().min(1)),
  STAFF_OIDC_CLIENT_SECRET: optional(z.string().min(1)),
  STAFF_OIDC_CLIENT_KEY: optional(z.string().min(1)),
  STAFF_OIDC_SCOPES: optional(list),
  STAFF_OIDC_ACR_VALUES: optional(list),

  SESSION_IDLE_MINUTES: optional(int(1, 24 * 60)).default(15),
  SESSION_ABSOLUTE_HOURS: optional(int(1, 72)).default(8),

  // Mail
  SMTP_URL: optional(z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })),
  MAIL_FROM: optional(z.string().min(3)).default('Samtycke <no-reply@samtycke.localhost>'),
});

/** Variables of the test runner and CI, not of the service: neither read nor refused. */
const TOOLING_VARIABLES = new Set([
  'SAMTYCKE_REQUIRE_PDF_TOOLS',
  'SAMTYCKE_REQUIRE_BROWSER',
  'SAMTYCKE_TEST_SERVER_URL',
  'SAMTYCKE_TEST_TEMPLATE',
  'SAMTYCKE_REQUIRE_REDIS',
  'SAMTYCKE_TEST_REDIS_URL',
  // Where src/cli/run-compiled.js (`npm start`) keeps the compiled tree: the start-up benchmark, tests.
  'SAMTYCKE_COMPILE_CACHE',
]);

const KNOWN_PREFIXES = ['SAMTYCKE_', 'OIDC_', 'STAFF_OIDC_', 'SIGNING_', 'SMTP_', 'SESSION_', 'RATE_LIMIT_'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function build(env: z.infer<typeof envSchema>) {
  const mode: 'development' | 'production' =
    env.SAMTYCKE_ENV ?? (env.NODE_ENV === 'production' ? 'production' : 'development');
  const production = mode === 'production';
  const port = env.PORT;
  const publicBaseUrl = (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const dataDir = path.resolve(projectRoot, env.DATA_DIR);
  const certsDev = path.join(projectRoot, 'certs-dev');
  const devIdp = !env.OIDC_ISSUER;
  const signer = {
    issuer: env.OIDC_ISSUER,
    clientId: env.OIDC_CLIENT_ID ?? 'samtycke',
    clientSecret: env.OIDC_CLIENT_SECRET,
    clientKeyFile: env.OIDC_CLIENT_KEY,
    /** Undefined: private_key_jwt with a key, client_secret_basic with a secret, otherwise none. */
    clientAuthMethod: env.OIDC_CLIENT_AUTH_METHOD,
    scopes: env.OIDC_SCOPES,
    claimProfile: env.OIDC_CLAIM_PROFILE,
    acrValues: env.OIDC_ACR_VALUES ?? [],
  };
  return {
    mode,
    production,
    port,
    host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    publicBaseUrl,
    logLevel: env.LOG_LEVEL,
    runJobs: env.RUN_JOBS,
    jobPollingIntervalSeconds: env.JOB_POLLING_INTERVAL_SECONDS,
    bodyLimit: env.BODY_LIMIT_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    pdfRenderThreads: env.PDF_RENDER_THREADS,
    apiDocs: env.API_DOCS ?? !production,
    database: {
      /** Undefined: use the embedded PostgreSQL (development only). */
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      embeddedDir: path.join(dataDir, 'pg'),
    },
    dataDir,
    sessionSecret: env.SESSION_SECRET ?? DEV_SESSION_SECRET,
    clientSecretHmacKey: env.CLIENT_SECRET_HMAC_KEY ?? DEV_CLIENT_SECRET_HMAC_KEY,
    /** The key ring's settings (a `KeyRing` is made from them once: src/app.ts). */
    encryption: {
      keys: env.ENCRYPTION_KEYS ?? DEV_ENCRYPTION_KEYS,
      blindIndexKey: env.BLIND_INDEX_KEY ?? DEV_BLIND_INDEX_KEY,
    },
    /** Fastify's `trustProxy`: whose X-Forwarded-* headers say who the client is. */
    trustProxy: env.TRUST_PROXY,
    redis: {
      /** Undefined: rate limits are counted in this process only. */
      url: env.REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
    },
    /** Requests per minute (0: no limit). */
    rateLimits: {
      tokenPerClient: env.RATE_LIMIT_TOKEN_PER_CLIENT,
      tokenPerAddress: env.RATE_LIMIT_TOKEN_PER_ADDRESS,
      loginPerAddress: env.RATE_LIMIT_LOGIN_PER_ADDRESS,
      invitationPerAddress: env.RATE_LIMIT_INVITATION_PER_ADDRESS,
      signerActsPerPerson: env.RATE_LIMIT_SIGNER_ACTS_PER_PERSON,
      childSearchPerCaller: env.RATE_LIMIT_CHILD_SEARCH_PER_CALLER,
      verifyPerAddress: env.RATE_LIMIT_VERIFY_PER_ADDRESS,
    },
    /** The quota on searches by child, per API client or staff member (issue 15 §2). */
    childLookups: {
      quota: env.CHILD_LOOKUP_QUOTA,
      windowSeconds: env.CHILD_LOOKUP_QUOTA_WINDOW_MINUTES * 60,
    },
    /** Retention and deletion (issue 16 §4): organisations may set their own time. */
    retention: { defaultMonths: env.RETENTION_MONTHS },
    /** Undefined: GET /metrics answers 404. */
    metricsToken: env.METRICS_TOKEN,
    rules: {
      youthSignatureAge: env.YOUTH_SIGNATURE_AGE,
      requestLifetimeDays: env.REQUEST_LIFETIME_DAYS,
      reminderDays: env.REMINDER_DAYS,
      endingSoonDays: env.ENDING_SOON_DAYS,
    },
    signing: {
      caCertFile: env.SIGNING_CA_CERT ?? path.join(certsDev, 'dev-signing-ca.pem'),
      caKeyFile: env.SIGNING_CA_KEY ?? path.join(certsDev, 'dev-signing-ca.key'),
      chainFiles: env.SIGNING_CA_CHAIN
        ? env.SIGNING_CA_CHAIN.split(',')
        : [path.join(certsDev, 'dev-root-ca.pem')],
      trustAnchorFiles: env.TRUST_ANCHORS
        ? env.TRUST_ANCHORS.split(',')
        : [path.join(certsDev, 'dev-root-ca.pem')],
      /** RFC 3161 TSA; none in development: the in-process development TSA (src/dev/tsa.ts). */
      tsaUrl: env.TSA_URL,
      /** Roots the TSA's certificate must chain to (default: the trust anchors). */
      tsaTrustAnchorFiles: env.TSA_TRUST_ANCHORS
        ? env.TSA_TRUST_ANCHORS.split(',')
        : env.TRUST_ANCHORS
          ? env.TRUST_ANCHORS.split(',')
          : [path.join(certsDev, 'dev-root-ca.pem')],
      /** CRLs of the CAs above the signing CA and of the TSA's CA, for each document's DSS (PAdES B-LT). */
      crlFiles: env.SIGNING_CRLS
        ? env.SIGNING_CRLS.split(',')
        : production
          ? []
          : [path.join(certsDev, 'dev-root-ca.crl')],
      devCertsDir: certsDev,
    },
    oidc: {
      /** No issuer configured: the built-in development IdP (development only). */
      devIdp,
      signer,
      staff: {
        issuer: env.STAFF_OIDC_ISSUER ?? signer.issuer,
        clientId: env.STAFF_OIDC_CLIENT_ID ?? signer.clientId,
        clientSecret: env.STAFF_OIDC_CLIENT_SECRET ?? signer.clientSecret,
        clientKeyFile: env.STAFF_OIDC_CLIENT_KEY ?? signer.clientKeyFile,
        // The signer's method goes with the signer's credentials only.
        clientAuthMethod:
          env.STAFF_OIDC_CLIENT_SECRET || env.STAFF_OIDC_CLIENT_KEY ? undefined : signer.clientAuthMethod,
        scopes: env.STAFF_OIDC_SCOPES ?? ['openid', 'profile', 'email'],
        acrValues: env.STAFF_OIDC_ACR_VALUES ?? [],
      },
      freshAuthMaxAgeSeconds: env.FRESH_AUTH_MAX_AGE_SECONDS,
      /** Send a short text naming the act where the provider supports the Swedish profile's user message. */
      userMessage: env.OIDC_USER_MESSAGE,
    },
    session: {
      idleMinutes: env.SESSION_IDLE_MINUTES,
      absoluteHours: env.SESSION_ABSOLUTE_HOURS,
    },
    mail: {
      /** Undefined: mail is captured in-process (development only). */
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
    },
  };
}

export type Config = ReturnType<typeof build>;

/** Rules that stop production from running on development defaults by accident. */
function productionProblems(config: Config): string[] {
  if (!config.production) return [];
  const problems: string[] = [];
  if (!config.database.url)
    problems.push('DATABASE_URL: required in production (the embedded database is for development)');
  if (config.sessionSecret === DEV_SESSION_SECRET || config.sessionSecret.length < 32)
    problems.push('SESSION_SECRET: production needs a random secret of at least 32 characters');
  if (config.clientSecretHmacKey === DEV_CLIENT_SECRET_HMAC_KEY || config.clientSecretHmacKey.length < 32)
    problems.push('CLIENT_SECRET_HMAC_KEY: production needs a random key of at least 32 characters');
  if (config.encryption.keys === DEV_ENCRYPTION_KEYS || isDevKey(config.encryption.keys))
    problems.push('ENCRYPTION_KEYS: production needs its own keys (the development keys are public)');
  if (
    config.encryption.blindIndexKey === DEV_BLIND_INDEX_KEY ||
    isDevKey(config.encryption.blindIndexKey, { single: true })
  )
    problems.push('BLIND_INDEX_KEY: production needs its own key (the development key is public)');
  if (config.oidc.devIdp)
    problems.push('OIDC_ISSUER: required in production (the development IdP is for development)');
  if (config.oidc.signer.issuer?.includes('/dev-idp') || config.oidc.staff.issuer?.includes('/dev-idp'))
    problems.push('OIDC_ISSUER: the development IdP cannot be used in production');
  if (config.oidc.signer.issuer && !config.oidc.signer.clientSecret && !config.oidc.signer.clientKeyFile)
    problems.push('OIDC_CLIENT_SECRET or OIDC_CLIENT_KEY: required in production');
  if (config.oidc.signer.clientAuthMethod === 'none')
    problems.push('OIDC_CLIENT_AUTH_METHOD: production needs an authenticated client, not none');
  const devCertsDir = config.signing.devCertsDir + path.sep;
  const signingFiles = [
    config.signing.caCertFile,
    config.signing.caKeyFile,
    ...config.signing.trustAnchorFiles,
    ...config.signing.tsaTrustAnchorFiles,
    ...config.signing.crlFiles,
  ];
  if (signingFiles.some((f) => path.resolve(projectRoot, f).startsWith(devCertsDir)))
    problems.push(
      'SIGNING_CA_CERT, SIGNING_CA_KEY, TRUST_ANCHORS, TSA_TRUST_ANCHORS, SIGNING_CRLS: production cannot use the development certificates',
    );
  if (!config.signing.tsaUrl)
    problems.push(
      'TSA_URL: required in production (every signature needs a trusted time, PAdES B-T; the in-process TSA is for development)',
    );
  if (!config.mail.smtpUrl)
    problems.push('SMTP_URL: required in production (mail capture is for development)');
  if (!config.publicBaseUrl.startsWith('https://'))
    problems.push('PUBLIC_BASE_URL: production needs an https:// URL');
  return problems;
}

/**
 * Parse the environment. Throws ConfigError listing every problem, one line each; never echoes values
 * (a value may be a secret).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (
      KNOWN_PREFIXES.some((p) => key.startsWith(p)) &&
      !(key in envSchema.shape) &&
      !TOOLING_VARIABLES.has(key)
    )
      problems.push(`${key}: unknown setting`);
  }
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const config = build(parsed.data);
  problems.push(...productionProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

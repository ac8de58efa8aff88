import t from 'tap';
import { ConfigError, DEV_CLIENT_SECRET_HMAC_KEY, DEV_SESSION_SECRET, loadConfig } from '../src/config.ts';
import { PRODUCTION_ENV } from './fixtures/production-env.ts';
import { DEV_BLIND_INDEX_KEY, DEV_ENCRYPTION_KEYS } from '../src/db/encryption.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

t.test('development defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.mode, 'development');
  t.equal(c.port, 3000);
  t.equal(c.host, '127.0.0.1');
  t.equal(c.publicBaseUrl, 'http://localhost:3000');
  t.equal(c.database.url, undefined, 'embedded database');
  t.equal(c.rules.youthSignatureAge, 12);
  t.equal(c.runJobs, true);
  t.equal(c.oidc.devIdp, true);
  t.equal(c.sessionSecret, DEV_SESSION_SECRET);
  t.same(c.rules.reminderDays, [3, 7]);
});

t.test('values are parsed and typed', async (t) => {
  const c = loadConfig({
    PORT: '8080',
    RUN_JOBS: 'false',
    YOUTH_SIGNATURE_AGE: '13',
    REMINDER_DAYS: '2, 5,9',
  });
  t.equal(c.port, 8080);
  t.equal(c.runJobs, false);
  t.equal(c.rules.youthSignatureAge, 13);
  t.same(c.rules.reminderDays, [2, 5, 9]);
  t.equal(c.publicBaseUrl, 'http://localhost:8080');
});

t.test('NODE_ENV=production implies production mode', async (t) => {
  t.equal(loadConfig({ ...PRODUCTION_ENV, SAMTYCKE_ENV: '', NODE_ENV: 'production' }).mode, 'production');
});

t.test('malformed and unknown values: one line per problem, values not echoed', async (t) => {
  const problems = problemsOf({
    PORT: 'eighty',
    RUN_JOBS: 'maybe',
    DATABASE_URL: 'mysql://secret-host/x',
    SAMTYCKE_COLOUR: 'blue',
    YOUTH_SIGNATURE_AGE: '40',
  });
  t.equal(problems.length, 5, problems.join('\n'));
  t.match(problems.join('\n'), /PORT/);
  t.match(problems.join('\n'), /RUN_JOBS/);
  t.match(problems.join('\n'), /DATABASE_URL/);
  t.match(problems.join('\n'), /SAMTYCKE_COLOUR: unknown setting/);
  t.match(problems.join('\n'), /YOUTH_SIGNATURE_AGE/);
  t.notMatch(problems.join('\n'), /secret-host|eighty|maybe/);
});

t.test('a complete production configuration is accepted', async (t) => {
  const c = loadConfig(PRODUCTION_ENV);
  t.equal(c.production, true);
  t.equal(c.host, '0.0.0.0');
});

const refusals: [string, Record<string, string | undefined>, RegExp][] = [
  ['no DATABASE_URL (embedded database)', { DATABASE_URL: undefined }, /DATABASE_URL/],
  ['default session secret', { SESSION_SECRET: DEV_SESSION_SECRET }, /SESSION_SECRET/],
  ['short session secret', { SESSION_SECRET: 'short-secret' }, /SESSION_SECRET/],
  ['no session secret', { SESSION_SECRET: undefined }, /SESSION_SECRET/],
  [
    'development client secret key',
    { CLIENT_SECRET_HMAC_KEY: DEV_CLIENT_SECRET_HMAC_KEY },
    /CLIENT_SECRET_HMAC_KEY/,
  ],
  ['short client secret key', { CLIENT_SECRET_HMAC_KEY: 'short-key' }, /CLIENT_SECRET_HMAC_KEY/],
  ['no client secret key', { CLIENT_SECRET_HMAC_KEY: undefined }, /CLIENT_SECRET_HMAC_KEY/],
  ['development IdP (no OIDC_ISSUER)', { OIDC_ISSUER: undefined }, /OIDC_ISSUER/],
  ['development IdP issuer', { OIDC_ISSUER: 'https://samtycke.example.se/dev-idp' }, /development IdP/],
  ['development signing certificates (default)', { SIGNING_CA_CERT: undefined }, /development certificates/],
  ['development trust anchors', { TRUST_ANCHORS: undefined }, /development certificates/],
  ['mail capture (no SMTP_URL)', { SMTP_URL: undefined }, /SMTP_URL/],
  ['plain http public URL', { PUBLIC_BASE_URL: 'http://samtycke.example.se' }, /https/],
  ['no time-stamping authority (the in-process TSA)', { TSA_URL: undefined }, /TSA_URL: required/],
  ['no encryption keys', { ENCRYPTION_KEYS: undefined }, /ENCRYPTION_KEYS: production needs its own keys/],
  [
    'the development encryption keys',
    { ENCRYPTION_KEYS: DEV_ENCRYPTION_KEYS },
    /ENCRYPTION_KEYS: production/,
  ],
  [
    'the development key kept as an older key',
    { ENCRYPTION_KEYS: `${PRODUCTION_ENV.ENCRYPTION_KEYS},${DEV_ENCRYPTION_KEYS}` },
    /ENCRYPTION_KEYS: production/,
  ],
  [
    'the development key under another id',
    { ENCRYPTION_KEYS: DEV_ENCRYPTION_KEYS.replace('dev-not-secret:', 'prod:') },
    /ENCRYPTION_KEYS: production/,
  ],
  ['no blind index key', { BLIND_INDEX_KEY: undefined }, /BLIND_INDEX_KEY: production needs its own key/],
  [
    'the development blind index key',
    { BLIND_INDEX_KEY: DEV_BLIND_INDEX_KEY },
    /BLIND_INDEX_KEY: production/,
  ],
  [
    'the development root CRL',
    { SIGNING_CRLS: 'certs-dev/dev-root-ca.crl' },
    /SIGNING_CRLS: production cannot use the development certificates/,
  ],
];
for (const [name, change, pattern] of refusals) {
  t.test(`production refuses: ${name}`, async (t) => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const problems = problemsOf(env);
    t.ok(
      problems.some((p) => pattern.test(p)),
      `refused with ${pattern}: ${problems.join('; ')}`,
    );
  });
}

t.test(
  'encryption keys: development defaults, settings read as a key ring, bad settings named not shown',
  async (t) => {
    const dev = loadConfig({});
    t.same(dev.encryption, { keys: DEV_ENCRYPTION_KEYS, blindIndexKey: DEV_BLIND_INDEX_KEY });
    const c = loadConfig(PRODUCTION_ENV);
    t.equal(c.encryption.keys, PRODUCTION_ENV.ENCRYPTION_KEYS);
    const secret = Buffer.alloc(16, 'sixteen-byte-key').toString('base64');
    const problems = problemsOf({
      ENCRYPTION_KEYS: `k1:${secret}`,
      BLIND_INDEX_KEY: 'no-colon-here',
    });
    t.match(problems.join('\n'), /ENCRYPTION_KEYS: key k1 must be 32 bytes/);
    t.match(problems.join('\n'), /BLIND_INDEX_KEY: each key is id:base64/);
    t.notMatch(problems.join('\n'), secret, 'the key is not in the message');
    t.notMatch(problems.join('\n'), 'no-colon-here');
  },
);

t.test('the test runner and CI variables are not settings, and not refused', async (t) => {
  const c = loadConfig({
    SAMTYCKE_REQUIRE_PDF_TOOLS: '1',
    SAMTYCKE_TEST_SERVER_URL: 'x',
    SAMTYCKE_TEST_TEMPLATE: 'y',
  });
  t.equal(c.mode, 'development');
});

t.test('rate limits, Redis and the proxy: defaults, values, refusals', async (t) => {
  const c = loadConfig({});
  t.equal(c.trustProxy, false, 'X-Forwarded-For is believed from nobody by default');
  t.equal(c.redis.url, undefined, 'counted in the process by default');
  t.equal(c.clientSecretHmacKey, DEV_CLIENT_SECRET_HMAC_KEY);
  t.same(c.rateLimits, {
    tokenPerClient: 30,
    tokenPerAddress: 120,
    loginPerAddress: 60,
    invitationPerAddress: 60,
    signerActsPerPerson: 20,
    childSearchPerCaller: 30,
    verifyPerAddress: 20,
  });
  t.equal(loadConfig({ RATE_LIMIT_LOGIN_PER_ADDRESS: '0' }).rateLimits.loginPerAddress, 0);
  t.equal(loadConfig({ REDIS_URL: 'redis://cache:6379/2' }).redis.url, 'redis://cache:6379/2');
  const proxies: [string, unknown][] = [
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 2001:db8::/32 loopback', ['10.0.0.0/8', '2001:db8::/32', 'loopback']],
  ];
  for (const [value, expected] of proxies)
    t.same(loadConfig({ TRUST_PROXY: value }).trustProxy, expected, `TRUST_PROXY=${value}`);
  for (const value of ['true', 'yes', '11', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/8', '::1/129'])
    t.match(problemsOf({ TRUST_PROXY: value }).join('\n'), /TRUST_PROXY/, `TRUST_PROXY=${value} refused`);
  const problems = problemsOf({
    RATE_LIMIT_LOGIN: '5',
    RATE_LIMIT_TOKEN_PER_CLIENT: 'many',
    REDIS_URL: 'http://secret-cache:6379',
  });
  t.match(problems.join('\n'), /RATE_LIMIT_LOGIN: unknown setting/, 'a misspelt limit is not ignored');
  t.match(problems.join('\n'), /RATE_LIMIT_TOKEN_PER_CLIENT/);
  t.match(problems.join('\n'), /REDIS_URL/);
  t.notMatch(problems.join('\n'), /secret-cache/, 'values not echoed');
});

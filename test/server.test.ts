// The server process as an operator meets it: bad config, a database that is down, graceful shutdown.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import t from 'tap';
import { projectRoot } from '../src/paths.ts';
import { childEnv, freshDatabase } from './helper.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startServer(
  env: Record<string, string>,
  untilReady?: (port: number) => Promise<void>,
  args = ['--import', 'tsx', path.join(projectRoot, 'src/server.ts')],
): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
    if (m && untilReady && !signalled) {
      signalled = true;
      void untilReady(Number(m[1])).finally(() => child.kill('SIGTERM'));
    }
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

t.test('bad configuration: exit non-zero, one clear line per problem, no stack trace', async (t) => {
  const run = await startServer({ PORT: 'eighty', SAMTYCKE_ENV: 'production' });
  t.equal(run.code, 78);
  t.match(run.stderr, /configuration has problems/);
  t.match(run.stderr, /- PORT: /);
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

t.test('production refuses to start on development defaults', async (t) => {
  const run = await startServer({ SAMTYCKE_ENV: 'production' });
  t.equal(run.code, 78);
  for (const v of ['DATABASE_URL', 'SESSION_SECRET', 'OIDC_ISSUER', 'SMTP_URL', 'SIGNING_CA_CERT'])
    t.match(run.stderr, v);
});

t.test('a database that is down: a clear message and exit 1, not a crash loop', async (t) => {
  const run = await startServer({
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/samtycke',
    PORT: '0',
    LOG_LEVEL: 'error',
  });
  t.equal(run.code, 1);
  t.match(run.stderr, /cannot start: /);
  t.notMatch(run.stderr, /\n\s+at /);
});

t.test('SIGTERM: finishes in-flight requests, stops, exit code 0', async (t) => {
  const url = await freshDatabase(t);
  let inFlight: Promise<number> | undefined;
  const run = await startServer({ DATABASE_URL: url, PORT: '0', RUN_JOBS: 'true' }, async (port) => {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
    t.equal(res.status, 200, 'ready');
    // Hold the readiness check inside its handler: it reads kysely_migration, which we lock.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN; LOCK TABLE kysely_migration IN ACCESS EXCLUSIVE MODE');
    inFlight = fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status);
    await new Promise((r) => setTimeout(r, 300));
    // startServer sends SIGTERM when this returns; release the lock well after that.
    setTimeout(() => void blocker.query('COMMIT').finally(() => blocker.end()), 500);
  });
  t.equal(run.code, 0, run.stderr);
  t.equal(await inFlight, 200, 'the in-flight request got its real answer');
  t.match(run.stdout, /"signal":"SIGTERM"/);
  t.match(run.stdout, /"msg":"stopped"/);
});

t.test('npm start: compiled (src/cli/run-compiled.js), it serves and stops on SIGTERM with 0', async (t) => {
  const url = await freshDatabase(t);
  // Its own compile cache: this test compiles everything, as the first start after `npm ci` does.
  const cache = path.join(projectRoot, '.data', `test-compiled-${process.pid}`);
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = pkg.scripts.start.split(' ');
  t.equal(node, 'node');
  const env: Record<string, string> = {
    DATABASE_URL: url,
    PORT: '0',
    RUN_JOBS: 'true',
    SAMTYCKE_COMPILE_CACHE: cache,
  };
  // With Redis where the tests have one (CI does): the rate limits' client is loaded from the bundle too
  // (bundled, its constructor was not where the source looked for it: the start failed, "Redis is not a
  // constructor").
  const redisUrl = process.env.SAMTYCKE_TEST_REDIS_URL;
  const prefix = `samtycke-test-${randomBytes(6).toString('hex')}:`;
  const redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true }) : undefined;
  if (redis) {
    Object.assign(env, { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix });
    await redis.connect();
    t.teardown(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
  }
  const run = await startServer(
    env,
    async (port) => {
      const get = (route: string) => fetch(`http://127.0.0.1:${port}${route}`, { redirect: 'manual' });
      t.equal((await get('/health/ready')).status, 200, 'ready');
      // It runs from the bundle (run-compiled.js): the parts loaded later, or left in node_modules, work too.
      // The mail capture starts with the first message; its page answers before that.
      t.equal((await get('/dev/mail')).status, 200, '/dev/mail');
      const discovery = await get('/dev-idp/.well-known/openid-configuration');
      t.equal(discovery.status, 200, 'the development IdP (oidc-provider, loaded at its first request)');
      t.match(await discovery.json(), { issuer: /\/dev-idp$/ });
      const page = await get('/');
      t.equal(page.status, 200, 'a page (templates)');
      t.match(page.headers.get('content-security-policy'), /default-src/, 'with its headers');
      const docs = await get('/openapi.json');
      t.equal(docs.status, 200, '/openapi.json (@fastify/swagger)');
      t.match(await docs.json(), { openapi: /^3\./ });
      t.equal(
        (await get('/docs/static/swagger-ui.css')).status,
        200,
        '/docs (@fastify/swagger-ui, its files)',
      );
      const denied = await get('/api/v1/consents');
      t.equal(denied.status, 401, 'an API route without a token');
      t.match(denied.headers.get('content-type'), /application\/problem\+json/, 'answered as problem+json');
      if (redis) {
        const token = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
        });
        t.equal(token.status, 401, 'a token request');
        t.equal((await redis.keys(`${prefix}rl:token-address:*`)).length, 1, 'counted in Redis');
      }
    },
    args,
  );
  t.equal(run.code, 0, run.stderr);
  t.notMatch(run.stderr, /no bundle/, 'it ran from the bundle');
  t.match(run.stdout, /"msg":"stopped"/);
});

t.test('a configured OpenID provider: the development IdP (oidc-provider) is never loaded', async (t) => {
  const url = await freshDatabase(t);
  const configured = await startServer(
    { DATABASE_URL: url, PORT: '0', RUN_JOBS: 'false', OIDC_ISSUER: 'http://127.0.0.1:9/oidc' },
    async (port) => {
      t.equal((await fetch(`http://127.0.0.1:${port}/health/live`)).status, 200);
      t.equal((await fetch(`http://127.0.0.1:${port}/dev-idp/.well-known/openid-configuration`)).status, 404);
    },
  );
  t.equal(configured.code, 0, configured.stderr);
  t.notMatch(configured.stdout + configured.stderr, /oidc-provider/, 'no "Unsupported runtime" warning');

  // The control: the development IdP loads it on its first request (and on Node 20 it warns then).
  const development = await startServer({ DATABASE_URL: url, PORT: '0', RUN_JOBS: 'false' }, async (port) => {
    const res = await fetch(`http://127.0.0.1:${port}/dev-idp/.well-known/openid-configuration`);
    t.equal(res.status, 200, 'the development IdP answers');
  });
  t.equal(development.code, 0, development.stderr);
  const lts = process.release.lts;
  if (lts && lts < 'Jod') t.match(development.stderr, /oidc-provider WARNING: Unsupported runtime/);
});

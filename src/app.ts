// Builds the Fastify app from a parsed config. Never listens: src/server.ts does that, tests use
// `app.inject` or listen on a random port.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyServerOptions, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type pino from 'pino';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import dbPlugin from './db/plugin.ts';
import { canonicalHostRedirect } from './http/canonical-host.ts';
import errorsPlugin, { clientErrorHandler, earlyErrorHandler } from './http/errors.ts';
import healthRoutes from './http/health.ts';
import homeRoutes from './http/home.ts';
import { strictJsonBodies } from './http/json-body.ts';
import metricsPlugin from './http/metrics.ts';
import { createLogger, logRequest } from './http/logging.ts';
import openapiPlugin from './http/openapi.ts';
import rateLimitPlugin from './http/rate-limit.ts';
import securityHeaders from './http/security-headers.ts';
import type { App } from './http/types.ts';
import viewsPlugin from './http/views.ts';
// (The order of these imports is the order of the schemas in openapi.yaml: zod registers them on load.)
import adminRoutes from './http/admin/index.ts';
import consentApiRoutes from './http/api/consents.ts';
import callerPlugin from './identity/caller.ts';
import tokenRoutes from './http/auth/token.ts';
import identityPlugin from './identity/plugin.ts';
import authPlugin from './http/auth/index.ts';
import jobsPlugin from './jobs/plugin.ts';
import notifyPlugin from './notify/plugin.ts';
import signingPlugin from './pdf/plugin.ts';
// (Imported with the rest, not on registration: they load while the database starts, not after it.)
import signerRoutes from './http/signer/index.ts';
import staffRoutes from './http/staff/index.ts';
import verifyRoutes from './http/verify/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    clock: Clock;
  }
}

export interface BuildOptions {
  config: Config;
  /** Connection string of the database to use (the embedded one or DATABASE_URL). */
  databaseUrl: string;
  clock?: Clock;
  logger?: FastifyBaseLogger;
  /** Register the job queue (pg-boss). Off for tools that only need HTTP (e.g. writing openapi.yaml). */
  jobs?: boolean;
}

/** Origins of the configured OpenID providers (none for the built-in development IdP: it is us). */
function providerOrigins(config: Config): string[] {
  const issuers = [config.oidc.signer.issuer, config.oidc.staff.issuer].filter((i): i is string => !!i);
  return [...new Set(issuers.map((i) => new URL(i).origin))];
}

/** Trust the nearest `hops` proxies (proxy-addr's hop count: the socket's peer is hop 0). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * zod validates and serializes every route (setValidatorCompiler below). Without these factories Fastify
 * would still load its defaults, Ajv and fast-json-stringify, at start: a tenth of the modules, never used.
 * (Fastify's types expect Ajv's compilers here, hence the cast.)
 */
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export async function buildApp(options: BuildOptions): Promise<App> {
  const { config } = options;
  const app = Fastify({
    loggerInstance: options.logger ?? createLogger(config.logLevel),
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // One log line per request (below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Whose X-Forwarded-* to believe (TRUST_PROXY): nobody by default, else only the named proxies or hops.
    trustProxy:
      typeof config.trustProxy === 'number'
        ? trustHops(config.trustProxy) // (Fastify takes a number too, but its types do not say so.)
        : config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's and Node's own early answers (a bad URL, a too long path parameter, headers too large) are
    // problem+json with a request id and a log line too, never quoting the URL (errors.ts).
    frameworkErrors: earlyErrorHandler,
    clientErrorHandler,
    schemaController: { compilersFactory: zodCompilers },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  strictJsonBodies(app);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('config', config);
  app.decorate('clock', options.clock ?? systemClock);

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Security headers and `Cache-Control: no-store` on every answer, so before any hook that answers (the
  // redirect below, the development IdP). Pages may post to the identity providers (the login redirect).
  await app.register(securityHeaders, { formTargets: providerOrigins(config) });
  // Development: another host name than PUBLIC_BASE_URL's (e.g. 127.0.0.1) is sent there (canonical-host.ts).
  const toCanonicalHost = canonicalHostRedirect(config);
  if (toCanonicalHost) app.addHook('onRequest', toCanonicalHost);
  // (pino's loggers have isLevelEnabled; Fastify's type does not say so.)
  if ((app.log as pino.Logger).isLevelEnabled('info'))
    app.addHook('onResponse', async (request, reply) => logRequest(request, reply));

  await app.register(errorsPlugin);
  await app.register(dbPlugin, { connectionString: options.databaseUrl });
  // Before any route: its hooks (development IdP, session, CSRF cookie) must apply to every route.
  await app.register(identityPlugin);
  // Rate limits (`app.limits`): before the routes that take them; after identity (some count per person).
  await app.register(rateLimitPlugin);
  // Login, callback and logout, and the registry of acts that need their own identification.
  await app.register(authPlugin);
  // Before any /api route: `config.auth` on every route is enforced and documented by it.
  await app.register(callerPlugin);
  await app.register(viewsPlugin);
  // Before the jobs plugin: its workers start at once and the notify job needs the mailer.
  await app.register(notifyPlugin);
  if (options.jobs ?? true) {
    await app.register(jobsPlugin, {
      connectionString: options.databaseUrl,
      runWorkers: config.runJobs,
      pollingIntervalSeconds: config.jobPollingIntervalSeconds,
    });
  }
  await app.register(signingPlugin);
  await app.register(openapiPlugin);
  await app.register(healthRoutes);
  await app.register(metricsPlugin);
  await app.register(homeRoutes);
  await app.register(signerRoutes);
  await app.register(staffRoutes);
  await app.register(verifyRoutes);
  await app.register(tokenRoutes);
  await app.register(adminRoutes);
  await app.register(consentApiRoutes);
  return app;
}

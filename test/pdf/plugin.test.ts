import { writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';
import signingPlugin from '../../src/pdf/plugin.ts';

const devConfig = () => loadConfig({ SAMTYCKE_ENV: 'development', LOG_LEVEL: 'silent' });

async function start(config: ReturnType<typeof devConfig>) {
  const app = Fastify();
  app.decorate('config', config);
  await app.register(signingPlugin);
  await app.ready();
  return app;
}

t.test('loads the signing service and trust anchors at start', async (t) => {
  const app = await start(devConfig());
  t.teardown(() => app.close());
  t.equal(app.signing.service.isDevelopment, true);
  t.ok(app.signing.trust.anchors.length >= 1);
  t.equal(app.signing.tsaUrl, undefined);
});

t.test('a broken certificate stops the start with a clear message', async (t) => {
  const dir = t.testdir({});
  const broken = `${dir}/broken.pem`;
  writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
  const config = devConfig();
  const err = await start({ ...config, signing: { ...config.signing, caCertFile: broken } }).catch((e) => e);
  t.ok(err instanceof ConfigError);
  t.match(err.message, /Signing CA certificate .*broken\.pem/);
  const missing = await start({
    ...config,
    signing: { ...config.signing, trustAnchorFiles: [`${dir}/none.pem`] },
  }).catch((e) => e);
  t.match(missing.message, /Trust anchor .*none\.pem: file not found/);
});

t.test('production refuses the development signing CA', async (t) => {
  const config = devConfig();
  const err = await start({ ...config, production: true }).catch((e) => e);
  t.ok(err instanceof ConfigError);
  t.match(err.message, /development certificate/);
});

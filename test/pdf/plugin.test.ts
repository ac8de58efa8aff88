import { writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { issueCrl, pemEncode } from '../../src/pdf/pki.ts';
import signingPlugin from '../../src/pdf/plugin.ts';
import { loadSigning } from '../../src/pdf/signing-setup.ts';
import { cn, makeCa } from './helpers/pki.ts';

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
  t.equal(app.signing.timestamper.isDevelopment, true, 'no TSA_URL: the in-process development TSA');
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

t.test('production: a TSA and CRLs for every CA above the signing CA, or no start', async (t) => {
  const dir = t.testdir({});
  const root = makeCa(cn('Exempel Root CA', 'Region Exempel'));
  const ca = makeCa(cn('Exempel Signing CA', 'Region Exempel'), root);
  const crl = issueCrl({
    issuer: root.issuer,
    thisUpdate: new Date(Date.now() - 3600_000),
    nextUpdate: new Date(Date.now() + 30 * 86_400_000),
    number: 7,
  });
  const files = {
    root: `${dir}/root.pem`,
    ca: `${dir}/ca.pem`,
    key: `${dir}/ca.key`,
    crl: `${dir}/root.crl`,
  };
  writeFileSync(files.root, root.pem);
  writeFileSync(files.ca, ca.pem);
  writeFileSync(files.key, ca.keyPem);
  writeFileSync(files.crl, pemEncode(crl, 'X509 CRL'));
  const base = devConfig();
  const production = (signing: Partial<typeof base.signing>) => ({
    production: true,
    signing: {
      ...base.signing,
      caCertFile: files.ca,
      caKeyFile: files.key,
      chainFiles: [files.root],
      trustAnchorFiles: [files.root],
      tsaTrustAnchorFiles: [files.root],
      tsaUrl: 'https://tsa.example.se/tsa',
      crlFiles: [files.crl],
      ...signing,
    },
  });
  const loaded = await loadSigning(production({}));
  t.equal(loaded.timestamper.isDevelopment, false, 'TSA_URL: the TSA over HTTP');
  t.match(loaded.timestamper.description, /tsa\.example\.se/);

  const noTsa = await loadSigning(production({ tsaUrl: undefined })).catch((e) => e);
  t.ok(noTsa instanceof ConfigError);
  t.match(noTsa.message, /TSA_URL: required in production/, 'never the in-process TSA');

  const noCrl = await loadSigning(production({ crlFiles: [] })).catch((e) => e);
  t.ok(noCrl instanceof ConfigError);
  t.match(noCrl.message, /SIGNING_CRLS: no current CRL tells the status of "Exempel Signing CA"/);

  const otherCrl = `${dir}/other.crl`;
  const stranger = makeCa(cn('Some Other Root'));
  writeFileSync(
    otherCrl,
    issueCrl({
      issuer: stranger.issuer,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 86_400_000),
      number: 1,
    }),
  );
  const wrongCrl = await loadSigning(production({ crlFiles: [otherCrl] })).catch((e) => e);
  t.match(wrongCrl.message, /SIGNING_CRLS/, "another CA's CRL does not count");

  const notCrl = await loadSigning(production({ crlFiles: [files.root] })).catch((e) => e);
  t.match(notCrl.message, /CRL .*root\.pem: no PEM X509 CRL block/, 'a file that is no CRL');
});

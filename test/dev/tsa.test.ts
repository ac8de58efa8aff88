// The in-process development TSA (src/dev/tsa.ts): tokens at the service's clock that our own token check
// accepts, chained to the development root, and a clear refusal when its files are missing.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { ConfigError } from '../../src/config.ts';
import { loadDevelopmentTsa } from '../../src/dev/tsa.ts';
import { checkTimestampToken } from '../../src/pdf/tsa.ts';
import { DEV_CERTS_DIR, devCrls, devTrust } from '../pdf/helpers/signing.ts';

t.test('tokens at the clock it is given, by a trusted time-stamping certificate', async (t) => {
  const at = new Date('2027-03-01T12:00:00.750Z');
  const tsa = await loadDevelopmentTsa({ dir: DEV_CERTS_DIR, crls: await devCrls(), clock: fixedClock(at) });
  t.ok(tsa.isDevelopment);
  const data = Buffer.from('a signature value');
  const token = await tsa.timestamp(data);
  t.ok(token.length <= tsa.tokenCapacity, `the token (${token.length} bytes) fits its reserved room`);
  const check = await checkTimestampToken(token, data, devTrust());
  t.same(check.problems, []);
  t.ok(check.imprintValid && check.signatureValid && check.timeStampingUsage && check.trusted);
  t.equal(check.genTime?.toISOString(), '2027-03-01T12:00:00.000Z', 'the clock, in whole seconds');
  t.notOk((await checkTimestampToken(token, Buffer.from('other data'), devTrust())).imprintValid);

  const data2 = await tsa.validationData(token, at);
  t.equal(data2.certificates.length, 2, 'the TSA certificate and the root');
  t.equal(data2.crls.length, 1, "the root's CRL");
});

t.test('missing files: a clear refusal that names the command which adds them', async (t) => {
  const dir = t.testdir({});
  copyFileSync(path.join(DEV_CERTS_DIR, 'dev-root-ca.pem'), path.join(dir, 'dev-root-ca.pem'));
  const err = await loadDevelopmentTsa({ dir }).catch((e: unknown) => e);
  t.ok(err instanceof ConfigError);
  t.match((err as Error).message, /dev-tsa\.pem: file not found \(npm run dev-certs adds it\)/);
});

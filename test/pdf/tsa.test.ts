// Signature timestamps from a TSA over HTTP (TSA_URL, the production path): a local RFC 3161 service
// (openssl ts -reply) stamps each signature value; the token is in the CMS, verifies (our verifier and
// `openssl ts -verify`), the TSA's chain and CRL go into the DSS (B-LT), and every failure of the service
// is refused with timestamp_failed. (The in-process development TSA: long-term.test.ts.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { AppError } from '../../src/errors.ts';
import { parseSignedData } from '../../src/pdf/cms.ts';
import { CrlSet } from '../../src/pdf/crl.ts';
import { OID } from '../../src/pdf/pki.ts';
import { renderConsentForm } from '../../src/pdf/render.ts';
import { appendSignature } from '../../src/pdf/sign.ts';
import { Trust } from '../../src/pdf/trust.ts';
import { checkTimestampToken, HttpTimestamper } from '../../src/pdf/tsa.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import { soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';
import { toolTest } from './fixtures/pdf-tools.ts';
import { PDFSIG_TOOLS, pdfsig, qpdfCheck } from './helpers/nss.ts';
import {
  DEV_ROOT_PEM,
  devDeps,
  devTimestamper,
  devTrust,
  personFor,
  renderAndSign,
} from './helpers/signing.ts';
import { signatureHole } from './helpers/tamper.ts';
import { startTsa } from './helpers/tsa-server.ts';

const haveOpenssl = !spawnSync('openssl', ['version'], { stdio: 'ignore' }).error;
const opts = haveOpenssl
  ? {}
  : process.env.SAMTYCKE_REQUIRE_PDF_TOOLS === '1'
    ? {}
    : {
        skip: 'openssl not installed (it acts as the test TSA); set SAMTYCKE_REQUIRE_PDF_TOOLS=1 to fail instead',
      };

const tsa = haveOpenssl ? await startTsa() : undefined;
t.teardown(() => tsa?.close());
const http = (trust: Trust, options: { crls?: CrlSet; url?: string; timeoutMs?: number } = {}) =>
  new HttpTimestamper(options.url ?? tsa!.url, { trust, ...options });

toolTest(
  'TSA_URL: every signature carries a valid signature timestamp, the TSA chain and its CRL (B-LT)',
  [...PDFSIG_TOOLS, 'openssl'],
  async (t) => {
    const tsaTrust = Trust.fromPem(tsa!.rootPem);
    // The TSA's CA publishes a CRL (SIGNING_CRLS): with it the TSA's status goes into the DSS too.
    const deps = await devDeps({ timestamper: http(tsaTrust, { crls: await CrlSet.load([tsa!.crlFile]) }) });
    const before = tsa!.requests;
    const { steps } = await renderAndSign(twoGuardiansAndYouth, deps);
    t.equal(tsa!.requests - before, 3, 'one timestamp per signature');
    const bytes = steps.at(-1)!.bytes;
    for (const step of steps) {
      t.equal(step.result.signature.level, 'PAdES-B-LT');
      t.ok(step.result.signature.timestampTime instanceof Date);
    }

    const report = await verifyPdf(bytes, { trust: devTrust(), tsaTrust: devTrust().with(tsaTrust) });
    t.equal(report.verdict, 'valid');
    for (const s of report.signatures) {
      t.equal(s.level, 'PAdES-B-LT', `${s.field}: B-LT`);
      t.same(
        s.timestamp?.revocation.map((r) => [r.subject, r.status, r.source]),
        [['Samtycke Test TSA', 'good', 'CRL']],
        `${s.field}: the TSA's status from its CA's CRL in the DSS`,
      );
      t.ok(s.timestamp, `${s.field}: timestamp present`);
      t.ok(s.timestamp?.imprintValid, `${s.field}: the token covers this signature value`);
      t.ok(s.timestamp?.signatureValid, `${s.field}: the token's signature verifies`);
      t.ok(s.timestamp?.trusted, `${s.field}: the TSA chains to its root`);
      t.equal(s.timestamp?.tsa, 'Samtycke Test TSA');
      t.equal(
        s.certificate.validationTimeSource,
        'timestamp',
        `${s.field}: certificate validated at the timestamp`,
      );
      t.ok(
        Math.abs(s.timestamp!.genTime!.getTime() - s.claimedSigningTime!.getTime()) < 60_000,
        'timestamp near /M',
      );
    }

    const sig = pdfsig(bytes, [DEV_ROOT_PEM]);
    t.ok(
      sig.signatures.every((s) => s.signatureValid && s.certificateTrusted),
      'pdfsig: all valid and trusted',
    );
    // Without the CRL the TSA's status is unknown: B-T, still valid.
    const noCrl = await renderAndSign(twoGuardiansAndYouth, await devDeps({ timestamper: http(tsaTrust) }), [
      'guardian1',
    ]);
    t.equal(noCrl.steps[0]!.result.signature.level, 'PAdES-B-T', 'no CRL for the TSA: B-T');
    const noCrlReport = await verifyPdf(noCrl.steps[0]!.bytes, {
      trust: devTrust(),
      tsaTrust: devTrust().with(tsaTrust),
    });
    t.equal(noCrlReport.signatures[0]?.level, 'PAdES-B-T');
    t.equal(noCrlReport.verdict, 'valid');
    t.ok(qpdfCheck(bytes).ok, 'qpdf --check');

    // Independently: openssl ts -verify of the first token over the first signature value.
    const cms = parseSignedData(signatureHole(bytes, 'guardian1').cms);
    const si = cms.signerInfos[0]!;
    const token = si.unsignedAttributes.get(OID.signatureTimeStampToken)![0]!;
    const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-ts-verify-'));
    writeFileSync(path.join(dir, 'token.der'), token);
    writeFileSync(path.join(dir, 'signature.bin'), si.signature);
    writeFileSync(path.join(dir, 'root.pem'), tsa!.rootPem);
    const v = spawnSync(
      'openssl',
      ['ts', '-verify', '-token_in', '-in', 'token.der', '-data', 'signature.bin', '-CAfile', 'root.pem'],
      { cwd: dir, encoding: 'utf8' },
    );
    t.match(`${v.stdout}${v.stderr}`, /Verification: OK/, 'openssl ts -verify: OK');

    // Without the TSA's root the timestamp is intact but not used: the signatures count as B-B.
    const untrusted = await verifyPdf(bytes, { trust: devTrust() });
    t.equal(untrusted.verdict, 'valid');
    for (const s of untrusted.signatures) {
      t.ok(s.timestamp?.signatureValid && !s.timestamp.trusted, `${s.field}: timestamp intact, not trusted`);
      t.equal(s.level, 'PAdES-B-B');
      t.equal(s.certificate.validationTimeSource, 'claimed-signing-time');
    }
    // And signing on without the TSA's root among the verification anchors still works (existing
    // timestamps are not used: those signatures verify as B-B).
    const more = await renderAndSign(twoGuardiansAndYouth, await devDeps({ timestamper: http(tsaTrust) }));
    t.equal((await verifyPdf(more.steps.at(-1)!.bytes, { trust: devTrust() })).verdict, 'valid');

    // The token is bound to its signature: checked against another signature value, it fails.
    const other = await checkTimestampToken(token, Buffer.from('another signature value'), tsaTrust);
    t.notOk(other.imprintValid);
  },
);

t.test('TSA failures are refused with timestamp_failed', opts, async (t) => {
  const rendered = await renderConsentForm(soleGuardian);
  const input = {
    pdf: rendered.bytes,
    expectedSha256: rendered.sha256,
    role: 'guardian1' as const,
    signer: personFor(soleGuardian, 'guardian1'),
    place: 'Umeå',
    signedAt: new Date(),
  };
  const tsaTrust = Trust.fromPem(tsa!.rootPem);
  const refused = async (label: string, deps: Parameters<typeof appendSignature>[1]) => {
    const err = await appendSignature(input, deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof AppError && err.code === 'timestamp_failed', `${label}: timestamp_failed`, { err });
    t.notMatch(
      (err as Error).message,
      soleGuardian.guardian1.name,
      `${label}: no personal data in the message`,
    );
  };
  await refused(
    'nobody listening',
    await devDeps({ timestamper: http(tsaTrust, { url: 'http://127.0.0.1:9/tsa', timeoutMs: 2000 }) }),
  );
  for (const mode of ['http-500', 'garbage', 'other-imprint'] as const) {
    tsa!.mode = mode;
    await refused(mode, await devDeps({ timestamper: http(tsaTrust) }));
  }
  tsa!.mode = 'ok';
  await refused('a TSA we do not trust', await devDeps({ timestamper: http(devTrust()) }));
  // A TSA whose clock is an hour off: the signer certificate would not be valid at the timestamp.
  const late = await devTimestamper(fixedClock(new Date(Date.now() + 3600_000)));
  await refused('a TSA whose clock is an hour ahead', await devDeps({ timestamper: late }));
  const ok = await appendSignature(input, await devDeps({ timestamper: http(tsaTrust) }));
  t.equal(ok.signature.level, 'PAdES-B-T', 'and it works again once the service is well');
});

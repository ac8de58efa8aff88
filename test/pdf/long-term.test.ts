// Signatures that verify for years (issue 16 §6). Every signature is PAdES B-LT: a signature timestamp
// from the in-process development TSA, then a DSS update with the signer's and the TSA's chains and
// revocation data as of signing. Our verifier, given a validation time two years ahead (a parameter, not a
// faked clock), still says valid, and still reports a changed byte, a foreign certificate and a forbidden
// later change. pdfsig checks certificates at the current time and reads neither the timestamp nor the
// DSS: run two years ahead (faketime) it says "Certificate has Expired" for every signature.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFDocument, rgb } from '@cantoo/pdf-lib';
import t from 'tap';
import { parseSignedData } from '../../src/pdf/cms.ts';
import { PdfFile } from '../../src/pdf/cos/document.ts';
import { dict, name, type PdfDict, type PdfRef } from '../../src/pdf/cos/objects.ts';
import { ObjectNumbers, writeIncrementalUpdate } from '../../src/pdf/cos/writer.ts';
import { appendToDss, readDss } from '../../src/pdf/dss.ts';
import { issueOcspResponse } from '../../src/pdf/ocsp.ts';
import { importPrivateKey, OID, pemEncode } from '../../src/pdf/pki.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import { formatReport } from '../../src/pdf/verify/report.ts';
import { twoGuardiansAndYouth } from './fixtures/forms.ts';
import { tempPdf, toolTest } from './fixtures/pdf-tools.ts';
import { runCli } from '../helper.ts';
import { PDFSIG_TOOLS, pdfsig, qpdfCheck } from './helpers/nss.ts';
import { makeCa, reissue, subjectOf } from './helpers/pki.ts';
import { DEV_CERTS_DIR, DEV_ROOT_FILE, DEV_ROOT_PEM, devTrust, renderAndSign } from './helpers/signing.ts';
import { certificatesOf, replaceCertificates, signatureHole, withCms } from './helpers/tamper.ts';

const DAY = 86_400_000;
const { rendered, steps } = await renderAndSign(twoGuardiansAndYouth);
const signed = steps.at(-1)!.bytes;
const trust = devTrust();
const twoYearsAhead = new Date(Date.now() + 730 * DAY);
const at2y = { trust, at: twoYearsAhead };

t.test('the DSS holds each signer certificate, the chains, OCSP responses and the CRL', async (t) => {
  const dss = readDss(PdfFile.parse(signed));
  t.ok(dss.present);
  const subjects = dss.certificates.map((c) => subjectOf(c).find((a) => a.type === OID.commonName)?.value);
  t.equal(dss.certificates.length, 6, 'three signer certificates, signing CA, root, TSA');
  for (const [i, role] of (['guardian1', 'guardian2', 'youth'] as const).entries()) {
    const leaf = certificatesOf(signatureHole(signed, role).cms)[0]!;
    t.ok(
      dss.certificates.some((c) => Buffer.from(c).equals(leaf)),
      `${role}: its certificate is in the DSS`,
    );
    t.equal(steps[i]!.result.signature.level, 'PAdES-B-LT');
  }
  t.ok(
    subjects.some((s) => s?.startsWith('Samtycke Dev TSA')),
    "the TSA's certificate",
  );
  t.equal(dss.ocsps.length, 3, 'one OCSP response per signer certificate');
  t.equal(dss.crls.length, 1, "the root's CRL: the status of the signing CA and the TSA");
  t.ok(qpdfCheck(signed).ok, 'qpdf --check');

  // Independently: openssl accepts the OCSP responses, the CRL and the timestamp tokens.
  const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-lt-'));
  const file = (n: string, b: Uint8Array | string) => {
    writeFileSync(path.join(dir, n), b);
    return path.join(dir, n);
  };
  const ca = path.join(DEV_CERTS_DIR, 'dev-signing-ca.pem');
  for (const [i, role] of (['guardian1', 'guardian2', 'youth'] as const).entries()) {
    const leaf = file(
      `leaf${i}.pem`,
      pemEncode(certificatesOf(signatureHole(signed, role).cms)[0]!, 'CERTIFICATE'),
    );
    const ocsp = dss.ocsps.map((o, j) => file(`ocsp${i}-${j}.der`, o));
    const answers = ocsp.map((o) =>
      spawnSync(
        'openssl',
        ['ocsp', '-respin', o, '-issuer', ca, '-cert', leaf, '-CAfile', DEV_ROOT_FILE, '-no_nonce'],
        { encoding: 'utf8' },
      ),
    );
    t.ok(
      answers.some((a) => /Response verify OK/.test(a.stderr + a.stdout) && /: good/.test(a.stdout)),
      `openssl ocsp: ${role}'s certificate good, response verified`,
    );
    const cms = parseSignedData(signatureHole(signed, role).cms);
    const si = cms.signerInfos[0]!;
    const token = file(`token${i}.der`, si.unsignedAttributes.get(OID.signatureTimeStampToken)![0]!);
    const data = file(`sig${i}.bin`, si.signature);
    const v = spawnSync(
      'openssl',
      ['ts', '-verify', '-token_in', '-in', token, '-data', data, '-CAfile', DEV_ROOT_FILE],
      { encoding: 'utf8' },
    );
    t.match(`${v.stdout}${v.stderr}`, /Verification: OK/, `openssl ts -verify: ${role}'s timestamp`);
  }
  const crl = spawnSync(
    'openssl',
    ['crl', '-inform', 'DER', '-in', file('root.crl', dss.crls[0]!), '-CAfile', DEV_ROOT_FILE, '-noout'],
    { encoding: 'utf8' },
  );
  t.match(`${crl.stdout}${crl.stderr}`, /verify OK/, 'openssl crl: signed by the root');
});

t.test('two years ahead (validation time, not a faked clock): still valid, B-LT', async (t) => {
  const report = await verifyPdf(signed, at2y);
  t.equal(report.verdict, 'valid', formatReport(report));
  t.equal(report.validationTime.getTime(), twoYearsAhead.getTime());
  t.same(report.dss, { certificates: 6, ocsps: 3, crls: 1 });
  for (const s of report.signatures) {
    t.equal(s.status, 'valid', s.field);
    t.equal(s.level, 'PAdES-B-LT', `${s.field}: B-LT`);
    t.equal(s.certificate.validationTimeSource, 'timestamp');
    t.equal(s.certificate.validatedAt?.getTime(), s.timestamp?.genTime?.getTime(), 'at the timestamp');
    t.ok(s.certificate.notAfter! < twoYearsAhead, 'the certificate itself expired long before');
    t.same(
      s.certificate.revocation.map((r) => [r.status, r.source]),
      [
        ['good', 'OCSP'],
        ['good', 'CRL'],
      ],
      `${s.field}: signer (OCSP) and signing CA (CRL) not revoked at signing`,
    );
    t.same(
      s.timestamp?.revocation.map((r) => [r.status, r.source]),
      [['good', 'CRL']],
    );
  }
  const first = report.signatures[0]!;
  t.ok(
    first.laterChanges.allowed.some(
      (c) => c.kind === 'changed' && c.what === 'document security store (DSS)',
    ),
    'the DSS extended in place later is an allowed change',
  );

  // Without its DSS update the newest signature has no revocation data of its own: B-T, still valid.
  const youthRevisionEnd = PdfFile.parse(signed).revisions.at(-2)!.end;
  const beforeDss = await verifyPdf(signed.subarray(0, youthRevisionEnd), at2y);
  t.equal(beforeDss.verdict, 'valid');
  t.same(
    beforeDss.signatures.map((s) => s.level),
    ['PAdES-B-LT', 'PAdES-B-LT', 'PAdES-B-T'],
  );
  t.same(
    beforeDss.signatures[2]!.certificate.revocation.map((r) => r.status),
    ['unknown', 'good'],
  );
});

t.test(
  'two years ahead: a changed byte, a foreign certificate, a forbidden change are still reported',
  async (t) => {
    for (const offset of [12, Math.floor(rendered.bytes.length / 2)]) {
      const bytes = Uint8Array.from(signed);
      bytes[offset]! ^= 0x01;
      const report = await verifyPdf(bytes, at2y);
      t.equal(report.verdict, 'invalid', `byte ${offset} changed`);
      t.ok(report.signatures.every((s) => s.status === 'invalid' && !s.cms.digestValid));
    }

    const original = signatureHole(signed, 'guardian1').cms;
    const [leaf, signingCa, root] = certificatesOf(original);
    const fakeRoot = makeCa(subjectOf(root!));
    const fakeCa = makeCa(subjectOf(signingCa!), fakeRoot);
    const forged = withCms(
      signed,
      'guardian1',
      replaceCertificates(original, [reissue(leaf!, fakeCa), fakeCa.certificate, fakeRoot.certificate]),
    );
    const foreign = (await verifyPdf(forged, at2y)).signatures[0]!;
    t.equal(foreign.status, 'invalid', 'a foreign certificate');
    t.notOk(foreign.certificate.chainValid);
    t.notOk(foreign.cms.signingCertificateValid);

    const doc = await PDFDocument.load(signed, { forIncrementalUpdate: true });
    doc.getPage(0).drawRectangle({ x: 60, y: 400, width: 200, height: 30, color: rgb(1, 1, 1) });
    const edited = await verifyPdf(await doc.commit(), at2y);
    t.equal(edited.verdict, 'invalid', 'page content drawn over after the last DSS update');
    t.ok(edited.signatures.every((s) => s.laterChanges.forbidden.some((c) => c.what === 'page')));
  },
);

/** An update that writes the DSS again with `change` applied, plus `extra` objects. */
function dssUpdate(
  bytes: Uint8Array,
  change: (dss: PdfDict) => void,
  extra: (file: PdfFile) => [PdfRef, PdfDict][] = () => [],
) {
  const file = PdfFile.parse(bytes);
  const catalog = file.resolveDict(file.trailer.get('Root'))!;
  const ref = catalog.get('DSS') as PdfRef;
  const dss = file.resolveDict(ref)!.clone();
  change(dss);
  const objects = [{ ref, obj: dss }, ...extra(file).map(([r, obj]) => ({ ref: r, obj }))];
  return new Uint8Array(writeIncrementalUpdate(file, objects, new ObjectNumbers(file)).bytes);
}

t.test('a DSS update may only add validation data', async (t) => {
  const more = await verifyPdf(
    dssUpdate(signed, (d) => d.set('VRI', dict({}))),
    at2y,
  );
  t.equal(more.verdict, 'valid', 'the DSS written again with validation data only');

  const script = await verifyPdf(
    dssUpdate(signed, (d) => d.set('JS', name('x'))),
    at2y,
  );
  t.equal(script.verdict, 'invalid', 'a DSS that holds anything else');
  t.ok(script.signatures[2]!.laterChanges.forbidden.some((c) => c.what === 'document security store (DSS)'));

  // A DSS update that also changes the page: the page change is still forbidden.
  const smuggled = dssUpdate(
    signed,
    () => {},
    (file) => {
      const pageRef = file
        .resolveDict(file.resolveDict(file.trailer.get('Root'))!.get('Pages'))!
        .get('Kids') as PdfRef[];
      const page = file.resolveDict(pageRef[0])!.clone().set('Rotate', 90);
      return [[pageRef[0]!, page]];
    },
  );
  const report = await verifyPdf(smuggled, at2y);
  t.equal(report.verdict, 'invalid', 'a page changed alongside the DSS');
  t.ok(report.signatures.every((s) => s.laterChanges.forbidden.some((c) => c.what === 'page')));
});

t.test('the revocation data decides: revoked before the signature is invalid, after it is not', async (t) => {
  const report = await verifyPdf(signed, at2y);
  const genTime = report.signatures[0]!.timestamp!.genTime!;
  const leaf = certificatesOf(signatureHole(signed, 'guardian1').cms)[0]!;
  const caCert = readFileSync(path.join(DEV_CERTS_DIR, 'dev-signing-ca.pem'), 'utf8');
  const caDer = certificatesOf(signatureHole(signed, 'guardian1').cms)[1]!;
  t.match(caCert, /BEGIN CERTIFICATE/);
  const caKey = importPrivateKey(readFileSync(path.join(DEV_CERTS_DIR, 'dev-signing-ca.key'), 'utf8'));
  const revokedAt = (revokedAtTime: Date, key = caKey) =>
    appendToDss(PdfFile.parse(signed), {
      certificates: [],
      crls: [],
      ocsps: [
        issueOcspResponse({
          certificate: leaf,
          issuerCertificate: caDer,
          issuerKey: key,
          status: { status: 'revoked', revokedAt: revokedAtTime },
          producedAt: new Date(genTime.getTime() + DAY),
        }),
      ],
    });
  const before = await verifyPdf(revokedAt(new Date(genTime.getTime() - 60_000)), at2y);
  t.equal(before.signatures[0]!.status, 'invalid', 'revoked a minute before the timestamp');
  t.ok(before.signatures[0]!.problems.some((p) => /revoked/.test(p)));
  t.same(
    before.signatures.slice(1).map((s) => s.status),
    ['valid', 'valid'],
  );
  const after = await verifyPdf(revokedAt(new Date(genTime.getTime() + DAY)), at2y);
  t.equal(after.signatures[0]!.status, 'valid', 'revoked a day after the timestamp: the signature stands');
  t.equal(after.signatures[0]!.level, 'PAdES-B-LT');
  const forged = await verifyPdf(
    revokedAt(new Date(genTime.getTime() - 60_000), makeCa(subjectOf(caDer)).key),
    at2y,
  );
  t.equal(forged.signatures[0]!.status, 'valid', 'a "revoked" answer not signed by the CA is ignored');
});

t.test('what the validation time still decides', async (t) => {
  const early = await verifyPdf(signed, { trust, at: new Date(Date.now() - DAY) });
  t.equal(early.verdict, 'indeterminate', 'a day before the signatures were made');
  t.ok(early.signatures[0]!.problems.some((p) => /after the validation time/.test(p)));
  const tsaNotAfter = (await verifyPdf(signed, at2y)).signatures[0]!.timestamp!.certificateNotAfter!;
  const late = await verifyPdf(signed, { trust, at: new Date(tsaNotAfter.getTime() + DAY) });
  t.equal(late.verdict, 'indeterminate', 'after the TSA certificate expired (no archive timestamp)');
  t.ok(late.signatures[0]!.problems.some((p) => /B-LTA/.test(p)));
});

toolTest(
  'pdfsig on the three signatures: valid now; two years ahead "Certificate has Expired"; -nocert; no trusted root',
  [...PDFSIG_TOOLS, 'faketime'],
  async (t) => {
    const now = pdfsig(signed, [DEV_ROOT_PEM]);
    t.equal(now.signatures.length, 3);
    for (const s of now.signatures) {
      t.ok(s.signatureValid && s.certificateTrusted, `now: ${s.field} valid and trusted`, { output: s.text });
      t.notOk(s.totalDocumentSigned, `now: ${s.field} "Not total document signed" (a DSS update follows)`);
    }
    const later = pdfsig(signed, [DEV_ROOT_PEM], { faketime: '+730 days' });
    for (const s of later.signatures) {
      t.ok(s.signatureValid, `+730 days: ${s.field} "Signature is Valid."`, { output: s.text });
      t.equal(
        s.certificateValidation,
        'Certificate has Expired',
        `+730 days: ${s.field} certificate expired`,
      );
    }
    const noCert = pdfsig(signed, [DEV_ROOT_PEM], { faketime: '+730 days', noCert: true });
    for (const s of noCert.signatures) {
      t.ok(s.signatureValid, `-nocert: ${s.field} "Signature is Valid."`);
      t.equal(s.certificateValidation, undefined, '-nocert: no certificate verdict');
    }
    const untrusted = pdfsig(signed, []);
    for (const s of untrusted.signatures)
      t.equal(s.certificateValidation, "Certificate issuer isn't Trusted.", `no root: ${s.field}`);
    t.equal((await verifyPdf(signed, at2y)).verdict, 'valid', 'our verifier two years ahead: valid');
  },
);

t.test(
  'npm run verify -- --at: two years ahead valid, a changed byte invalid, a bad time refused',
  async (t) => {
    const cli = (file: string, ...args: string[]) =>
      runCli('verify.ts', [file, ...args], { SAMTYCKE_ENV: 'development' });
    const at = twoYearsAhead.toISOString();
    const ok = cli(tempPdf(signed), '--at', at);
    t.equal(ok.status, 0, 'valid two years ahead: exit 0');
    t.match(ok.stdout, /Verdict: +VALID/);
    t.match(ok.stdout, new RegExp(`Validated: +as of .*\\(${at}\\)`));
    t.match(ok.stdout, /PAdES-B-LT/);
    t.match(ok.stdout, /Validated at: .*the timestamp/);
    t.match(ok.stdout, /Revocation: .*not revoked \(OCSP of/);
    const broken = Uint8Array.from(signed);
    broken[12]! ^= 1;
    const bad = cli(tempPdf(broken), '--at', at);
    t.equal(bad.status, 1, 'a changed byte two years ahead: exit 1');
    t.match(bad.stdout, /INVALID/);
    const usage = cli(tempPdf(signed), '--at', 'next tuesday');
    t.equal(usage.status, 2, 'not a time: exit 2');
    t.match(usage.stderr, /--at/);
  },
);

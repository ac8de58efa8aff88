// Verification: tampering that both pdfsig and our verifier must catch, changes after a signature that
// only our verifier can judge (forbidden vs. allowed), trust, and the `npm run verify` command.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDocument, rgb } from '@cantoo/pdf-lib';
import t from 'tap';
import { Trust } from '../../src/pdf/trust.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import { formatReport } from '../../src/pdf/verify/report.ts';
import { twoGuardiansAndYouth } from './fixtures/forms.ts';
import { tempPdf, toolTest } from './fixtures/pdf-tools.ts';
import { runCli } from '../helper.ts';
import { PDFSIG_TOOLS, pdfsig, qpdfCheck } from './helpers/nss.ts';
import { cn, makeCa, reissue, subjectOf } from './helpers/pki.ts';
import { DEV_ROOT_FILE, DEV_ROOT_PEM, devTrust, renderAndSign } from './helpers/signing.ts';
import {
  certificatesOf,
  fakeAppearance,
  replaceCertificates,
  repointSignature,
  signatureHole,
  stripFields,
  withCms,
} from './helpers/tamper.ts';

// One signed document for all tests: two guardians and the youth, signed in turn.
const { rendered, steps } = await renderAndSign(twoGuardiansAndYouth);
const afterTwo = steps[1]!.bytes; // guardian1 + guardian2 signed, youth not yet
const signed = steps.at(-1)!.bytes;
const trust = devTrust();

t.test('a signed document verifies: fields, signers, times, ranges, B-LT level', async (t) => {
  const report = await verifyPdf(signed, { trust });
  t.equal(report.verdict, 'valid');
  t.same(
    report.signatures.map((s) => [s.field, s.role, s.signerName, s.status]),
    [
      ['guardian1', 'guardian1', twoGuardiansAndYouth.guardian1.name, 'valid'],
      ['guardian2', 'guardian2', twoGuardiansAndYouth.guardian2!.name, 'valid'],
      ['youth', 'youth', twoGuardiansAndYouth.child.name, 'valid'],
    ],
  );
  t.same(
    report.signatures.map((s) => [
      s.byteRange.revision,
      s.byteRange.coversRevision,
      s.byteRange.coversWholeFile,
      s.byteRange.laterRevisions,
    ]),
    // Each signature's revision is followed by the one adding its validation data to the DSS.
    [
      [1, true, false, 5],
      [3, true, false, 3],
      [5, true, false, 1],
    ],
  );
  for (const s of report.signatures) {
    t.equal(s.level, 'PAdES-B-LT');
    t.equal(s.certificate.validationTimeSource, 'timestamp');
    t.ok(s.claimedSigningTime instanceof Date);
    t.notOk(s.cms.hasSigningTimeAttribute, 'no signing-time attribute (PAdES)');
    t.ok(s.cms.signingCertificateValid, 'signing-certificate-v2 present and right');
    t.equal(s.laterChanges.forbidden.length, 0);
  }
  t.match(report.signatures[0]!.reason, /vårdnadshavare 1/);
  t.same(report.unsignedFields, []);
  const partial = await verifyPdf(afterTwo, { trust });
  t.same(partial.unsignedFields, ['youth'], 'the empty field is listed');
  t.equal((await verifyPdf(rendered.bytes, { trust })).verdict, 'unsigned');
  const garbage = await verifyPdf(Buffer.from('not a pdf'), { trust });
  t.equal(garbage.verdict, 'invalid');
  t.match(garbage.problems[0], /not a readable PDF/);
  t.match(formatReport(report), /Verdict: +VALID/);
});

toolTest(
  'one changed byte inside the signed ranges: pdfsig and our verifier both report it',
  PDFSIG_TOOLS,
  async (t) => {
    for (const [label, offset] of [
      ['in the original revision (header comment)', 12],
      ['in the middle of the page content', Math.floor(rendered.bytes.length / 2)],
    ] as const) {
      await t.test(label, async (t) => {
        const bytes = Uint8Array.from(signed);
        bytes[offset] = bytes[offset]! ^ 0x01;
        const sig = pdfsig(bytes, [DEV_ROOT_PEM]);
        t.equal(sig.signatures.length, 3);
        for (const s of sig.signatures)
          t.notOk(s.signatureValid, `pdfsig: ${s.field} not valid`, { output: s.text });
        const report = await verifyPdf(bytes, { trust });
        t.equal(report.verdict, 'invalid');
        for (const s of report.signatures) {
          t.equal(s.status, 'invalid', `${s.field} invalid`);
          t.notOk(s.cms.digestValid, `${s.field}: message digest mismatch`);
        }
      });
    }
    await t.test('in the last signature’s own revision', async (t) => {
      const bytes = Uint8Array.from(signed);
      // Just after the youth signature's /Contents: in its signature dictionary (the /M date), signed
      // only by the youth signature.
      bytes[signatureHole(signed, 'youth').end + 10]! ^= 0x01;
      const report = await verifyPdf(bytes, { trust });
      t.same(
        report.signatures.map((s) => s.status),
        ['valid', 'valid', 'invalid'],
        'earlier signatures are untouched; the youth signature is broken',
      );
      const sig = pdfsig(bytes, [DEV_ROOT_PEM]);
      t.same(
        sig.signatures.map((s) => s.signatureValid),
        [true, true, false],
      );
    });
  },
);

toolTest(
  'a signature whose certificate is swapped for one from another CA: both report it',
  PDFSIG_TOOLS,
  async (t) => {
    const original = signatureHole(signed, 'guardian1').cms;
    const [leaf, signingCa, root] = certificatesOf(original);
    // A look-alike PKI: same names as our CAs, other keys.
    const fakeRoot = makeCa(subjectOf(root!));
    const fakeCa = makeCa(subjectOf(signingCa!), fakeRoot);

    await t.test('same public key (the signature still verifies mathematically)', async (t) => {
      const forged = replaceCertificates(original, [
        reissue(leaf!, fakeCa),
        fakeCa.certificate,
        fakeRoot.certificate,
      ]);
      const bytes = withCms(signed, 'guardian1', forged);
      const sig = pdfsig(bytes, [DEV_ROOT_PEM]).signatures.find((s) => s.field === 'guardian1')!;
      t.notOk(sig.certificateTrusted, 'pdfsig: the certificate is not trusted', { output: sig.text });
      const s = (await verifyPdf(bytes, { trust })).signatures.find((x) => x.field === 'guardian1')!;
      t.equal(s.status, 'invalid');
      t.ok(s.cms.signatureValid, 'the signature value itself still verifies with that key');
      t.notOk(s.cms.signingCertificateValid, 'signing-certificate-v2 names the original certificate');
      t.notOk(s.certificate.chainValid, 'no chain to our root');
    });
    await t.test('another key', async (t) => {
      const forged = replaceCertificates(original, [
        reissue(leaf!, fakeCa, true),
        fakeCa.certificate,
        fakeRoot.certificate,
      ]);
      const bytes = withCms(signed, 'guardian1', forged);
      const sig = pdfsig(bytes, [DEV_ROOT_PEM]).signatures.find((s) => s.field === 'guardian1')!;
      t.notOk(sig.signatureValid && sig.certificateTrusted, 'pdfsig reports it', { output: sig.text });
      const s = (await verifyPdf(bytes, { trust })).signatures.find((x) => x.field === 'guardian1')!;
      t.equal(s.status, 'invalid');
      t.notOk(s.cms.signatureValid, 'the signature does not verify');
    });
  },
);

toolTest(
  'a later revision that edits page content is a forbidden change (pdfsig can only say "not total document")',
  PDFSIG_TOOLS,
  async (t) => {
    const doc = await PDFDocument.load(signed, { forIncrementalUpdate: true });
    doc.getPage(0).drawRectangle({ x: 60, y: 400, width: 200, height: 30, color: rgb(1, 1, 1) });
    const edited = await doc.commit();
    t.same(Buffer.from(edited.subarray(0, signed.length)), Buffer.from(signed), 'an incremental update');
    t.ok(qpdfCheck(edited).ok, 'still a well-formed PDF');
    const sig = pdfsig(edited, [DEV_ROOT_PEM]);
    t.ok(
      sig.signatures.every((s) => s.signatureValid),
      'pdfsig: every signature still "valid"',
    );
    t.notOk(sig.signatures.at(-1)!.totalDocumentSigned, 'pdfsig: only "not total document signed"');
    const report = await verifyPdf(edited, { trust });
    t.equal(report.verdict, 'invalid');
    for (const s of report.signatures) {
      t.equal(s.status, 'invalid', `${s.field}: invalid`);
      t.ok(s.laterChanges.forbidden.length > 0, `${s.field}: forbidden change reported`);
      t.ok(s.cms.digestValid && s.cms.signatureValid, `${s.field}: its own bytes are intact`);
    }
    t.ok(
      report.signatures[2]!.laterChanges.forbidden.some((c) => c.what === 'page'),
      'the page is named as changed',
    );
    t.match(formatReport(report), /FORBIDDEN/);
  },
);

t.test(
  'other forbidden changes: an appearance drawn on an empty field, a signed field changed',
  async (t) => {
    const faked = fakeAppearance(afterTwo, 'youth');
    const report = await verifyPdf(faked, { trust });
    t.equal(report.verdict, 'invalid', 'a signature that only looks like one');
    t.ok(report.signatures.every((s) => s.laterChanges.forbidden.some((c) => c.what === 'field youth')));

    // A signed field given another signature: changing a signed field is never allowed.
    const repointed = await verifyPdf(repointSignature(signed, 'guardian1', 'guardian2'), { trust });
    t.equal(repointed.verdict, 'invalid');
    t.ok(repointed.signatures[0]!.laterChanges.forbidden.some((c) => c.what === 'field guardian1'));

    // Signatures taken out of the form in a later revision are still found, and fail.
    const stripped = await verifyPdf(stripFields(signed), { trust });
    t.equal(stripped.verdict, 'invalid', 'not "unsigned"');
    t.equal(stripped.signatures.length, 3);
    t.ok(stripped.signatures.every((s) => s.problems.some((p) => /removed from the form/.test(p))));

    // Next signature allowed, the same change forbidden: the difference is /V.
    const good = await verifyPdf(signed, { trust });
    t.ok(
      good.signatures[0]!.laterChanges.allowed.some((c) => c.what === 'field youth'),
      'signing the youth field is allowed',
    );
  },
);

t.test('trust: another root makes the signatures indeterminate, not invalid', async (t) => {
  const stranger = Trust.fromPem(makeCa(cn('Some Other Root')).pem);
  const report = await verifyPdf(signed, { trust: stranger });
  t.equal(report.verdict, 'indeterminate');
  for (const s of report.signatures) {
    t.equal(s.status, 'indeterminate');
    t.ok(s.cms.digestValid && s.cms.signatureValid);
    t.notOk(s.certificate.chainValid);
  }
});

t.test('npm run verify: report, JSON, exit codes', async (t) => {
  const cli = (file: string, ...args: string[]) =>
    runCli('verify.ts', [file, ...args], { SAMTYCKE_ENV: 'development' });
  const ok = cli(tempPdf(signed), '--trust', DEV_ROOT_FILE);
  t.equal(ok.status, 0, 'valid: exit 0');
  t.match(ok.stdout, /Verdict: +VALID/);
  t.match(ok.stdout, /Signature 3: field "youth" \(role youth\) — VALID/);
  const json = cli(tempPdf(signed), '--json');
  t.equal(json.status, 0, 'default trust in development: certs-dev/dev-root-ca.pem');
  t.equal(JSON.parse(json.stdout).signatures.length, 3);
  const broken = Uint8Array.from(signed);
  broken[12]! ^= 1;
  const bad = cli(tempPdf(broken));
  t.equal(bad.status, 1, 'invalid: exit 1');
  t.match(bad.stdout, /INVALID/);
  const stranger = path.join(path.dirname(tempPdf(signed)), 'stranger.pem');
  writeFileSync(stranger, makeCa(cn('Some Other Root')).pem);
  const untrusted = cli(tempPdf(signed), '--trust', stranger);
  t.equal(untrusted.status, 1, 'indeterminate (other root): exit 1');
  t.match(untrusted.stdout, /INDETERMINATE/);
  const usage = cli('');
  t.equal(usage.status, 2, 'usage: exit 2');
  const missing = cli('/nonexistent.pdf');
  t.equal(missing.status, 2, 'unreadable file: exit 2');
});

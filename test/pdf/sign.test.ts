// Signing: per signer one incremental update with the signature (PAdES B-T) and one adding its validation
// data to the DSS (B-LT); after each, pdfsig (trusting the development root), qpdf and our verifier all
// accept every signature. Refusals with their codes; the signer certificate
// profile; the visible appearance; forms of every shape and template version.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { ConfigError } from '../../src/config.ts';
import { AppError } from '../../src/errors.ts';
import { PdfFile } from '../../src/pdf/cos/document.ts';
import { readForm } from '../../src/pdf/fields.ts';
import { DEFAULT_LEAF_VALIDITY, loadLocalSigningService } from '../../src/pdf/local-signing-service.ts';
import { issueCertificate, OID, parseCertificate, pemEncode } from '../../src/pdf/pki.ts';
import { type ConsentFormData, renderConsentForm } from '../../src/pdf/render.ts';
import { appendSignature } from '../../src/pdf/sign.ts';
import type { SigningService } from '../../src/pdf/signing-service.ts';
import { templateVersions } from '../../src/pdf/template.ts';
import { Trust } from '../../src/pdf/trust.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import { longNames, NAME_60, soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';
import { pdftotext, preflightAsA1b, preflightOpts, toolTest } from './fixtures/pdf-tools.ts';
import { PDFSIG_TOOLS, pdfsig, qpdfCheck } from './helpers/nss.ts';
import { cn, makeCa, newKey } from './helpers/pki.ts';
import {
  DEV_FILES,
  DEV_ROOT_PEM,
  devDeps,
  devSigningService,
  devTimestamper,
  devTrust,
  personFor,
  renderAndSign,
} from './helpers/signing.ts';

const soleWithYouth: ConsentFormData = { ...soleGuardian, youthSigns: true };

/**
 * Everything a step must satisfy: pdfsig valid + trusted for every signature (right after signing, while
 * the signer certificates live: pdfsig checks them at the current time), qpdf clean, our verifier valid
 * and B-LT, and after the newest signature only its DSS update.
 */
async function expectAllValid(t: Test, bytes: Uint8Array, count: number): Promise<void> {
  const sig = pdfsig(bytes, [DEV_ROOT_PEM]);
  t.equal(sig.signatures.length, count, 'pdfsig sees every signature');
  for (const s of sig.signatures) {
    t.ok(s.signatureValid, `pdfsig: ${s.field} "Signature is Valid."`, { output: s.text });
    t.ok(s.certificateTrusted, `pdfsig: ${s.field} "Certificate is Trusted."`, { output: s.text });
  }
  // pdfsig cannot tell a DSS update from any other: "Not total document signed" for every signature.
  t.notOk(sig.signatures.at(-1)?.totalDocumentSigned, 'pdfsig: the DSS update follows the newest signature');
  const q = qpdfCheck(bytes);
  t.ok(q.ok, 'qpdf --check passes', { output: q.output });
  const report = await verifyPdf(bytes, { trust: devTrust() });
  t.equal(report.verdict, 'valid', 'our verifier: valid', {
    problems: report.signatures.flatMap((s) => s.problems),
  });
  t.equal(report.signatures.length, count);
  t.ok(
    report.signatures.every((s) => s.level === 'PAdES-B-LT'),
    'our verifier: every signature B-LT',
  );
  const newest = report.signatures.at(-1)!;
  t.equal(newest.byteRange.laterRevisions, 1, 'the newest signature: one revision after it');
  t.same(
    [...new Set(newest.laterChanges.allowed.map((c) => c.what))].sort(),
    [
      ...(count === 1 ? ['document catalog'] : []), // gets its /DSS with the first
      'document security store (DSS)',
      'validation data in the DSS',
    ],
    'the newest signature: after it only the DSS and what it holds',
  );
  t.same(newest.laterChanges.forbidden, []);
}

toolTest(
  'render → guardian1 → guardian2 → youth: pdfsig, qpdf and our verifier agree after each step',
  PDFSIG_TOOLS,
  async (t) => {
    const { rendered, steps } = await renderAndSign(twoGuardiansAndYouth);
    t.same(rendered.roles, ['guardian1', 'guardian2', 'youth']);
    let previous = rendered.bytes;
    for (const [i, step] of steps.entries()) {
      await t.test(`after ${step.role}`, async (t) => {
        t.same(
          Buffer.from(step.bytes.subarray(0, previous.length)),
          Buffer.from(previous),
          'no earlier byte changed',
        );
        t.equal(
          PdfFile.parse(step.bytes).revisions.length,
          2 * (i + 1) + 1,
          'two more revisions: the signature, its validation data',
        );
        t.equal(step.result.signature.level, 'PAdES-B-LT');
        t.equal(step.result.signature.revision, 2 * i + 1, 'the signature revision');
        t.equal(step.result.signature.validationRevision, 2 * i + 2, 'the DSS revision after it');
        await expectAllValid(t, step.bytes, i + 1);
        const report = await verifyPdf(step.bytes, { trust: devTrust() });
        for (const s of report.signatures.slice(0, -1))
          t.equal(s.laterChanges.allowed.length > 0, true, `${s.field}: later signing seen as allowed`);
      });
      previous = step.bytes;
    }
    const last = steps.at(-1)!;
    t.ok(last.bytes.length <= 150 * 1024, `three signatures: ${last.bytes.length} bytes ≤ 150 KB`);
  },
);

toolTest(
  'forms of every shape: sole guardian (1 field), sole guardian + youth (2), two guardians + youth (3)',
  PDFSIG_TOOLS,
  async (t) => {
    for (const [label, form, expected] of [
      ['sole guardian', soleGuardian, ['guardian1']],
      ['sole guardian + youth', soleWithYouth, ['guardian1', 'youth']],
      ['two guardians + youth', twoGuardiansAndYouth, ['guardian1', 'guardian2', 'youth']],
    ] as const) {
      await t.test(label, async (t) => {
        const { rendered, steps } = await renderAndSign(form);
        t.same(rendered.roles, expected);
        await expectAllValid(t, steps.at(-1)!.bytes, expected.length);
      });
    }
  },
);

toolTest('every template version signs and verifies', PDFSIG_TOOLS, async (t) => {
  const versions = templateVersions('hlt-consent');
  t.ok(versions.length >= 2, `at least two template versions (${versions.join(', ')})`);
  for (const templateVersion of versions) {
    await t.test(templateVersion, async (t) => {
      const { rendered, steps } = await renderAndSign({ ...twoGuardiansAndYouth, templateVersion });
      t.ok(rendered.roles.length > 0);
      await expectAllValid(t, steps.at(-1)!.bytes, rendered.roles.length);
    });
  }
});

/** Text inside a widget rectangle, by pdftotext's crop (72 dpi: points, origin top left). */
function widgetText(bytes: Uint8Array, role: string): string {
  const file = PdfFile.parse(bytes);
  const form = readForm(file);
  const field = form.signatureFields.find((f) => f.name === role)!;
  const [x1, y1, x2, y2] = field.dict.get('Rect') as number[];
  const pageRef = field.dict.get('P') as { num: number };
  const kids = file.resolveDict(form.catalog.get('Pages'))!.get('Kids') as { num: number }[];
  const pageNo = kids.findIndex((k) => k.num === pageRef.num) + 1;
  const box = file.resolveDict(pageRef as never)!.get('MediaBox') as number[];
  const crop = [
    ...['-f', String(pageNo), '-l', String(pageNo), '-r', '72'],
    ...['-x', String(Math.floor(x1!)), '-y', String(Math.floor(box[3]! - y2!))],
    ...['-W', String(Math.ceil(x2! - x1!)), '-H', String(Math.ceil(y2! - y1!))],
  ];
  return pdftotext(bytes, ...crop);
}

toolTest(
  'the appearance shows name, "Signerat med e-legitimation", place and Swedish time — never the personal number',
  ['pdftotext'],
  async (t) => {
    // The coming midsummer night, 22:30 UTC on 30 June: 00:30 on 1 July in Sweden (CEST, UTC+2). In the
    // future so that it is inside the development CA's validity whenever that was generated.
    const year = new Date().getUTCFullYear() + 1;
    const signedAt = new Date(`${year}-06-30T22:30:00Z`);
    const rendered = await renderConsentForm(twoGuardiansAndYouth);
    const person = personFor(twoGuardiansAndYouth, 'guardian2');
    const { bytes } = await appendSignature(
      {
        pdf: rendered.bytes,
        expectedSha256: rendered.sha256,
        role: 'guardian2',
        signer: person,
        place: 'Umeå',
        signedAt,
      },
      // The TSA at the same (future) time: the certificate must be valid at the timestamp.
      await devDeps({ timestamper: await devTimestamper(fixedClock(signedAt)) }),
    );
    const shown = widgetText(bytes, 'guardian2').replace(/\s+/g, ' ');
    t.match(shown, person.name, 'name (with Å, Ø, Đ)');
    t.match(shown, 'Signerat med e-legitimation');
    t.match(shown, `Umeå, ${year}-07-01 kl. 00:30`, 'place and Swedish local time');
    t.notMatch(shown, person.personalNumber.slice(2, 8), 'no personal identity number');
    t.notMatch(shown, person.personalNumber.slice(8), 'no personal identity number');
  },
);

toolTest('long and non-Latin-1 names fit the signature box and verify', PDFSIG_TOOLS, async (t) => {
  const { steps } = await renderAndSign(longNames);
  const bytes = steps.at(-1)!.bytes;
  await expectAllValid(t, bytes, 3);
  const shown = widgetText(bytes, 'guardian1').replace(/\s+/g, ' ').replace(/- /g, '-');
  for (const part of NAME_60.split(' ')) t.match(shown, part, `"${part}" of the 60-character name is shown`);
  const odd = await renderAndSign({
    ...soleGuardian,
    guardian1: { ...soleGuardian.guardian1, name: 'Łukasz Şahin-Ćirić' },
  });
  t.match(widgetText(odd.steps[0]!.bytes, 'guardian1'), 'Łukasz Şahin-Ćirić');
  await expectAllValid(t, odd.steps[0]!.bytes, 1);
});

toolTest(
  'a file whose last cross-reference section is a stream gets a stream section',
  PDFSIG_TOOLS,
  async (t) => {
    const rendered = await renderConsentForm(twoGuardiansAndYouth);
    // Rewrite the unsigned form with object streams and a cross-reference stream (as pdf-lib's default save does).
    const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-xref-'));
    const src = path.join(dir, 'in.pdf');
    const out = path.join(dir, 'out.pdf');
    writeFileSync(src, rendered.bytes);
    const r = spawnSync('qpdf', ['--object-streams=generate', src, out]);
    t.equal(r.status, 0, 'qpdf rewrote the form with object streams');
    let bytes: Uint8Array = new Uint8Array(readFileSync(out));
    t.equal(PdfFile.parse(bytes).latest.kind, 'stream');
    let sha256 = createHash('sha256').update(bytes).digest('hex');
    for (const role of ['guardian1', 'guardian2'] as const) {
      const res = await appendSignature(
        {
          pdf: bytes,
          expectedSha256: sha256,
          role,
          signer: personFor(twoGuardiansAndYouth, role),
          place: 'Umeå',
          signedAt: new Date(),
        },
        await devDeps(),
      );
      t.equal(
        PdfFile.parse(res.bytes).latest.kind,
        'stream',
        `${role}: the update has a cross-reference stream`,
      );
      bytes = res.bytes;
      sha256 = res.sha256;
    }
    await expectAllValid(t, bytes, 2);
  },
);

t.test(
  'a signed document still passes PDFBox preflight (PDF/A-1b, our proxy for 2b)',
  preflightOpts(),
  async (t) => {
    const { steps } = await renderAndSign(twoGuardiansAndYouth);
    t.match(preflightAsA1b(steps.at(-1)!.bytes), /is a valid PDF\/A-1b file/);
  },
);

t.test('refusals carry their code and no personal data', async (t) => {
  const deps = await devDeps();
  const form = twoGuardiansAndYouth;
  const rendered = await renderConsentForm(form);
  const input = {
    pdf: rendered.bytes,
    expectedSha256: rendered.sha256,
    role: 'guardian1' as const,
    signer: personFor(form, 'guardian1'),
    place: 'Umeå',
    signedAt: new Date(),
  };
  const personal = [
    form.guardian1.name,
    form.guardian1.personalNumber,
    form.guardian2!.name,
    form.child.name,
  ];
  const refused = async (code: string, promise: Promise<unknown>, label: string): Promise<void> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof AppError, `${label}: AppError`);
    t.equal((err as AppError).code, code, `${label}: ${code}`);
    for (const p of personal)
      t.notMatch((err as AppError).message, p, `${label}: message without personal data`);
  };

  await refused(
    'document_mismatch',
    appendSignature({ ...input, expectedSha256: '0'.repeat(64) }, deps),
    'wrong stored hash',
  );
  const changed = Uint8Array.from(rendered.bytes);
  changed[changed.length - 10]! ^= 1;
  await refused('document_mismatch', appendSignature({ ...input, pdf: changed }, deps), 'other bytes');

  const sole = await renderConsentForm(soleGuardian);
  await refused(
    'role_not_in_document',
    appendSignature({ ...input, pdf: sole.bytes, expectedSha256: sole.sha256, role: 'guardian2' }, deps),
    'guardian2 on a sole-guardian form',
  );
  await refused(
    'role_not_in_document',
    appendSignature({ ...input, pdf: sole.bytes, expectedSha256: sole.sha256, role: 'youth' }, deps),
    'youth on a form without youth',
  );

  const once = await appendSignature(input, deps);
  await refused(
    'role_already_signed',
    appendSignature({ ...input, pdf: once.bytes, expectedSha256: once.sha256 }, deps),
    'guardian1 twice',
  );

  // Existing signature broken (one byte in its signed range), with a hash that matches those bytes.
  const broken = Uint8Array.from(once.bytes);
  broken[12] = broken[12] === 0x41 ? 0x42 : 0x41; // inside the binary comment line after %PDF-1.7
  await refused(
    'document_signatures_invalid',
    appendSignature(
      {
        ...input,
        pdf: broken,
        expectedSha256: createHash('sha256').update(broken).digest('hex'),
        role: 'guardian2',
      },
      deps,
    ),
    'an existing signature does not verify',
  );
  // Existing signature from a CA we do not trust.
  const stranger = makeCa(cn('Some Other Root'));
  await refused(
    'document_signatures_invalid',
    appendSignature(
      { ...input, pdf: once.bytes, expectedSha256: once.sha256, role: 'guardian2' },
      { ...deps, trust: Trust.fromPem(stranger.pem) },
    ),
    'an existing signature from an untrusted CA',
  );

  await refused(
    'signing_failed',
    appendSignature({ ...input, signer: { name: form.guardian1.name, personalNumber: '12345' } }, deps),
    'identity number that is not 12 digits',
  );
  const failing: SigningService = {
    description: 'broken HSM',
    isDevelopment: false,
    startSignature: () => Promise.reject(new Error('HSM offline')),
    validationData: () => Promise.reject(new Error('HSM offline')),
  };
  await refused('signing_failed', appendSignature(input, { ...deps, signing: failing }), 'signer failure');
});

t.test(
  'the signer certificate: one per signature, short-lived, PNOSE serialNumber, non-repudiation',
  async (t) => {
    const service = await devSigningService();
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000); // certificates have whole seconds
    const a = await service.startSignature({ name: 'Åsa Öberg', personalNumber: '198112241234' }, signedAt);
    const b = await service.startSignature({ name: 'Åsa Öberg', personalNumber: '198112241234' }, signedAt);
    t.not(
      Buffer.from(a.certificate).toString('hex'),
      Buffer.from(b.certificate).toString('hex'),
      'a new certificate each time',
    );
    const cert = parseCertificate(a.certificate);
    const other = parseCertificate(b.certificate);
    t.not(
      Buffer.from(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).toString('hex'),
      Buffer.from(other.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).toString('hex'),
      'a new key pair each time',
    );
    const subject = Object.fromEntries(
      cert.subject.typesAndValues.map((tv) => [
        tv.type,
        String((tv.value as { valueBlock: { value: unknown } }).valueBlock.value),
      ]),
    );
    t.same(subject, {
      [OID.countryName]: 'SE',
      [OID.serialNumber]: 'PNOSE-198112241234',
      [OID.commonName]: 'Åsa Öberg',
    });
    t.equal(cert.subjectPublicKeyInfo.algorithm.algorithmId, OID.ecPublicKey);
    t.equal(
      (
        cert.subjectPublicKeyInfo.algorithm.algorithmParams as { valueBlock: { toString(): string } }
      ).valueBlock.toString(),
      '1.2.840.10045.3.1.7',
      'P-256',
    );
    t.equal(cert.notBefore.value.getTime(), signedAt.getTime() - DEFAULT_LEAF_VALIDITY.beforeMs);
    t.equal(cert.notAfter.value.getTime(), signedAt.getTime() + DEFAULT_LEAF_VALIDITY.afterMs);
    const ext = (oid: string) => {
      const e = cert.extensions?.find((x) => x.extnID === oid);
      if (!e) throw new Error(`extension ${oid} missing`);
      return e;
    };
    t.equal(ext(OID.keyUsage).critical, true, 'keyUsage critical');
    t.equal(
      (ext(OID.keyUsage).parsedValue as { valueBlock: { valueHexView: Uint8Array } }).valueBlock
        .valueHexView[0],
      0xc0,
      'digitalSignature + nonRepudiation only',
    );
    t.same((ext(OID.extKeyUsage).parsedValue as { keyPurposes: string[] }).keyPurposes, [
      OID.kpDocumentSigning,
      OID.kpEmailProtection,
    ]);
    t.ok(ext(OID.subjectKeyIdentifier), 'subjectKeyIdentifier');
    t.ok(ext(OID.authorityKeyIdentifier), 'authorityKeyIdentifier');
    t.equal((ext(OID.basicConstraints).parsedValue as { cA: boolean }).cA, false, 'not a CA');
    const chain = await devTrust().validate(cert, a.chain, signedAt);
    t.ok(chain.valid, 'chains to the development root at the signing time');
    t.notOk(
      (await devTrust().validate(cert, a.chain, new Date(signedAt.getTime() + 3600_000))).valid,
      'expired an hour later',
    );
    t.ok(service.isDevelopment, 'the development CA says so');
  },
);

t.test('loadLocalSigningService finds broken configuration at start', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'samtycke-signer-'));
  const fail = async (files: Partial<typeof DEV_FILES>, pattern: RegExp, label: string) => {
    const err = await loadLocalSigningService({ ...DEV_FILES, ...files }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof ConfigError, `${label}: ConfigError`);
    t.match((err as Error).message, pattern, label);
  };
  await fail(
    { caCertFile: path.join(dir, 'missing.pem') },
    /Signing CA certificate .*missing\.pem: file not found/,
    'missing certificate',
  );
  const notPem = path.join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  await fail({ caCertFile: notPem }, /no PEM CERTIFICATE block/, 'not PEM');
  const other = makeCa(cn('Other CA'));
  const otherKey = path.join(dir, 'other.key');
  writeFileSync(otherKey, other.keyPem);
  await fail({ caKeyFile: otherKey }, /does not belong to the certificate/, 'key of another CA');
  const rootAsChain = path.join(dir, 'other-root.pem');
  writeFileSync(rootAsChain, other.pem);
  await fail(
    { chainFiles: [rootAsChain] },
    /no certificate for the issuer/,
    'chain that does not reach the root',
  );
  const expired = makeCa(cn('Expired CA'), undefined, {
    from: Date.now() - 3 * 365 * 24 * 3600_000,
    years: 1,
  });
  const [ec, ek] = [path.join(dir, 'expired.pem'), path.join(dir, 'expired.key')];
  writeFileSync(ec, expired.pem);
  writeFileSync(ek, expired.keyPem);
  await fail({ caCertFile: ec, caKeyFile: ek, chainFiles: [ec] }, /has expired/, 'expired CA');
  const leafAsCa = path.join(dir, 'leaf.pem');
  const leafKey = path.join(dir, 'leaf.key');
  const k = newKey();
  writeFileSync(leafKey, k.pem);
  writeFileSync(
    leafAsCa,
    pemEncode(
      issueCertificate({
        subject: cn('Not a CA'),
        spki: k.key.spki,
        issuer: other.issuer,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3600_000 * 24),
        keyUsage: ['digitalSignature'],
      }),
      'CERTIFICATE',
    ),
  );
  await fail(
    { caCertFile: leafAsCa, caKeyFile: leafKey, chainFiles: [rootAsChain] },
    /is not a CA certificate/,
    'end-entity certificate as CA',
  );

  const good = await loadLocalSigningService(DEV_FILES);
  t.ok(good.isDevelopment, 'development certificates are recognised by their subject');
  const root = makeCa(cn('Exempel Root CA', 'Region Exempel'));
  const signing = makeCa(cn('Exempel Signing CA', 'Region Exempel'), root);
  const files = ['root.pem', 'signing.pem', 'signing.key'].map((f) => path.join(dir, f));
  writeFileSync(files[0]!, root.pem);
  writeFileSync(files[1]!, signing.pem);
  writeFileSync(files[2]!, signing.keyPem);
  const prod = await loadLocalSigningService({
    caCertFile: files[1]!,
    caKeyFile: files[2]!,
    chainFiles: [files[0]!],
  });
  t.notOk(prod.isDevelopment, 'a CA without the marker is not development');
  t.equal(prod.chain.length, 2, 'chain: signing CA and root');
});

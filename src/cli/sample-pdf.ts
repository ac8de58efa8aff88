// `npm run sample-pdf -- OUT.pdf`: a completed sample consent, signed by three fictional development
// signers (guardian 1, guardian 2, the youth) through the production code path — renderConsentForm,
// then appendSignature once per signer with the configured signing service, TSA and trust (in development:
// the certs-dev/ CAs and the in-process development TSA, trusting certs-dev/dev-root-ca.pem). Also writes the completion receipt to
// OUT-receipt.pdf. Refuses to run in production mode: fictional people must not be signed by a real CA.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { luhnControlDigit } from '../domain/personal-number.ts';
import type { SignerRole } from '../domain/roles.ts';
import { renderReceipt } from '../pdf/receipt.ts';
import { type ConsentFormData, renderConsentForm } from '../pdf/render.ts';
import { appendSignature } from '../pdf/sign.ts';
import { loadSigning } from '../pdf/signing-setup.ts';
import { verifyPdf } from '../pdf/verify/index.ts';

/** A fictional 12-digit personal number with a correct control digit (Skatteverket's Luhn). */
function fictionalPersonalNumber(yyyymmdd: string, serial: string): string {
  return `${yyyymmdd}${serial}${luhnControlDigit(`${yyyymmdd.slice(2)}${serial}`)}`;
}

const people = {
  guardian1: { name: 'Astrid Exempelsson', personalNumber: fictionalPersonalNumber('19800101', '998') },
  guardian2: { name: 'Łukasz Şahin-Ćirić', personalNumber: fictionalPersonalNumber('19810202', '997') },
  youth: { name: 'Nils Exempelsson Şahin', personalNumber: fictionalPersonalNumber('20120303', '996') },
} as const satisfies Record<SignerRole, { name: string; personalNumber: string }>;

const SAMPLE_FORM: ConsentFormData = {
  documentId: '00000000-0000-4000-8000-00000000d0c5',
  area: 'Sollefteå',
  soleGuardian: false,
  guardian1: { ...people.guardian1, phone: '070-000 00 01' },
  guardian2: { ...people.guardian2, phone: '070-000 00 02' },
  child: {
    ...people.youth,
    healthCentre: 'Hälsocentralen Exempelby (fiktiv)',
    school: 'Exempelskolan (fiktiv)',
  },
  requestingOrganisation: { name: 'Elevhälsan, Exempelby kommun (fiktiv)' },
  youthSigns: true,
  obtainedBy: {
    name: 'Karin Exempel',
    title: 'Skolkurator',
    phone: '0620-00 00 00',
    email: 'karin@example.se',
  },
};

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const out = positionals[0];
  if (!out) {
    console.error('usage: npm run sample-pdf -- OUT.pdf');
    return 2;
  }
  const config = loadConfig();
  if (config.production) {
    console.error('sample-pdf: refused in production mode (it signs fictional people)');
    return 2;
  }
  const {
    service: signing,
    trust,
    tsaTrust,
    timestamper,
  } = await loadSigning(config, {
    warn: (m) => console.error(`sample-pdf: ${m}`),
  });

  const form = await renderConsentForm(SAMPLE_FORM);
  let bytes = form.bytes;
  let sha256 = form.sha256;
  const signed: Array<{ role: SignerRole; name: string; signedAt: Date }> = [];
  for (const role of form.roles) {
    const signedAt = new Date();
    const result = await appendSignature(
      { pdf: bytes, expectedSha256: sha256, role, signer: people[role], place: 'Sollefteå', signedAt },
      { signing, trust, tsaTrust, timestamper },
    );
    bytes = result.bytes;
    sha256 = result.sha256;
    signed.push({ role, name: people[role].name, signedAt });
  }
  await writeFile(out, bytes);

  const receiptFile = path.join(path.dirname(out), `${path.basename(out, path.extname(out))}-receipt.pdf`);
  const receipt = await renderReceipt(
    {
      documentId: SAMPLE_FORM.documentId,
      templateVersion: form.templateVersion,
      documentSha256: sha256,
      completedAt: signed.at(-1)!.signedAt,
      signatures: signed.map((s) => ({
        ...s,
        method: 'BankID (utvecklingsinloggning, fiktiv)',
        issuer: `${config.publicBaseUrl}/dev-idp`,
        acr: 'http://id.elegnamnden.se/loa/1.0/loa3',
      })),
    },
    { publicBaseUrl: config.publicBaseUrl },
  );
  await writeFile(receiptFile, receipt);

  const report = await verifyPdf(bytes, { trust, tsaTrust });
  console.log(`wrote ${out} (${bytes.length} bytes, ${form.roles.length} signatures, SHA-256 ${sha256})`);
  console.log(`wrote ${receiptFile}`);
  console.log(`verify: ${report.verdict}${signing.isDevelopment ? ' (development certificates)' : ''}`);
  return report.verdict === 'valid' ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`sample-pdf: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  },
);

// `npm run audit -- verify`: checks the tamper-evident audit trail (issue 16 §2) and reports every event
// changed, removed, inserted or reordered, every chain missing since a checkpoint and every checkpoint
// whose seal does not verify. `npm run audit -- checkpoint` seals a checkpoint now (the job
// 'audit-checkpoint' does so on its schedule). Uses DATABASE_URL, or the embedded database in development,
// and the signing settings (SIGNING_CA_CERT, SIGNING_CA_KEY, TRUST_ANCHORS, TSA_TRUST_ANCHORS; TSA_URL).
// Output names event ids, places and checkpoint numbers only, never personal data.
// Exit code: 0 nothing found, 1 findings, 2 usage or run error.
import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../config.ts';
import { checkpointSealer, makeAuditCheckpoint } from '../consents/audit-chain-seal.ts';
import { verifyAuditTrail } from '../consents/audit-chain-verify.ts';
import { createDb } from '../db/index.ts';
import { openDatabase } from '../db/open.ts';
import { systemClock } from '../clock.ts';
import { pemBlocks } from '../pdf/pki.ts';
import { loadSigning } from '../pdf/signing-setup.ts';
import { Trust } from '../pdf/trust.ts';

const USAGE = 'usage: npm run audit -- verify | checkpoint';

const pemFiles = async (files: readonly string[]) =>
  (await Promise.all(files.map((f) => readFile(f, 'utf8')))).flatMap((pem) => pemBlocks(pem, 'CERTIFICATE'));

async function main(args: string[]): Promise<number> {
  const command = args[0];
  if (args.length !== 1 || (command !== 'verify' && command !== 'checkpoint')) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const database = await openDatabase(config, () => {});
  const db = createDb(database.url, { max: 2 });
  try {
    if (command === 'checkpoint') {
      const signing = await loadSigning(config);
      const result = await makeAuditCheckpoint(db, {
        sealer: await checkpointSealer(config.signing),
        timestamper: signing.timestamper,
        clock: systemClock,
      });
      console.log(
        result.checkpointId === null
          ? 'No chain grew since the last checkpoint: nothing to seal.'
          : `Checkpoint ${result.checkpointId} sealed: ${result.chains} chain(s)${result.timestamped ? ', time-stamped' : ''}.`,
      );
      return 0;
    }
    const result = await verifyAuditTrail(db, {
      sealingCertificates: await pemFiles([config.signing.caCertFile]),
      trust: await Trust.load(config.signing.trustAnchorFiles),
      chain: await pemFiles(config.signing.chainFiles),
      tsaTrust: await Trust.load(config.signing.tsaTrustAnchorFiles),
    });
    console.log(
      `Checked ${result.events} event(s) in ${result.chains} chain(s) and ${result.checkpoints} checkpoint(s).`,
    );
    if (result.findings.length === 0) {
      console.log('The audit trail is intact.');
      return 0;
    }
    console.log(`${result.findings.length} finding(s):`);
    for (const f of result.findings) console.log(`- ${f.kind}: ${f.message}`);
    return 1;
  } finally {
    await db.destroy();
    await database.stop();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : `audit failed: ${(e as Error).message}`);
  process.exitCode = 2;
}

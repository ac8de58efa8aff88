// `npm run verify -- FILE [--json] [--trust PEM]… [--tsa-trust PEM]…`: verify every signature of a PDF
// and print the report. Trust anchors: --trust, else TRUST_ANCHORS, else (development only) the
// development root certs-dev/dev-root-ca.pem — src/config.ts refuses that one in production.
// Exit code: 0 all signatures valid, 1 any invalid or indeterminate (or none), 2 usage or read error.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { Trust } from '../pdf/trust.ts';
import { verifyPdf } from '../pdf/verify/index.ts';
import { formatReport, reportJson } from '../pdf/verify/report.ts';

const USAGE = 'usage: npm run verify -- FILE.pdf [--json] [--trust ROOT.pem]… [--tsa-trust TSA-ROOT.pem]…';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  let trust: Trust;
  let tsaTrust: Trust | undefined;
  let bytes: Uint8Array;
  try {
    const anchorFiles = values.trust?.length ? values.trust : loadConfig().signing.trustAnchorFiles;
    trust = await Trust.load(anchorFiles);
    if (values['tsa-trust']?.length) tsaTrust = trust.with(await Trust.load(values['tsa-trust']));
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    console.error(`verify: ${(e as Error).message}`);
    return 2;
  }
  const report = await verifyPdf(bytes, { trust, tsaTrust });
  process.stdout.write(values.json ? `${reportJson(report)}\n` : formatReport(report, file));
  return report.verdict === 'valid' ? 0 : 1;
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      trust: { type: 'string', multiple: true },
      'tsa-trust': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`verify: ${(e as Error).stack ?? e}`);
    process.exitCode = 2;
  },
);

// `npm run verify -- FILE [--at TIME] [--json] [--trust PEM]… [--tsa-trust PEM]…`: verify every signature
// of a PDF and print the report. Trust anchors: --trust, else TRUST_ANCHORS, else (development only) the
// development root certs-dev/dev-root-ca.pem — src/config.ts refuses that one in production; TSA anchors:
// --tsa-trust added to those, else TSA_TRUST_ANCHORS. --at validates as of another time (ISO 8601, e.g.
// 2028-12-06 or 2028-12-06T12:00:00Z): a signature with a trusted timestamp and long-term validation data
// (PAdES B-LT) is validated at its timestamp's time with the revocation data in the document, whenever.
// Exit code: 0 all signatures valid, 1 any invalid or indeterminate (or none), 2 usage or read error.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { Trust } from '../pdf/trust.ts';
import { verifyPdf } from '../pdf/verify/index.ts';
import { formatReport, reportJson } from '../pdf/verify/report.ts';

const USAGE =
  'usage: npm run verify -- FILE.pdf [--at ISO-DATE-TIME] [--json] [--trust ROOT.pem]… [--tsa-trust TSA-ROOT.pem]…';

/** An ISO 8601 date or date-time; a date alone is midnight UTC. */
function parseTime(text: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text)
    ? new Date(text)
    : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw new Error(`--at: not an ISO 8601 date or date-time: ${text}`);
  return d;
}

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
  let tsaTrust: Trust;
  let bytes: Uint8Array;
  let at: Date | undefined;
  try {
    if (values.at !== undefined) at = parseTime(values.at);
    const signing = values.trust?.length ? undefined : loadConfig().signing;
    trust = await Trust.load(values.trust?.length ? values.trust : signing!.trustAnchorFiles);
    tsaTrust = values['tsa-trust']?.length
      ? trust.with(await Trust.load(values['tsa-trust']))
      : signing
        ? await Trust.load(signing.tsaTrustAnchorFiles)
        : trust;
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    console.error(`verify: ${(e as Error).message}`);
    return 2;
  }
  const report = await verifyPdf(bytes, { trust, tsaTrust, at });
  process.stdout.write(values.json ? `${reportJson(report)}\n` : formatReport(report, file));
  return report.verdict === 'valid' ? 0 : 1;
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      at: { type: 'string' },
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

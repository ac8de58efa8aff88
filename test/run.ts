// `npm test`: runs the whole suite with tap against a real PostgreSQL — the server at DATABASE_URL when
// set, else an embedded PostgreSQL in .data/pg-test. Prepares one migrated template database; each test
// file clones it (test/helper.ts). Ends with one line `N passed, N failed` when output is not a terminal.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import PgBoss from 'pg-boss';
import { createDb } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { projectRoot } from '../src/paths.ts';
import { adminQuery, databaseServer } from './bench/database.ts';

async function main() {
  const { serverUrl, stop } = await databaseServer('pg-test');
  const template = `samtycke_tpl_${process.pid}`;
  let code: number;
  try {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await adminQuery(serverUrl, `CREATE DATABASE ${template}`);
    const db = createDb(`${serverUrl}/${template}`, { max: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    // Install pg-boss's own schema once, so each cloned database has it.
    const boss = new PgBoss({
      connectionString: `${serverUrl}/${template}`,
      schema: 'pgboss',
      supervise: false,
      schedule: false,
    });
    await boss.start();
    await boss.stop({ graceful: false, wait: true });

    const args = process.argv.slice(2);
    rmSync(summaryFile, { force: true });
    code = await runTap(['--coverage-report=text-summary', '--coverage-report=json-summary', ...args], {
      ...process.env,
      SAMTYCKE_TEST_SERVER_URL: serverUrl,
      SAMTYCKE_TEST_TEMPLATE: template,
    });
    // The domain gate gets its own run: merged coverage of the whole suite under-counts files that
    // subprocesses (tsx-loaded servers and CLIs) also load, so the domain tests are measured alone.
    if (args.length === 0) {
      rmSync(summaryFile, { force: true });
      const domain = await runTap(
        ['--coverage-report=json-summary', '--allow-incomplete-coverage', 'test/domain/*.test.ts'],
        { ...process.env, SAMTYCKE_TEST_SERVER_URL: serverUrl, SAMTYCKE_TEST_TEMPLATE: template },
        { quiet: true },
      );
      if (domain !== 0 || !checkDomainCoverage()) code = code || 1;
    }
  } finally {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
    await stop();
  }
  process.exit(code);
}

const summaryFile = path.join(projectRoot, '.tap', 'report', 'coverage-summary.json');
/** The pure domain rules are held to a higher bar than the global thresholds in package.json. */
const DOMAIN_MIN_LINES = 90;

function checkDomainCoverage(): boolean {
  if (!existsSync(summaryFile)) {
    process.stdout.write('# src/domain line coverage: no coverage report (coverage disabled?)\n');
    return true;
  }
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<
    string,
    { lines: { total: number; covered: number } }
  >;
  let total = 0;
  let covered = 0;
  for (const [file, entry] of Object.entries(summary)) {
    if (!file.includes(`${path.sep}src${path.sep}domain${path.sep}`)) continue;
    total += entry.lines.total;
    covered += entry.lines.covered;
  }
  const pct = total === 0 ? 0 : (100 * covered) / total;
  process.stdout.write(`# src/domain line coverage: ${pct.toFixed(2)} % (minimum ${DOMAIN_MIN_LINES} %)\n`);
  return pct >= DOMAIN_MIN_LINES;
}

function runTap(args: string[], env: NodeJS.ProcessEnv, options: { quiet?: boolean } = {}): Promise<number> {
  // Quiet runs (the domain coverage gate) print nothing: the suite's closing line stays the last one.
  const tty = process.stdout.isTTY && !options.quiet;
  const tapBin = path.join(projectRoot, 'node_modules', '.bin', 'tap');
  const child = spawn(tapBin, tty ? args : ['--reporter=tap', ...args], {
    env,
    stdio: tty ? 'inherit' : ['inherit', 'pipe', 'inherit'],
  });
  // tap's closing summary counts leaf assertions: `# { total: 7, pass: 5, fail: 1, skip: 1 }`.
  let summary: { pass: number; fail: number; skip: number } | undefined;
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!options.quiet) process.stdout.write(chunk);
    buffer += chunk.toString('utf8');
    let i = buffer.indexOf('\n');
    while (i >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      i = buffer.indexOf('\n');
      if (!/^# \{ total: \d+/.test(line)) continue;
      const n = (k: string) => Number(new RegExp(`${k}: (\\d+)`).exec(line)?.[1] ?? 0);
      summary = { pass: n('pass'), fail: n('fail'), skip: n('skip') };
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      if (!tty && !options.quiet) {
        // No summary means tap itself failed: count that as a failure.
        const { pass, fail, skip } = summary ?? { pass: 0, fail: 1, skip: 0 };
        process.stdout.write(`\n${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}\n`);
      }
      resolve(code ?? 1);
    });
  });
}

await main();

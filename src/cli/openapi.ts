// `npm run openapi`: writes openapi.yaml from the running app's route schemas.
// `--check` exits 1 when the file differs (the test suite checks the same).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { projectRoot } from '../paths.ts';

export async function generateOpenApiYaml(): Promise<string> {
  // The document does not depend on configuration or data: build with development defaults and no
  // database connection (Kysely connects lazily, jobs are off).
  const config = loadConfig({ SAMTYCKE_ENV: 'development', LOG_LEVEL: 'silent', RUN_JOBS: 'false' });
  const app = await buildApp({ config, databaseUrl: 'postgres://127.0.0.1:1/none', jobs: false });
  try {
    await app.ready();
    return app.swagger({ yaml: true });
  } finally {
    await app.close();
  }
}

export const openApiFile = path.join(projectRoot, 'openapi.yaml');

if (import.meta.url === `file://${process.argv[1]}`) {
  const yaml = await generateOpenApiYaml();
  if (process.argv.includes('--check')) {
    const current = readFileSync(openApiFile, 'utf8');
    if (current !== yaml) {
      process.stderr.write('openapi.yaml is out of date: run `npm run openapi`\n');
      process.exit(1);
    }
  } else {
    writeFileSync(openApiFile, yaml);
    process.stdout.write(`wrote ${openApiFile}\n`);
  }
}

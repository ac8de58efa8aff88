// A newcomer's first steps: `npm start` on the embedded database in one terminal, `npm run seed:dev` in
// another. The seed used to fail ("already in use") because both wanted to start the same cluster; it
// now attaches to the running one. The startup log says which address to open, and in development the
// address Fastify listens on (127.0.0.1) is sent there.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { freePort } from '../../src/db/embedded.ts';
import { projectRoot } from '../../src/paths.ts';
import { childEnv } from '../helper.ts';

// Under the project: as root the server runs as user "postgres", which must be able to reach the folder.
const base = path.join(projectRoot, '.data');
mkdirSync(base, { recursive: true });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const env = (dataDir: string, port: number) =>
  childEnv({ DATA_DIR: dataDir, PORT: String(port), RUN_JOBS: 'false' });

function node(script: string, environment: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, script)], {
    cwd: projectRoot,
    env: environment,
  });
}

function finished(child: ChildProcessWithoutNullStreams, timeoutMs = 60_000): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

t.test('npm run seed:dev while npm start runs on the embedded database', async (t) => {
  const dir = mkdtempSync(path.join(base, 'seed-test-'));
  chmodSync(dir, 0o755); // mkdtemp makes it private; the server's user must reach it
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const environment = env(dir, port);

  const server = node('src/server.ts', environment);
  const serverRun = finished(server);
  t.teardown(async () => {
    if (server.exitCode === null) server.kill('SIGTERM');
    await serverRun;
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('samtycke is ready')) resolve();
    });
    server.on('close', () => reject(new Error(`the server stopped before it was ready:\n${log}`)));
  });
  const open = `http://localhost:${port}`;
  t.match(log, `samtycke is ready: open ${open}`, 'the ready line names the address to open');
  t.match(log, `Server listening at http://127.0.0.1:${port}; open ${open}`, 'so does the listen line');

  const first = await finished(node('src/cli/seed-dev.ts', environment));
  t.equal(first.code, 0, first.stderr);
  t.notMatch(first.stderr, /already in use/);
  t.match(first.stdout, /3 staff users/);
  t.match(first.stdout, `open ${open}/personal`);

  // Idempotent, and written to the database the running service uses.
  const second = await finished(node('src/cli/seed-dev.ts', environment));
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /\(existed\)/);

  // The service still runs on its database; a browser on 127.0.0.1 is sent to the address to open.
  const res = await fetch(`http://127.0.0.1:${port}/personal`, {
    redirect: 'manual',
    headers: { accept: 'text/html' },
  });
  t.equal(res.status, 308);
  t.equal(res.headers.get('location'), `${open}/personal`);
  const ready = await fetch(`http://localhost:${port}/health/ready`);
  t.equal(ready.status, 200);

  server.kill('SIGTERM');
  const stopped = await serverRun;
  t.equal(stopped.code, 0, 'the service stops its database cleanly; the seed left it running');
});

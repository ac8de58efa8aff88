// The compiled forms of src/: dist/ (`npm run build`, tsc: what the Docker image runs) and the tree that
// `npm start` runs (src/cli/run-compiled.js, esbuild). Both must run under plain node, so every relative
// import must name a .js file; and `npm start` must run what the sources say now, after any edit.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import ts from 'typescript';
import { bundle, compile } from '../src/cli/run-compiled.js';
import { keepMappings } from '../src/cli/source-maps.js';
import { projectRoot } from '../src/paths.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports (static, dynamic, re-exports) of emitted JavaScript that still name a .ts file. */
const TS_IMPORT = /(?:from\s*|import\s*\(\s*|import\s+)(['"])(\.\.?\/[^'"]+\.ts)\1/g;

t.test('dist/: tsc rewrites every relative import to .js, import() included', async (t) => {
  // tsc 5.9 left the .ts of an import() inside an `export default` expression (and of every import() after
  // it in the file): `node dist/src/server.js` in development failed on dev/sms-capture.ts. transpileModule
  // runs the same transform file by file; module ESNext, as tsc emits for our "type": "module" package.
  const { config } = ts.readConfigFile(path.join(projectRoot, 'tsconfig.build.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, projectRoot);
  const compilerOptions = {
    ...options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    sourceMap: false,
  };
  // (Static imports were always rewritten: only the files with an import() are transpiled, for time.)
  const files = [...sources(path.join(projectRoot, 'src')), ...sources(path.join(projectRoot, 'migrations'))]
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }))
    .filter(({ text }) => /\bimport\s*\(/.test(text));
  const left: string[] = [];
  for (const { file, text } of files) {
    const { outputText } = ts.transpileModule(text, { fileName: file, compilerOptions });
    for (const m of outputText.matchAll(TS_IMPORT)) left.push(`${path.relative(projectRoot, file)}: ${m[2]}`);
  }
  t.ok(files.length >= 5, `${files.length} files with an import()`);
  t.same(left, [], 'imports the compiled files would not find');
});

/** A small project: a file that imports another statically and one with import() in `export default`. */
function project(t: Test): string {
  const root = t.testdir({
    'tsconfig.json': JSON.stringify({
      compilerOptions: { target: 'ES2023', module: 'NodeNext', verbatimModuleSyntax: true, strict: true },
    }),
    src: {
      'main.ts': [
        "import type { Greeting } from './types.ts';",
        "import { name } from './name.ts';",
        "export default (async (): Promise<Greeting> => `${(await import('./lazy.ts')).hello} ${name}`)();",
        '',
      ].join('\n'),
      'name.ts': "export const name: string = 'world';\n",
      'lazy.ts': "export const hello = 'hello';\n",
      'types.ts': 'export type Greeting = string;\n',
    },
    migrations: { '0001-first.ts': 'export async function up(): Promise<void> {}\n' },
  });
  return root;
}

/** Runs the compiled main.js under plain node and returns what its default export resolves to. */
function run(outDir: string): string {
  const main = path.join(outDir, 'src', 'main.js');
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `console.log(await (await import(${JSON.stringify(main)})).default)`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

/** A change the file's modification time shows (a second later than before). */
function edit(file: string, contents: string) {
  const before = statSync(file).mtime;
  writeFileSync(file, contents);
  const later = new Date(before.getTime() + 1000);
  utimesSync(file, later, later);
}

t.test('npm start: compiles what changed since the last start, and only that', async (t) => {
  const root = project(t);
  const outDir = path.join(root, 'compiled');
  const first = await compile({ root, outDir });
  t.same(
    [...first.compiled].sort(),
    ['migrations/0001-first.ts', 'src/lazy.ts', 'src/main.ts', 'src/name.ts', 'src/types.ts'],
    'everything, the first time',
  );
  t.equal(run(outDir), 'hello world', 'runs under plain node, import() included');
  t.match(readFileSync(path.join(outDir, 'src', 'main.js'), 'utf8'), /import\("\.\/lazy\.js"\)/);
  t.ok(existsSync(path.join(outDir, 'migrations', '0001-first.js')), 'the migrations, for the migrator');
  t.ok(existsSync(path.join(outDir, 'src', 'main.js.map')), 'source maps: stack traces name the .ts files');

  t.same((await compile({ root, outDir })).compiled, [], 'nothing changed: nothing compiled');

  edit(path.join(root, 'src', 'name.ts'), "export const name: string = 'Samtycke';\n");
  t.same((await compile({ root, outDir })).compiled, ['src/name.ts'], 'an edit: that file');
  t.equal(run(outDir), 'hello Samtycke', 'the edit runs');

  rmSync(path.join(root, 'src', 'types.ts'));
  const removed = await compile({ root, outDir });
  t.same(removed.removed, ['src/types.ts']);
  t.notOk(
    existsSync(path.join(outDir, 'src', 'types.js')),
    'a deleted source leaves no compiled file behind',
  );

  // A half-made edit in a file the start does not import does not stop it (as under tsx).
  writeFileSync(path.join(root, 'src', 'draft.ts'), 'export const draft = ;\n');
  const broken = await compile({ root, outDir });
  t.same(broken.failed, ['src/draft.ts']);
  t.equal(run(outDir), 'hello Samtycke', 'the rest runs');
  const draft = spawnSync(process.execPath, [path.join(outDir, 'src', 'draft.js')], { encoding: 'utf8' });
  t.match(
    draft.stderr,
    /SyntaxError: src\/draft\.ts:1:\d+ does not compile/,
    'importing it fails, saying why',
  );
  edit(path.join(root, 'src', 'draft.ts'), "export const draft = 'ready';\n");
  t.same((await compile({ root, outDir })).compiled, ['src/draft.ts'], 'fixed: compiled at the next start');

  edit(path.join(root, 'tsconfig.json'), readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  t.equal((await compile({ root, outDir })).compiled.length, 5, 'tsconfig.json changed: everything again');
  t.equal(run(outDir), 'hello Samtycke');
});

/** A project whose entry imports packages (one CommonJS, one the bundle leaves out), a lazy file and more. */
function bundledProject(t: Test): string {
  return t.testdir({
    'tsconfig.json': JSON.stringify({
      compilerOptions: { target: 'ES2023', module: 'NodeNext', verbatimModuleSyntax: true, strict: true },
    }),
    'package.json': JSON.stringify({ type: 'module' }),
    node_modules: {
      // CommonJS with named exports, which require()s a module of Node's own.
      'cjs-names': {
        'package.json': JSON.stringify({ name: 'cjs-names', main: 'index.js' }),
        'index.js': "exports.twice = (x) => x * 2;\nexports.sep = require('node:path').sep;\n",
      },
      // A name on the bundle's list of packages left in node_modules/.
      'light-my-request': {
        'package.json': JSON.stringify({ name: 'light-my-request', main: 'index.js' }),
        'index.js': "exports.marker = 'from node_modules';\n",
      },
    },
    src: {
      'main.ts': [
        "import { sep, twice } from 'cjs-names';",
        "import { marker } from 'light-my-request';",
        "import { fail } from './fails.ts';",
        "import { here } from './where.ts';",
        'const g = globalThis as { lazyRan?: boolean };',
        'let stack = "";',
        'try { fail(); } catch (e) { stack = String((e as Error).stack); }',
        'const lazyBefore = g.lazyRan ?? false;',
        'const { value } = await import("./lazy.ts");',
        'export default { twice: twice(21), sep, marker, here, lazyBefore, lazy: value, stack };',
        '',
      ].join('\n'),
      'where.ts': 'export const here: string = import.meta.url;\n',
      'lazy.ts': '(globalThis as { lazyRan?: boolean }).lazyRan = true;\nexport const value = "lazy";\n',
      'fails.ts': "export function fail(): never {\n  throw new Error('from fails.ts');\n}\n",
    },
  });
}

/** Runs a bundle's entry under plain node, stack traces mapped as `npm start` maps them, and returns its
 * default export. */
function runBundle(file: string): Record<string, unknown> {
  const sourceMaps = pathToFileURL(path.join(projectRoot, 'src', 'cli', 'source-maps.js')).href;
  const result = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      [
        `(await import(${JSON.stringify(sourceMaps)})).mapStackTraces(${JSON.stringify(path.dirname(file))});`,
        `console.log(JSON.stringify((await import(${JSON.stringify(pathToFileURL(file).href)})).default));`,
      ].join('\n'),
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

t.test(
  'npm start: runs a bundle of the entry and its packages, with what each file needs kept',
  async (t) => {
    const root = bundledProject(t);
    const outDir = path.join(root, 'compiled');
    const tree = await compile({ root, outDir });
    const first = await bundle({ root, outDir, entry: 'src/main.ts', stamp: tree.stamp });
    t.ok(first.built, 'made');
    t.equal(path.basename(first.file), 'main.js');
    const result = runBundle(first.file);
    t.equal(result.twice, 42, 'a CommonJS package, by its named exports');
    t.equal(result.sep, path.sep, "which require()s Node's own modules");
    t.equal(result.marker, 'from node_modules');
    t.match(
      readFileSync(first.file, 'utf8'),
      /from "light-my-request"/,
      'a package on the list is imported, not bundled',
    );
    t.equal(
      result.here,
      pathToFileURL(path.join(outDir, 'src', 'where.js')).href,
      "a file's import.meta.url is its compiled file's in the tree, not the bundle's",
    );
    t.equal(result.lazyBefore, false, 'an import() is not run before it is reached');
    t.equal(result.lazy, 'lazy', 'and then it is');
    t.match(result.stack, /src[\\/]fails\.ts:2/, 'stack traces name the .ts file and line');

    const bundleDir = path.dirname(first.file);
    const maps = readdirSync(bundleDir).filter((f) => f.endsWith('.js.map'));
    t.ok(maps.length > 0);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(path.join(bundleDir, file), 'utf8')) as { sources: string[] };
      const outside = map.sources.filter(
        (s) => !path.resolve(bundleDir, s).startsWith(path.join(root, 'src')),
      );
      t.same(outside, [], `${file}: only our sources are mapped`);
    }

    const again = await bundle({ root, outDir, entry: 'src/main.ts', stamp: tree.stamp });
    t.same(again, { file: first.file, built: false }, 'nothing changed: the bundle made before');

    edit(path.join(root, 'src', 'lazy.ts'), 'export const value = "edited";\n');
    const second = await bundle({
      root,
      outDir,
      entry: 'src/main.ts',
      stamp: (await compile({ root, outDir })).stamp,
    });
    t.ok(second.built, 'an edit: made again');
    t.equal(runBundle(second.file).lazy, 'edited', 'the edit runs');
    t.ok(existsSync(first.file), 'the one before is kept (a running service may still import from it)');
    edit(path.join(root, 'src', 'lazy.ts'), 'export const value = "again";\n');
    const third = await bundle({
      root,
      outDir,
      entry: 'src/main.ts',
      stamp: (await compile({ root, outDir })).stamp,
    });
    t.notOk(existsSync(path.dirname(first.file)), 'the one before that is removed');
    t.ok(existsSync(second.file) && existsSync(third.file));

    writeFileSync(path.join(root, 'src', 'where.ts'), 'export const here = ;\n');
    const broken = await compile({ root, outDir });
    await t.rejects(
      bundle({ root, outDir, entry: 'src/main.ts', stamp: broken.stamp }),
      'a source that does not compile: no bundle (`npm start` runs the tree, where it fails where imported)',
    );
    t.same(
      readdirSync(path.join(outDir, 'bundle')).filter((d) => d.endsWith('.tmp')),
      [],
      'nothing half-made is left',
    );
  },
);

t.test('a source map keeps the mappings of the sources asked for, and only theirs', (t) => {
  // Generated line 0: a.ts 0:0 at column 1, nothing from column 2, b.ts 1:4 (named "x") from column 3;
  // line 1: a.ts 2:2 from column 2.
  const map = { version: 3, sources: ['a.ts', 'b.ts'], names: ['x'], mappings: 'CAAA,C,CCCIA;EDCF' };
  t.same(
    keepMappings(map, () => true),
    map,
    'all kept: the same map',
  );
  t.same(
    keepMappings(map, (s) => s === 'a.ts'),
    { version: 3, sources: ['a.ts'], names: [], mappings: 'CAAA,C;EAEE' },
    "b.ts's segment and name are gone, a.ts's are where they were",
  );
  t.same(
    keepMappings(map, (s) => s === 'b.ts'),
    { version: 3, sources: ['b.ts'], names: ['x'], mappings: 'GACIA;' },
    'a later source moves to index 0, its columns and lines unchanged',
  );
  t.same(
    keepMappings({ ...map, mappings: 'CCCIA,CDCF' }, (s) => s === 'b.ts'),
    { ...map, sources: ['b.ts'], mappings: 'CACIA,C' },
    'a source left out ends the range of the segment before it on the line',
  );
  t.end();
});

t.test("stack traces: a module's map is read when a stack trace passes through it", (t) => {
  const dir = t.testdir({
    'package.json': JSON.stringify({ type: 'module' }),
    'm.js': [
      "export function mapped() { throw new Error('mapped'); }",
      "export function unmapped() { throw new Error('unmapped'); }",
      '//# sourceMappingURL=m.js.map',
      '',
    ].join('\n'),
    // Line 1 maps (from its column 0) to src/m.ts line 11; line 2 maps to nothing.
    'm.js.map': JSON.stringify({ version: 3, sources: ['src/m.ts'], names: [], mappings: 'AAUA;' }),
    outside: { 'o.js': "export function outside() { throw new Error('outside'); }\n" },
  });
  const sourceMaps = pathToFileURL(path.join(projectRoot, 'src', 'cli', 'source-maps.js')).href;
  const stackOf = (file: string, fn: string) =>
    `await import(${JSON.stringify(pathToFileURL(path.join(dir, file)).href)}).then((m) => { try { m.${fn}(); } catch (e) { stacks.push(e.stack); } });`;
  const result = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      [
        `(await import(${JSON.stringify(sourceMaps)})).mapStackTraces(${JSON.stringify(dir)});`,
        'const stacks = [];',
        stackOf('m.js', 'mapped'),
        stackOf('m.js', 'unmapped'),
        // The map file removed: what was read is kept, and a module outside the folder is left alone.
        stackOf('outside/o.js', 'outside'),
        'console.log(JSON.stringify(stacks));',
      ].join('\n'),
    ],
    { encoding: 'utf8', cwd: dir },
  );
  t.equal(result.status, 0, result.stderr);
  const [mapped, unmapped, outside] = JSON.parse(result.stdout) as string[];
  const firstFrame = (stack: string | undefined) => stack?.split('\n')[1] ?? '';
  t.match(mapped, /^Error: mapped\n/, 'the message first, as V8 writes it');
  t.match(
    firstFrame(mapped),
    /at (Module\.)?mapped \(.*src[\\/]m\.ts:11:1\)$/,
    'a mapped line names its source',
  );
  t.match(
    firstFrame(unmapped),
    /at (Module\.)?unmapped \(file:\/\/.*[\\/]m\.js:2:\d+\)$/,
    'a line without mappings keeps its own place (not the mapping of a line before it)',
  );
  t.match(firstFrame(outside), /o\.js:1:\d+\)$/, 'outside the folder: as V8 writes it');
  t.end();
});

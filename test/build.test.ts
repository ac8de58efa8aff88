// The compiled forms of src/: dist/ (`npm run build`, tsc: what the Docker image runs) and the tree that
// `npm start` runs (src/cli/run-compiled.js, esbuild). Both must run under plain node, so every relative
// import must name a .js file; and `npm start` must run what the sources say now, after any edit.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import ts from 'typescript';
import { compile } from '../src/cli/run-compiled.js';
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

// Types of src/cli/run-compiled.js for the tests that import it (test/build.test.ts).
export interface CompileOptions {
  /** The project whose src/ and migrations/ are compiled (this one by default). */
  root?: string;
  /** Where to (relative to `root`); node_modules/.cache/samtycke by default. */
  outDir?: string | undefined;
}
export interface CompileResult {
  outDir: string;
  /** The source files compiled this time (relative to `root`, '/' separators). */
  compiled: string[];
  /** The source files gone since the last time, whose compiled files were removed. */
  removed: string[];
  /** The source files esbuild could not compile: importing them throws its message. */
  failed: string[];
  /** What the tree now holds (compiler, settings, every source's time and size), for `bundle`. */
  stamp: string;
}
export interface BundleOptions {
  root?: string;
  outDir?: string | undefined;
  /** The entry, a source file relative to `root` (e.g. `src/server.ts`). */
  entry: string;
  /** `compile()`'s stamp of the tree the bundle is made from. */
  stamp: string;
}
export interface BundleResult {
  /** The bundle's entry file. */
  file: string;
  /** Whether it was made now (false: the one made before for the same stamp). */
  built: boolean;
}
export function bundle(options: BundleOptions): Promise<BundleResult>;
export function compile(options?: CompileOptions): Promise<CompileResult>;
export function compiledPath(outDir: string, source: string): string;

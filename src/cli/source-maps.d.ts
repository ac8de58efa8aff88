// Types of src/cli/source-maps.js for the tests that import it (test/build.test.ts).
export interface SourceMap {
  version: number;
  sources: string[];
  names: string[];
  mappings: string;
  [key: string]: unknown;
}
export function keepMappings(map: SourceMap, keep: (source: string) => boolean): SourceMap;
export function mapStackTraces(dir: string): void;

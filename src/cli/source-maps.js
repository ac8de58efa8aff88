// Source maps of `npm start` (run-compiled.js): the bundle's maps hold our own files' mappings only (a
// package's mappings were nine tenths of them), and a stack trace reads a module's map the first time it
// passes through that module, not when the module loads.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGIT[BASE64.charCodeAt(i)] = i;
const SEMICOLON = 59;
const COMMA = 44;

function encodeSegment(values, count) {
  let text = '';
  for (let i = 0; i < count; i++) {
    const v = values[i];
    let rest = v < 0 ? (-v << 1) | 1 : v << 1;
    do {
      const digit = rest & 31;
      rest >>>= 5;
      text += BASE64[rest > 0 ? digit | 32 : digit];
    } while (rest > 0);
  }
  return text;
}

/**
 * A source map with the mappings of the sources `keep` accepts only: the bundle's map names our .ts files,
 * and Node.js, which reads the whole map at start, reads a tenth of it (a package's code keeps its bundle
 * lines in a stack trace). One pass over the mappings (base64 VLQ), a few hundred milliseconds for the
 * service's.
 */
export function keepMappings(map, keep) {
  const sources = new Int32Array(map.sources.length).fill(-1); // old index → new
  let kept = 0;
  map.sources.forEach((source, i) => {
    if (keep(source)) sources[i] = kept++;
  });
  const names = new Map(); // old index → new
  const text = map.mappings;
  const out = [];
  const v = [0, 0, 0, 0, 0]; // the segment being read: its fields as written (deltas)
  const absolute = [0, 0, 0, 0]; // source, line, column, name: relative to the previous segment, map-wide
  const written = [0, 0, 0, 0];
  const segment = [0, 0, 0, 0, 0];
  let line = []; // the segments kept on the current generated line
  let column = 0;
  let writtenColumn = 0;
  let mapping = false; // whether the last segment written on this line maps to a source
  let fields = 0;
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (fields === 0) return;
    column += v[0];
    let source = -1;
    if (fields >= 4) {
      for (let i = 1; i < fields; i++) absolute[i - 1] += v[i];
      source = sources[absolute[0]] ?? -1;
    }
    if (source < 0) {
      // A column that maps to nothing (or to a source left out) ends the range of the one before it.
      if (mapping) {
        segment[0] = column - writtenColumn;
        line.push(encodeSegment(segment, 1));
        writtenColumn = column;
      }
      mapping = false;
    } else {
      mapping = true;
      segment[0] = column - writtenColumn;
      segment[1] = source - written[0];
      segment[2] = absolute[1] - written[1];
      segment[3] = absolute[2] - written[2];
      writtenColumn = column;
      written[0] = source;
      written[1] = absolute[1];
      written[2] = absolute[2];
      if (fields === 5) {
        let name = names.get(absolute[3]);
        if (name === undefined) names.set(absolute[3], (name = names.size));
        segment[4] = name - written[3];
        written[3] = name;
      }
      line.push(encodeSegment(segment, fields === 5 ? 5 : 4));
    }
    fields = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === SEMICOLON) {
      endSegment();
      if (c === SEMICOLON) {
        out.push(line.join(','));
        line = [];
        column = 0;
        writtenColumn = 0;
        mapping = false;
      }
      continue;
    }
    const digit = DIGIT[c];
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      v[fields++] = value & 1 ? -(value >>> 1) : value >>> 1;
      value = 0;
      shift = 0;
    }
  }
  endSegment();
  out.push(line.join(','));
  return {
    ...map,
    sources: map.sources.filter((_, i) => sources[i] >= 0),
    names: [...names.keys()].map((i) => map.names[i]),
    mappings: out.join(';'),
  };
}

/**
 * Stack traces name the .ts files and lines, as `--enable-source-maps` does, for the modules under `dir` (the
 * compiled tree and its bundles). Node.js's own support reads every module's map and measures every line of
 * its code when the module loads (a tenth of a start); here a map is read when a stack trace first passes
 * through its module. Frames elsewhere (packages, Node.js) are left as V8 writes them.
 */
export function mapStackTraces(dir) {
  const root = `${pathToFileURL(dir).href}/`;
  const maps = new Map(); // module URL → SourceMap, or null when it has none
  const mapOf = (url) => {
    let map = maps.get(url);
    if (map === undefined) {
      map = null;
      try {
        const payload = JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8'));
        // A map names its sources relative to itself (it lies beside its module).
        const sourceRoot = payload.sourceRoot ?? '';
        payload.sources = payload.sources.map((s) => new URL(sourceRoot + s, url).href);
        map = new SourceMap(payload);
      } catch {
        // No map (or not one that reads): the frame stays as it is.
      }
      maps.set(url, map);
    }
    return map;
  };
  const frameText = (frame) => {
    const text = String(frame);
    const file = frame.getFileName();
    const line = frame.getLineNumber();
    const column = frame.getColumnNumber();
    if (!file || !line || !column) return text;
    const url = file.startsWith('file:') ? file : pathToFileURL(file).href;
    if (!url.startsWith(root)) return text;
    const entry = mapOf(url)?.findEntry(line - 1, column - 1);
    // (The nearest mapping may lie on an earlier line: package code, which maps to nothing.)
    if (!entry?.originalSource || entry.generatedLine !== line - 1) return text;
    const source = entry.originalSource.startsWith('file:')
      ? fileURLToPath(entry.originalSource)
      : entry.originalSource;
    const where = `${file}:${line}:${column}`;
    const at = text.lastIndexOf(where);
    if (at < 0) return text;
    const original = `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    return text.slice(0, at) + original + text.slice(at + where.length);
  };
  Error.prepareStackTrace = (error, frames) => {
    let head;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = 'Error';
    }
    return head + frames.map((frame) => `\n    at ${frameText(frame)}`).join('');
  };
}

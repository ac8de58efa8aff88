// Source maps of `npm start`'s bundle (run-compiled.js): the mappings of our own files only. Node.js reads
// a module's whole map when it loads it, and a package's mappings were nine tenths of the bundle's.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** The numbers of one segment of a source map's mappings (base64 VLQ). */
function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = BASE64_VALUE.get(c);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeSegment(values) {
  let text = '';
  for (const v of values) {
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
 * lines in a stack trace).
 */
export function keepMappings(map, keep) {
  const sources = new Map(); // old index → new
  map.sources.forEach((source, i) => {
    if (keep(source)) sources.set(i, sources.size);
  });
  const names = new Map();
  const absolute = [0, 0, 0, 0]; // source, line, column, name: relative to the previous segment, map-wide
  const written = [0, 0, 0, 0];
  const lines = map.mappings.split(';').map((line) => {
    let column = 0;
    let writtenColumn = 0;
    let mapping = false; // whether the last segment written on this line maps to a source
    const kept = [];
    for (const segment of line ? line.split(',') : []) {
      const v = decodeSegment(segment);
      column += v[0];
      if (v.length >= 4) for (let i = 0; i < 4 && i + 1 < v.length; i++) absolute[i] += v[i + 1];
      const source = v.length >= 4 ? sources.get(absolute[0]) : undefined;
      if (source === undefined) {
        // A column that maps to nothing (or to a source left out) ends the range of the one before it.
        if (mapping) kept.push(encodeSegment([column - writtenColumn]));
        if (mapping) writtenColumn = column;
        mapping = false;
        continue;
      }
      mapping = true;
      const out = [
        column - writtenColumn,
        source - written[0],
        absolute[1] - written[1],
        absolute[2] - written[2],
      ];
      writtenColumn = column;
      [written[0], written[1], written[2]] = [source, absolute[1], absolute[2]];
      if (v.length === 5) {
        if (!names.has(absolute[3])) names.set(absolute[3], names.size);
        const name = names.get(absolute[3]);
        out.push(name - written[3]);
        written[3] = name;
      }
      kept.push(encodeSegment(out));
    }
    return kept.join(',');
  });
  return {
    ...map,
    sources: map.sources.filter((_, i) => sources.has(i)),
    names: [...names.keys()].map((i) => map.names[i]),
    mappings: lines.join(';'),
  };
}

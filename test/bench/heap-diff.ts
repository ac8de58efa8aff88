// What grew between two V8 heap snapshots (`v8.writeHeapSnapshot`), by node type and constructor name:
// count and self size in each, largest growth first. For the soak (soak.ts); also on its own:
// `node --import tsx test/bench/heap-diff.ts first.heapsnapshot second.heapsnapshot`.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Totals = Map<string, { count: number; size: number }>;

export function heapTotals(file: string): Totals {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const totals: Totals = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!] ?? '?';
    // Objects by constructor; strings, code, arrays and the rest by type (their names are their contents).
    const key = type === 'object' || type === 'closure' ? `${type} ${s.strings[s.nodes[i + nameAt]!]}` : type;
    const t = totals.get(key) ?? { count: 0, size: 0 };
    t.count += 1;
    t.size += s.nodes[i + sizeAt]!;
    totals.set(key, t);
  }
  return totals;
}

/** The `top` keys that grew most in self size from `first` to `second`, and the heaps' totals. */
export function heapGrowth(first: string, second: string, top = 20) {
  const a = heapTotals(first);
  const b = heapTotals(second);
  const sum = (m: Totals) => [...m.values()].reduce((x, v) => x + v.size, 0);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, size: 0 };
    const y = b.get(key) ?? { count: 0, size: 0 };
    return {
      key,
      countDelta: y.count - x.count,
      kBDelta: Math.round((y.size - x.size) / 1024),
      count: y.count,
    };
  });
  rows.sort((p, q) => q.kBDelta - p.kBDelta);
  return {
    firstMB: Math.round(sum(a) / 1048576),
    secondMB: Math.round(sum(b) / 1048576),
    grew: rows.slice(0, top),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [first, second] = process.argv.slice(2);
  if (!first || !second) throw new Error('usage: heap-diff.ts first.heapsnapshot second.heapsnapshot');
  process.stdout.write(`${JSON.stringify(heapGrowth(first, second, 40), null, 2)}\n`);
}

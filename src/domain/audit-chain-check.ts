// The walk of one audit chain (issue 16 §2): recompute every row's hash, follow the links and compare the
// end with the chain's head and with the last sealed checkpoint. Pure: the rows come in, findings go out.
// Findings name event ids, places and checkpoint numbers only, never a row's content.
import { type ChainedLog, chainHash, GENESIS_HASH } from './audit-chain.ts';

export type FindingKind =
  'changed' | 'removed' | 'inserted' | 'reordered' | 'chain_missing' | 'seal_invalid' | 'checkpoint_missing';

export interface Finding {
  kind: FindingKind;
  /** Plain English, ids and numbers only. */
  message: string;
}

export interface ChainRow {
  id: string;
  seq: number;
  prevHash: Uint8Array;
  hash: Uint8Array;
  /** The columns as text in encoding order, the id first (src/domain/audit-chain.ts). */
  fields: readonly (string | null)[];
}

export interface ChainCheckInput {
  log: ChainedLog;
  chain: string;
  /** Every row of the chain, in any order. */
  rows: readonly ChainRow[];
  /** The writers' record of the chain's end (audit_chain_heads), when there is one. */
  head?: { seq: number; hash: Uint8Array } | undefined;
  /** The chain's head in the newest checkpoint that names it, when one does. */
  sealed?: { seq: number; hash: Uint8Array; checkpointId: number } | undefined;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The other row at whose place, or with whose id, the row's stored hash fits its content. */
function fitsAt(log: ChainedLog, row: ChainRow, rows: readonly ChainRow[]): ChainRow | undefined {
  const [, ...rest] = row.fields;
  return rows.find(
    (other) =>
      other !== row &&
      ((other.seq !== row.seq && same(chainHash(row.prevHash, log, other.seq, row.fields), row.hash)) ||
        (other.id !== row.id && same(chainHash(row.prevHash, log, row.seq, [other.id, ...rest]), row.hash))),
  );
}

const isIntact = (log: ChainedLog, row: ChainRow) =>
  same(chainHash(row.prevHash, log, row.seq, row.fields), row.hash);

export function checkChain({ log, chain, rows, head, sealed }: ChainCheckInput): Finding[] {
  const findings: Finding[] = [];
  const add = (kind: FindingKind, message: string) =>
    findings.push({ kind, message: `${chain}: ${message}` });
  const sorted = [...rows].sort((a, b) => a.seq - b.seq || Number(BigInt(a.id) - BigInt(b.id)));
  /** Place → stored hash of the row that holds it; and of the intact rows only, for the links. */
  const hashAt = new Map<number, Uint8Array>();
  const linkAt = new Map<number, Uint8Array>();
  const holder = new Map<number, string>();
  let expected = 1;
  for (const row of sorted) {
    const intact = isIntact(log, row);
    if (!intact) {
      // Written for another row's place or id: moved there (both rows moved), or a copy of an event.
      const other = fitsAt(log, row, rows);
      if (other && isIntact(log, other))
        add('inserted', `event ${row.id} (place ${row.seq}) is a copy of event ${other.id}`);
      else if (other)
        add('reordered', `event ${row.id} is not in the place it was written at (place ${row.seq})`);
      else add('changed', `event ${row.id} (place ${row.seq}) was changed after it was written`);
    } else if (holder.has(row.seq)) {
      add('inserted', `event ${row.id} claims place ${row.seq}, which event ${holder.get(row.seq)} holds`);
      continue;
    } else {
      if (row.seq > expected)
        add(
          'removed',
          `${row.seq - expected} event(s) removed before event ${row.id} (places ${expected}–${row.seq - 1})`,
        );
      // After a row found changed or out of place, its successor's link tells nothing more.
      const before = row.seq === 1 ? GENESIS_HASH : linkAt.get(row.seq - 1);
      if (before && !same(before, row.prevHash))
        add('inserted', `event ${row.id} (place ${row.seq}) does not follow the event before it`);
    }
    if (!holder.has(row.seq)) {
      holder.set(row.seq, row.id);
      hashAt.set(row.seq, row.hash);
      if (intact) linkAt.set(row.seq, row.hash);
    }
    expected = Math.max(expected, row.seq + 1);
  }
  const last = sorted.length ? sorted[sorted.length - 1]!.seq : 0;
  if (head) {
    if (rows.length === 0) add('chain_missing', `the chain is missing (its head says ${head.seq} event(s))`);
    else if (head.seq > last) add('removed', `${head.seq - last} event(s) removed from the end of the chain`);
    else if (head.seq < last) add('inserted', `${last - head.seq} event(s) beyond the chain's recorded end`);
    else if (!same(hashAt.get(last)!, head.hash))
      add('changed', `the last event does not match the chain's recorded end`);
  } else if (rows.length > 0)
    add('inserted', `the chain has no recorded head (its events were not written by the service)`);
  if (sealed) {
    const at = hashAt.get(sealed.seq);
    if (rows.length === 0)
      add('chain_missing', `the chain is missing since checkpoint ${sealed.checkpointId}`);
    else if (!at)
      add('removed', `event at place ${sealed.seq} removed since checkpoint ${sealed.checkpointId}`);
    else if (!same(at, sealed.hash))
      add('changed', `the chain was rewritten since checkpoint ${sealed.checkpointId} (place ${sealed.seq})`);
  }
  return findings;
}

// The audit chain's encoding and the walk of one chain (issue 16 §2), without a database.
import t from 'tap';
import { type ChainRow, checkChain } from '../../src/domain/audit-chain-check.ts';
import {
  chainHash,
  chainKey,
  checkpointStatement,
  encodeField,
  GENESIS_HASH,
  headsDigest,
} from '../../src/domain/audit-chain.ts';

t.test('fields are length-prefixed by UTF-8 bytes; null differs from every text', async (t) => {
  t.equal(encodeField(null), '~');
  t.equal(encodeField(''), '0:');
  t.equal(encodeField('~'), '1:~');
  t.equal(encodeField('å'), '2:å');
  t.not(
    chainHash(GENESIS_HASH, 'audit_events', 1, ['ab', 'c']).toString('hex'),
    chainHash(GENESIS_HASH, 'audit_events', 1, ['a', 'bc']).toString('hex'),
    'no two rows encode alike',
  );
  t.not(
    chainHash(GENESIS_HASH, 'audit_events', 1, ['a']).toString('hex'),
    chainHash(GENESIS_HASH, 'child_lookups', 1, ['a']).toString('hex'),
    'the log is part of the hash',
  );
  t.equal(chainKey('audit_events', null), 'audit_events:none');
  t.equal(chainKey('child_lookups', 'x'), 'child_lookups');
});

t.test('the heads digest does not depend on the order heads are read in', async (t) => {
  const a = { chain: 'a', seq: 1, hash: Buffer.alloc(32, 1) };
  const b = { chain: 'b', seq: 2, hash: Buffer.alloc(32, 2) };
  t.same(headsDigest([a, b]), headsDigest([b, a]));
  t.notSame(headsDigest([a, b]), headsDigest([a, { ...b, seq: 3 }]));
  const statement = checkpointStatement({
    id: 4,
    madeAt: new Date('2026-12-07T10:00:00Z'),
    previousHash: null,
    chains: 2,
    digest: headsDigest([a, b]),
  }).toString();
  t.match(
    statement,
    /^samtycke audit checkpoint v1\ncheckpoint: 4\nmade: 2026-12-07T10:00:00.000Z\nprevious: none\n/,
  );
});

function chain(n: number): ChainRow[] {
  const rows: ChainRow[] = [];
  let prev: Buffer = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = [String(10 + i), `action ${i}`];
    const hash = chainHash(prev, 'audit_events', i, fields);
    rows.push({ id: String(10 + i), seq: i, prevHash: prev, hash, fields });
    prev = hash;
  }
  return rows;
}
const kinds = (rows: ChainRow[], extra: object = {}) =>
  checkChain({ log: 'audit_events', chain: 'c', rows, ...extra }).map((f) => f.kind);

t.test('the walk finds each kind of tampering', async (t) => {
  const rows = chain(4);
  const head = { seq: 4, hash: rows[3]!.hash };
  t.same(kinds(rows, { head }), []);
  t.same(kinds(rows.toReversed(), { head }), [], 'rows in any order');
  t.same(
    kinds(
      rows.map((r, i) => (i === 1 ? { ...r, fields: [r.fields[0]!, 'x'] } : r)),
      { head },
    ),
    ['changed'],
  );
  t.same(
    kinds(
      rows.filter((_, i) => i !== 1),
      { head },
    ),
    ['removed'],
  );
  t.same(kinds(rows.slice(0, 3), { head }), ['removed'], 'the last one');
  t.same(
    kinds([...rows, { ...rows[1]!, id: '99', fields: ['99', ...rows[1]!.fields.slice(1)] }], { head }),
    ['inserted'],
    'a copy under another id',
  );
  t.same(kinds([...rows, { ...rows[1]!, id: '99' }], { head }), ['inserted'], 'a second row at a place');
  t.same(
    kinds(
      rows.map((r, i) => (i === 1 ? { ...r, seq: 3 } : i === 2 ? { ...r, seq: 2 } : r)),
      { head },
    ),
    ['reordered', 'reordered'],
  );
  t.same(kinds(rows), ['inserted'], 'a chain no writer recorded');
  t.same(kinds([], { head }), ['chain_missing']);
  t.same(kinds([], { sealed: { seq: 2, hash: rows[1]!.hash, checkpointId: 1 } }), ['chain_missing']);
  t.same(kinds(rows, { head, sealed: { seq: 2, hash: rows[0]!.hash, checkpointId: 1 } }), ['changed']);
});

// Encryption at rest, the key ring (src/db/encryption.ts): AES-256-GCM values bound to their place, the
// key id stored with each, rotation through an older key kept in the ring, the blind index, and settings
// that are refused with a clear message that never shows a key.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import {
  DEV_BLIND_INDEX_KEY,
  DEV_ENCRYPTION_KEYS,
  KeyRingError,
  LocalKeyRing,
  parseKeys,
} from '../../src/db/encryption.ts';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const place = { table: 'consent_signers', column: 'name', row: 'c1/guardian1' };
const NAME = 'Åsa Øverby-Đorđević 😀';

function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

t.test('text and bytes come back as they went in; nothing readable is stored', async (t) => {
  const ring = LocalKeyRing.fromSettings(key('k1'), key('b1'));
  const stored = ring.encryptText(NAME, place);
  t.match(stored, /^enc:v1:k1:[A-Za-z0-9_-]+$/);
  t.notOk(stored.includes('Åsa') || stored.includes('Overby'), 'the name is not in the stored text');
  t.equal(ring.decryptText(stored, place), NAME);
  t.not(ring.encryptText(NAME, place), stored, 'a fresh nonce each time');
  t.equal(ring.decryptText(ring.encryptText('', place), place), '', 'the empty string');

  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(100_000)]);
  const sealed = ring.encryptBytes(pdf, place);
  t.notOk(sealed.includes(Buffer.from('%PDF')), 'no PDF header in the stored bytes');
  t.equal(sealed.length, pdf.length + 5 + 1 + 2 + 12 + 16, 'overhead: magic, key id, nonce, tag');
  t.ok(ring.decryptBytes(sealed, place).equals(pdf));
  t.ok(ring.decryptBytes(new Uint8Array(sealed), place).equals(pdf), 'from a Uint8Array view too');
});

t.test('a value decrypts only in its place and only unchanged', async (t) => {
  const ring = LocalKeyRing.fromSettings(key('k1'), key('b1'));
  const stored = ring.encryptText(NAME, place);
  for (const other of [
    { ...place, row: 'c2/guardian1' },
    { ...place, column: 'email' },
    { ...place, table: 'sessions' },
  ])
    t.throws(() => ring.decryptText(stored, other), KeyRingError, `moved to ${JSON.stringify(other)}`);
  const flipped = `${stored.slice(0, -2)}${stored.at(-2) === 'A' ? 'B' : 'A'}${stored.at(-1)}`;
  t.throws(() => ring.decryptText(flipped, place), /does not decrypt in its place/, 'a changed character');
  t.throws(() => ring.decryptText('Anna Lindqvist', place), /not encrypted/, 'plain text is refused');
  const bytes = ring.encryptBytes(Buffer.from('abc'), place);
  bytes[bytes.length - 1]! ^= 1;
  t.throws(() => ring.decryptBytes(bytes, place), /does not decrypt/, 'a changed byte');
  t.throws(() => ring.decryptBytes(Buffer.from('%PDF-1.7'), place), /not encrypted/);
  const error = thrown(() => ring.decryptText(flipped, place))?.message;
  t.notOk(error?.includes(NAME), 'the message names the place, never the value');
});

t.test('rotation: the new key writes, the old one still reads until it is gone from the ring', async (t) => {
  const old = key('2026-01');
  const before = LocalKeyRing.fromSettings(old, key('b1'));
  const stored = before.encryptText(NAME, place);
  const bytes = before.encryptBytes(Buffer.from('pdf'), place);
  const after = LocalKeyRing.fromSettings(`${key('2026-12')},${old}`, key('b1'));
  t.equal(after.currentKeyId, '2026-12');
  t.same(after.keyIds, ['2026-12', '2026-01']);
  t.equal(after.keyIdOf(stored), '2026-01');
  t.equal(after.decryptText(stored, place), NAME, 'the old key reads its values');
  t.equal(after.decryptBytes(bytes, place).toString(), 'pdf');
  t.equal(after.keyIdOf(after.encryptText(NAME, place)), '2026-12', 'new values under the new key');
  t.equal(after.keyIdOf(after.encryptBytes(Buffer.from('x'), place)), '2026-12');
  const withoutOld = LocalKeyRing.fromSettings(key('2026-12'), key('b1'));
  t.throws(() => withoutOld.decryptText(stored, place), /no key 2026-01 in the key ring/);
  t.equal(after.keyIdOf('Anna'), undefined, 'plain text has no key id');
  t.equal(after.keyIdOf(Buffer.from('%PDF')), undefined);
});

t.test('blind index: equal numbers give equal indexes, under its own key only', async (t) => {
  const blind = key('b1');
  const ring = LocalKeyRing.fromSettings(key('k1'), blind);
  const again = LocalKeyRing.fromSettings(key('k2'), blind);
  const other = LocalKeyRing.fromSettings(key('k1'), key('b2'));
  const index = ring.blindIndex('201803154321');
  t.match(index, /^b1:[A-Za-z0-9_-]{43}$/);
  t.equal(again.blindIndex('201803154321'), index, 'the encryption key does not matter');
  t.not(ring.blindIndex('201803154322'), index);
  t.not(other.blindIndex('201803154321').slice(3), index.slice(3), 'another blind key, another index');
  t.notOk(index.includes('20180315'), 'nothing of the number');
});

t.test('settings: refused with a message that names the setting, never the key', async (t) => {
  const secret = randomBytes(32).toString('base64');
  for (const [setting, message] of [
    ['', /no key/],
    [secret, /each key is id:base64/],
    [`bad id!:${secret}`, /each key is id:base64/],
    [`k1:${randomBytes(16).toString('base64')}`, /k1 must be 32 bytes/],
    [`k1:${secret},k1:${secret}`, /a key id twice/],
  ] as const) {
    const error = thrown(() => LocalKeyRing.fromSettings(setting, key('b1')));
    t.ok(error instanceof KeyRingError, `${message}`);
    t.match(error?.message, message);
    t.match(error?.message, /^ENCRYPTION_KEYS: /);
    t.notOk(error?.message.includes(secret), 'the key is not in the message');
  }
  t.throws(() => parseKeys(`b1:${secret},b2:${secret}`, 'BLIND_INDEX_KEY', { single: true }), /one key/);
  t.throws(
    () => parseKeys(`b1:${randomBytes(31).toString('base64')}`, 'BLIND_INDEX_KEY', { single: true }),
    /at least 32/,
  );
  t.equal(
    parseKeys(`b1:${randomBytes(64).toString('base64')}`, 'BLIND_INDEX_KEY', { single: true })[0]?.key.length,
    64,
  );
  const dev = LocalKeyRing.fromSettings(DEV_ENCRYPTION_KEYS, DEV_BLIND_INDEX_KEY);
  t.equal(dev.currentKeyId, 'dev-not-secret', 'the development keys say what they are');
});

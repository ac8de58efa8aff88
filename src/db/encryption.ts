// Encryption at rest (issue 16 §1): personal data is encrypted by the service before it reaches PostgreSQL,
// so a database dump, a backup or a replica shows none of it, and looked up through a blind index.
//
// - Values: AES-256-GCM with a fresh 96-bit nonce per value, under the key ring's current key. The key's id
//   is stored with the value, so keys rotate: older keys stay in the ring to read what they wrote until
//   `npm run keys -- rotate` has re-encrypted it. Associated data binds each value to its place (table,
//   column and row): a ciphertext copied into another row or column does not decrypt.
//   Text is stored as `enc:v1:<key id>:<base64url(nonce | ciphertext | tag)>`, bytes as the magic `SENC1`,
//   the key id's length and id, then nonce | ciphertext | tag.
// - Blind index: HMAC-SHA-256 under a key of its own, over the normalised value (a personal number's 12
//   digits), as `<key id>:<base64url>`. Equal numbers give equal indexes, so look-ups stay indexed
//   equality; the index says nothing about the number without the key.
// - Keys come from settings (ENCRYPTION_KEYS, BLIND_INDEX_KEY) behind the `KeyRing` interface, which a
//   KMS can implement later (e.g. envelope encryption with data keys it wraps). Development has fixed,
//   clearly named development keys; production refuses to start on them or without keys (src/config.ts).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** Where a value lives: its table, column and row. Part of the associated data. */
export interface Place {
  table: string;
  column: string;
  row: string;
}

export interface KeyRing {
  /** The id new values are written under. */
  readonly currentKeyId: string;
  readonly keyIds: readonly string[];
  encryptText(plain: string, place: Place): string;
  decryptText(stored: string, place: Place): string;
  encryptBytes(plain: Uint8Array, place: Place): Buffer;
  decryptBytes(stored: Uint8Array, place: Place): Buffer;
  /** The key id a stored value was written under; undefined when it is not encrypted (legacy plain text). */
  keyIdOf(stored: string | Uint8Array): string | undefined;
  /** The blind index of a normalised value (e.g. a personal number's 12 digits). */
  blindIndex(normalised: string): string;
  /** The id of the blind index's key (the part of an index before ':'). */
  readonly blindKeyId: string;
}

/** A key ring setting that cannot be used (a programming or configuration error, never personal data). */
export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

const TEXT_PREFIX = 'enc:v1:';
const BYTES_MAGIC = Buffer.from('SENC1', 'latin1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A key id's characters and length (as a regular expression's source, for SQL too: key-rotation.ts). */
export const KEY_ID_PATTERN = '[A-Za-z0-9._-]{1,32}';
const KEY_ID = new RegExp(`^${KEY_ID_PATTERN}$`);

export interface KeySpec {
  id: string;
  key: Buffer;
}

/**
 * Parses `id:base64,id:base64,…` (the first is the current key) or one `id:base64`. Each key is 32 bytes
 * (AES-256; for the blind index, at least 32).
 */
export function parseKeys(setting: string, name: string, options: { single?: boolean } = {}): KeySpec[] {
  const parts = setting
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new KeyRingError(`${name}: no key`);
  if (options.single && parts.length > 1) throw new KeyRingError(`${name}: one key (id:base64)`);
  const keys = parts.map((part) => {
    const colon = part.indexOf(':');
    const id = colon < 0 ? '' : part.slice(0, colon);
    if (!KEY_ID.test(id))
      throw new KeyRingError(`${name}: each key is id:base64 (id of letters, digits, . _ -)`);
    const key = Buffer.from(part.slice(colon + 1), 'base64');
    if (options.single ? key.length < 32 : key.length !== 32)
      throw new KeyRingError(
        `${name}: key ${id} must be ${options.single ? 'at least ' : ''}32 bytes (base64)`,
      );
    return { id, key };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new KeyRingError(`${name}: a key id twice`);
  return keys;
}

const aad = (p: Place) => Buffer.from(`${p.table}\u0000${p.column}\u0000${p.row}`, 'utf8');

/** The key ring from settings: AES-256-GCM keys (the first is current) and the blind index's key. */
export class LocalKeyRing implements KeyRing {
  readonly currentKeyId: string;
  readonly keyIds: readonly string[];
  readonly #keys: Map<string, Buffer>;
  readonly #blind: KeySpec;
  readonly blindKeyId: string;

  constructor(keys: KeySpec[], blindIndexKey: KeySpec) {
    if (keys.length === 0) throw new KeyRingError('no encryption key');
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
    this.currentKeyId = keys[0]!.id;
    this.keyIds = keys.map((k) => k.id);
    this.#blind = blindIndexKey;
    this.blindKeyId = blindIndexKey.id;
  }

  static fromSettings(encryptionKeys: string, blindIndexKey: string): LocalKeyRing {
    return new LocalKeyRing(
      parseKeys(encryptionKeys, 'ENCRYPTION_KEYS'),
      parseKeys(blindIndexKey, 'BLIND_INDEX_KEY', { single: true })[0]!,
    );
  }

  /** The key ring of the service's settings (`config.encryption`: src/config.ts). */
  static fromConfig(encryption: { keys: string; blindIndexKey: string }): LocalKeyRing {
    return LocalKeyRing.fromSettings(encryption.keys, encryption.blindIndexKey);
  }

  #seal(plain: Uint8Array, place: Place): { keyId: string; sealed: Buffer } {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentKeyId)!, nonce);
    cipher.setAAD(aad(place));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { keyId: this.currentKeyId, sealed: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
  }

  #open(keyId: string, sealed: Buffer, place: Place): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) throw new KeyRingError(`no key ${keyId} in the key ring`);
    if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new KeyRingError('an encrypted value is cut short');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(place));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      // The tag does not match: another place's value, a changed byte, or the wrong key.
      throw new KeyRingError(
        `an encrypted value of ${place.table}.${place.column} does not decrypt in its place`,
      );
    }
  }

  encryptText(plain: string, place: Place): string {
    const { keyId, sealed } = this.#seal(Buffer.from(plain, 'utf8'), place);
    return `${TEXT_PREFIX}${keyId}:${sealed.toString('base64url')}`;
  }

  decryptText(stored: string, place: Place): string {
    const keyId = this.keyIdOf(stored);
    if (keyId === undefined)
      throw new KeyRingError(`${place.table}.${place.column} holds a value that is not encrypted`);
    const sealed = Buffer.from(stored.slice(TEXT_PREFIX.length + keyId.length + 1), 'base64url');
    return this.#open(keyId, sealed, place).toString('utf8');
  }

  encryptBytes(plain: Uint8Array, place: Place): Buffer {
    const { keyId, sealed } = this.#seal(plain, place);
    const id = Buffer.from(keyId, 'latin1');
    return Buffer.concat([BYTES_MAGIC, Buffer.from([id.length]), id, sealed]);
  }

  decryptBytes(stored: Uint8Array, place: Place): Buffer {
    const keyId = this.keyIdOf(stored);
    if (keyId === undefined)
      throw new KeyRingError(`${place.table}.${place.column} holds bytes that are not encrypted`);
    const start = BYTES_MAGIC.length + 1 + keyId.length;
    return this.#open(
      keyId,
      Buffer.from(stored.buffer, stored.byteOffset + start, stored.length - start),
      place,
    );
  }

  keyIdOf(stored: string | Uint8Array): string | undefined {
    if (typeof stored === 'string') {
      if (!stored.startsWith(TEXT_PREFIX)) return undefined;
      const end = stored.indexOf(':', TEXT_PREFIX.length);
      const id = end < 0 ? '' : stored.slice(TEXT_PREFIX.length, end);
      return KEY_ID.test(id) ? id : undefined;
    }
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.length);
    if (bytes.length < BYTES_MAGIC.length + 1 || !bytes.subarray(0, BYTES_MAGIC.length).equals(BYTES_MAGIC))
      return undefined;
    const length = bytes[BYTES_MAGIC.length]!;
    const id = bytes.subarray(BYTES_MAGIC.length + 1, BYTES_MAGIC.length + 1 + length).toString('latin1');
    return KEY_ID.test(id) ? id : undefined;
  }

  blindIndex(normalised: string): string {
    const mac = createHmac('sha256', this.#blind.key).update(normalised, 'utf8').digest('base64url');
    return `${this.#blind.id}:${mac}`;
  }
}

// Development keys: fixed, so that a development database survives a restart, and named so that nobody
// mistakes them for real ones. Production refuses them (src/config.ts).
export const DEV_ENCRYPTION_KEYS = `dev-not-secret:${Buffer.alloc(32, 'samtycke-development-only-key-01').toString('base64')}`;
export const DEV_BLIND_INDEX_KEY = `dev-not-secret:${Buffer.alloc(32, 'samtycke-development-only-blind-1').toString('base64')}`;

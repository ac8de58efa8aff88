// The relying party's own key for private_key_jwt client authentication (RFC 7523, OIDC Core §9).
// Read from a file (OIDC_CLIENT_KEY): a PKCS#8 / SEC1 / PKCS#1 PEM private key, or a private JWK as JSON.
// The public half, as a JWK with its thumbprint as `kid`, is what the provider registers for the client.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  webcrypto,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface ClientKey {
  privateKey: webcrypto.CryptoKey;
  /** JWS algorithm used for the client assertion. */
  alg: 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** Public JWK (with kid, alg, use) to register at the provider. */
  publicJwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
}

type ImportAlgorithm = Parameters<typeof webcrypto.subtle.importKey>[2];

function algorithmFor(key: KeyObject): { alg: ClientKey['alg']; importAlgorithm: ImportAlgorithm } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { alg: 'RS256', importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
    case 'rsa-pss':
      return { alg: 'PS256', importAlgorithm: { name: 'RSA-PSS', hash: 'SHA-256' } };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1')
        return { alg: 'ES256', importAlgorithm: { name: 'ECDSA', namedCurve: 'P-256' } };
      if (curve === 'secp384r1')
        return { alg: 'ES384', importAlgorithm: { name: 'ECDSA', namedCurve: 'P-384' } };
      if (curve === 'secp521r1')
        return { alg: 'ES512', importAlgorithm: { name: 'ECDSA', namedCurve: 'P-521' } };
      throw new Error(`OIDC client key: unsupported elliptic curve ${curve ?? '(unknown)'}`);
    }
    case 'ed25519':
      return { alg: 'EdDSA', importAlgorithm: { name: 'Ed25519' } };
    default:
      throw new Error(`OIDC client key: unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`);
  }
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexicographic order. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members: Record<string, readonly string[]> = {
    RSA: ['e', 'kty', 'n'],
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
  };
  const required = members[jwk.kty ?? ''];
  if (!required) throw new Error('OIDC client key: cannot compute a thumbprint for this key type');
  const canonical = JSON.stringify(
    Object.fromEntries(required.map((m) => [m, (jwk as Record<string, unknown>)[m]])),
  );
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Parses a private key given as PEM text or JWK JSON text. */
export async function parseClientKey(text: string): Promise<ClientKey> {
  const trimmed = text.trim();
  const keyObject = trimmed.startsWith('{')
    ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
    : createPrivateKey(trimmed);
  if (keyObject.type !== 'private') throw new Error('OIDC client key: a private key is required');
  const { alg, importAlgorithm } = algorithmFor(keyObject);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, importAlgorithm, false, ['sign']);
  const publicJwk = createPublicKey(keyObject).export({ format: 'jwk' }) as JsonWebKey;
  const kid = jwkThumbprint(publicJwk);
  return { privateKey, alg, kid, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/** Reads and parses the key file named by OIDC_CLIENT_KEY. Errors name the setting, never the key. */
export async function loadClientKey(file: string): Promise<ClientKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new Error('OIDC client key: the key file cannot be read', { cause });
  }
  try {
    return await parseClientKey(text);
  } catch (cause) {
    if (cause instanceof Error && cause.message.startsWith('OIDC client key:')) throw cause;
    throw new Error('OIDC client key: the file does not hold a usable private key (PEM or JWK)', { cause });
  }
}

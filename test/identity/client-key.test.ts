import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { jwkThumbprint, parseClientKey } from '../../src/identity/client-key.ts';

t.test('PEM and JWK private keys of the usual types', async (t) => {
  const cases = [
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['EdDSA', generateKeyPairSync('ed25519').privateKey],
  ] as const;
  for (const [alg, key] of cases) {
    const fromPem = await parseClientKey(key.export({ format: 'pem', type: 'pkcs8' }).toString());
    t.equal(fromPem.alg, alg);
    t.equal(fromPem.privateKey.type, 'private');
    t.equal(fromPem.publicJwk.kid, fromPem.kid);
    t.equal(fromPem.publicJwk.use, 'sig');
    t.notOk('d' in fromPem.publicJwk, 'the public JWK has no private part');
    const fromJwk = await parseClientKey(JSON.stringify(key.export({ format: 'jwk' })));
    t.equal(fromJwk.kid, fromPem.kid, `${alg}: same key, same kid`);
  }
});

t.test('RFC 7638 thumbprint', async (t) => {
  // The example key of RFC 7638 §3.1.
  const jwk = {
    kty: 'RSA',
    n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  t.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

t.test('not a usable private key', async (t) => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await t.rejects(parseClientKey(publicKey.export({ format: 'pem', type: 'spki' }).toString()));
  await t.rejects(parseClientKey('not a key'));
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
  await t.rejects(parseClientKey(secp256k1.export({ format: 'pem', type: 'pkcs8' }).toString()), /curve/);
});

// The Swedish OIDC profile's Client Provided User Message (Authentication Request Parameter Extensions,
// §2.1, §3.1): sent with an act's identification only where the provider announces it, and only when
// OIDC_USER_MESSAGE allows; the text in the format the profile gives (base64 UTF-8 per language).
import t, { type Test } from 'tap';
import { createRelyingParty, USER_MESSAGE_PARAMETER } from '../../src/identity/oidc-client.ts';
import { decodeUserMessage, startBrokerIdp } from '../fixtures/broker-idp.ts';

const REDIRECT = 'http://localhost:3000/auth/callback';

async function broker(t: Test, userMessageSupport: boolean) {
  const b = await startBrokerIdp({ redirectUris: [REDIRECT], userMessageSupport });
  t.teardown(() => b.close());
  return b;
}

const rp = (issuer: string, clientSecret: string, sendUserMessage?: boolean) =>
  createRelyingParty({
    issuer,
    clientId: 'samtycke',
    clientSecret,
    redirectUri: REDIRECT,
    claimProfile: 'ssn',
    allowInsecure: true,
    ...(sendUserMessage !== undefined ? { sendUserMessage } : {}),
  });

t.test('sent where announced, in the profile’s format, with prompt=login and max_age=0', async (t) => {
  const b = await broker(t, true);
  const attempt = await (
    await rp(b.issuer, b.clientSecret)
  ).beginLogin({
    fresh: true,
    userMessage: 'Du skriver under ett samtycke i HLT – Hälsa, Lärande, Trygghet.',
  });
  const url = new URL(attempt.url);
  t.equal(url.searchParams.get('prompt'), 'login');
  t.equal(url.searchParams.get('max_age'), '0');
  const raw = url.searchParams.get(USER_MESSAGE_PARAMETER);
  t.ok(raw, 'the parameter is there');
  t.same(JSON.parse(raw!), {
    'message#sv': Buffer.from('Du skriver under ett samtycke i HLT – Hälsa, Lärande, Trygghet.').toString(
      'base64',
    ),
    mime_type: 'text/plain',
  });
  t.same(decodeUserMessage(raw!), {
    messages: { sv: 'Du skriver under ett samtycke i HLT – Hälsa, Lärande, Trygghet.' },
    mimeType: 'text/plain',
  });
});

t.test('not sent when the provider does not announce it, or the setting is off', async (t) => {
  const silent = await broker(t, false);
  const a = await (
    await rp(silent.issuer, silent.clientSecret)
  ).beginLogin({ fresh: true, userMessage: 'Text' });
  t.notOk(new URL(a.url).searchParams.has(USER_MESSAGE_PARAMETER), 'provider does not support it');
  const able = await broker(t, true);
  const b = await (
    await rp(able.issuer, able.clientSecret, false)
  ).beginLogin({ fresh: true, userMessage: 'Text' });
  t.notOk(new URL(b.url).searchParams.has(USER_MESSAGE_PARAMETER), 'OIDC_USER_MESSAGE=false');
  const c = await (await rp(able.issuer, able.clientSecret)).beginLogin({ fresh: false });
  t.notOk(new URL(c.url).searchParams.has(USER_MESSAGE_PARAMETER), 'a plain login names no act');
});

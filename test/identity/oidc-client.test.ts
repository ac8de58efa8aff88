// The full authorization code flow with PKCE against the in-process dev IdP over real HTTP: one identity
// per claim profile, configuration deciding the profile, acr and client authentication, and every refusal.
import { inspect } from 'node:util';
import type { CustomFetch } from 'openid-client';
import tap, { type Test } from 'tap';
import { AppError } from '../../src/errors.ts';
import { LOA } from '../../src/identity/claims.ts';
import { findTestPerson } from '../../src/dev/people.ts';
import {
  createRelyingParty,
  createStaffRelyingParty,
  type LoginAttempt,
  type SignerRelyingPartyOptions,
  type StoredLoginAttempt,
} from '../../src/identity/oidc-client.ts';
import { CookieJar, driveLogin, getPage, type LoginChoices } from '../fixtures/login-flow.ts';
import {
  POST_LOGOUT_URI,
  REDIRECT_URI,
  SECRET_BASIC,
  SECRET_POST,
  startTestIdp,
} from '../fixtures/test-idp.ts';
import { leakedNumbers } from '../fixtures/people.ts';

const BROKER_SAME_DEVICE = 'urn:grn:authn:se:bankid:same-device';
const BROKER_QR = 'urn:grn:authn:se:bankid:another-device:qr';

const idp = await startTestIdp();
tap.teardown(() => idp.close());
const people = idp.devIdp.people;
const allNumbers = people.people.map((p) => p.personalNumber);
const person = (key: string) => findTestPerson(people, key)!;

/** Every URL of every flow in this file, checked at the end for personal identity numbers. */
const visited: string[] = [];
/** Numbers typed on the login page (not in the people list), checked too. */
const typedNumbers: string[] = [];

const rpOptions = (o: Partial<SignerRelyingPartyOptions> = {}): SignerRelyingPartyOptions => ({
  issuer: idp.issuer,
  clientId: 'rp-basic',
  clientSecret: SECRET_BASIC,
  redirectUri: REDIRECT_URI,
  claimProfile: 'swedish-oidc',
  acrValues: [LOA.loa3],
  allowInsecure: true,
  ...o,
});

// Three relying parties: the profile, the accepted acr and the client authentication differ only by configuration.
const swedish = await createRelyingParty(rpOptions());
const ssn = await createRelyingParty(
  rpOptions({
    clientId: 'rp-post',
    clientSecret: SECRET_POST,
    tokenEndpointAuthMethod: 'client_secret_post',
    claimProfile: 'ssn',
    acrValues: [],
  }),
);
const nin = await createRelyingParty(
  rpOptions({
    clientId: 'rp-jwt',
    clientSecret: undefined,
    clientKeyFile: idp.keyFile,
    claimProfile: 'nin',
    acrValues: [BROKER_SAME_DEVICE, BROKER_QR],
  }),
);

type Rp = Pick<typeof swedish, 'beginLogin'>;

async function login(rp: Rp, choices: LoginChoices = {}, o: { fresh?: boolean; jar?: CookieJar } = {}) {
  const attempt = await rp.beginLogin({ fresh: o.fresh ?? false });
  const flow = await driveLogin(attempt.url, REDIRECT_URI, choices, o.jar);
  visited.push(...flow.urls);
  return { attempt, ...flow };
}

async function rejects(
  t: Test,
  promise: Promise<unknown>,
  code: string,
  secrets: string[] = [],
): Promise<AppError | undefined> {
  try {
    await promise;
    t.fail(`expected ${code}`);
    return undefined;
  } catch (error) {
    t.type(error, AppError);
    const e = error as AppError;
    t.equal(e.code, code, e.message);
    const printed = `${e.message} ${JSON.stringify(e.extra)} ${inspect(e, { depth: Number.POSITIVE_INFINITY })}`;
    t.same(leakedNumbers([printed], secrets), [], 'no personal identity number in the error or its causes');
    return e;
  }
}

tap.test('swedish-oidc: claims in the ID token, client_secret_basic, LoA 3', async (t) => {
  const anna = person('anna-lindqvist');
  const { attempt, callbackUrl, loginPages } = await login(swedish, { person: anna.key, acr: LOA.loa3 });
  t.equal(loginPages, 1);
  t.match(attempt.url, /code_challenge_method=S256/);
  const identity = await swedish.completeLogin(callbackUrl, attempt);
  t.equal(identity.personalNumber, anna.personalNumber);
  t.equal(identity.name, 'Anna Lindqvist');
  t.equal(identity.issuer, idp.issuer);
  t.match(identity.subject, /^dev-/);
  t.equal(identity.acr, LOA.loa3);
  t.ok(identity.authTime && Math.abs(identity.authTime.getTime() - Date.now()) < 60_000, 'auth_time is now');

  const again = await login(swedish, { person: anna.key });
  const second = await swedish.completeLogin(again.callbackUrl, again.attempt);
  t.equal(second.subject, identity.subject, 'the same person gets the same subject');
});

tap.test('swedish-oidc: a coordination number, name from given_name + family_name', async (t) => {
  const mehmet = person('mehmet-sahin');
  const { attempt, callbackUrl } = await login(swedish, { person: mehmet.key });
  const identity = await swedish.completeLogin(callbackUrl, attempt);
  t.equal(identity.personalNumber, mehmet.personalNumber);
  t.equal(identity.name, 'Mehmet Şahin');
});

tap.test('ssn: claims only from userinfo, client_secret_post, any acr', async (t) => {
  const lucja = person('lucja-sahin');
  const { attempt, callbackUrl } = await login(ssn, {
    person: lucja.key,
    profile: 'ssn',
    delivery: 'userinfo',
    acr: LOA.loa2,
  });
  const identity = await ssn.completeLogin(callbackUrl, attempt);
  t.equal(identity.personalNumber, lucja.personalNumber);
  t.equal(identity.name, 'Łucja Şahin');
  t.equal(identity.acr, LOA.loa2);
  t.notOk(ssn.scopes.includes('https://id.oidc.se/scope/naturalPersonNumber'));
});

tap.test('nin: issuing country SE, private_key_jwt, broker-style acr', async (t) => {
  const minh = person('minh-nguyen');
  const { attempt, callbackUrl } = await login(nin, {
    person: minh.key,
    profile: 'nin',
    country: 'SE',
    acr: BROKER_QR,
  });
  const identity = await nin.completeLogin(callbackUrl, attempt);
  t.equal(identity.personalNumber, minh.personalNumber);
  t.equal(identity.name, 'Minh Nguyễn');
  t.equal(identity.acr, BROKER_QR);
});

tap.test('a typed valid number', async (t) => {
  const typed = person('karin-holm').personalNumber;
  const { attempt, callbackUrl } = await login(swedish, { number: typed.slice(2), name: 'Åsa Öberg' });
  const identity = await swedish.completeLogin(callbackUrl, attempt);
  t.equal(identity.personalNumber, typed, 'normalised to 12 digits');
  t.equal(identity.name, 'Åsa Öberg');
});

tap.test('staff login: issuer, subject and e-mail; no personal number needed', async (t) => {
  const { claimProfile: _, ...options } = rpOptions({ acrValues: [] });
  const staff = await createStaffRelyingParty(options);
  t.same(staff.scopes, ['openid', 'profile', 'email']);
  const karin = person('karin-holm');
  const { attempt, callbackUrl } = await login(staff, { person: karin.key });
  const identity = await staff.completeLogin(callbackUrl, attempt);
  t.same(
    { ...identity, subject: undefined, authTime: undefined },
    {
      issuer: idp.issuer,
      subject: undefined,
      name: 'Karin Holm',
      email: 'karin.holm@exempelby.example',
      emailVerified: true,
      acr: LOA.loa3,
      authTime: undefined,
    },
  );
  t.notOk('personalNumber' in identity);
  const typed = await login(staff, { omitNumber: true, name: 'Utan Nummer' });
  t.same((await staff.completeLogin(typed.callbackUrl, typed.attempt)).name, 'Utan Nummer');
});

tap.test('configuration, not code, decides', async (t) => {
  // The same person and the same provider answer: only the relying party's configuration differs.
  const erik = person('erik-lindqvist');
  const swedishClaims = { person: erik.key, profile: 'swedish-oidc', acr: LOA.loa3 } as const;

  const a = await login(ssn, swedishClaims);
  await rejects(t, ssn.completeLogin(a.callbackUrl, a.attempt), 'identity_invalid', allNumbers);

  const b = await login(nin, swedishClaims);
  await rejects(t, nin.completeLogin(b.callbackUrl, b.attempt), 'acr_not_accepted', allNumbers);

  const c = await login(swedish, { person: erik.key, profile: 'nin', acr: BROKER_SAME_DEVICE });
  await rejects(t, swedish.completeLogin(c.callbackUrl, c.attempt), 'acr_not_accepted', allNumbers);

  // And each profile reads the same person correctly when the provider speaks it.
  for (const [rp, profile, acr] of [
    [swedish, 'swedish-oidc', LOA.loa3],
    [ssn, 'ssn', LOA.loa3],
    [nin, 'nin', BROKER_SAME_DEVICE],
  ] as const) {
    const flow = await login(rp, { person: erik.key, profile, acr });
    const identity = await rp.completeLogin(flow.callbackUrl, flow.attempt);
    t.equal(identity.personalNumber, erik.personalNumber, profile);
  }
});

tap.test('a client that authenticates the wrong way is refused', async (t) => {
  // rp-jwt is registered for private_key_jwt: a secret does not do. (oidc-provider treats basic and post
  // as one family, so those two are not told apart.)
  const withSecret = await createRelyingParty(rpOptions({ clientId: 'rp-jwt', clientSecret: SECRET_BASIC }));
  const flow = await login(withSecret);
  await rejects(t, withSecret.completeLogin(flow.callbackUrl, flow.attempt), 'login_failed');
  // rp-basic has no registered key.
  const withKey = await createRelyingParty(rpOptions({ clientSecret: undefined, clientKey: idp.clientKey }));
  const flow2 = await login(withKey);
  await rejects(t, withKey.completeLogin(flow2.callbackUrl, flow2.attempt), 'login_failed');
  const badSecret = await createRelyingParty(
    rpOptions({ clientSecret: 'not-the-secret-0123456789abcdef0123' }),
  );
  const flow3 = await login(badSecret);
  await rejects(t, badSecret.completeLogin(flow3.callbackUrl, flow3.attempt), 'login_failed');
});

tap.test('state: wrong, missing, unknown attempt, expired attempt', async (t) => {
  const { attempt, callbackUrl } = await login(swedish);
  const wrongState = new URL(callbackUrl);
  wrongState.searchParams.set('state', `${attempt.state}x`);
  await rejects(t, swedish.completeLogin(wrongState, attempt), 'login_state_invalid');
  const noState = new URL(callbackUrl);
  noState.searchParams.delete('state');
  await rejects(t, swedish.completeLogin(noState, attempt), 'login_state_invalid');
  await rejects(t, swedish.completeLogin(callbackUrl, undefined), 'login_state_invalid');
  await rejects(
    t,
    swedish.completeLogin(callbackUrl, { ...attempt, state: 'another-attempt' }),
    'login_state_invalid',
  );
  const old: StoredLoginAttempt = { ...attempt, createdAt: new Date(Date.now() - 11 * 60_000) };
  await rejects(t, swedish.completeLogin(callbackUrl, old), 'login_state_invalid');
  // None of that used the code: the right attempt still works.
  const identity = await swedish.completeLogin(callbackUrl, attempt);
  t.equal(identity.name, 'Anna Lindqvist');
});

tap.test('a replayed code is refused', async (t) => {
  const { attempt, callbackUrl } = await login(swedish);
  await swedish.completeLogin(callbackUrl, attempt);
  await rejects(t, swedish.completeLogin(callbackUrl, attempt), 'login_failed');
});

tap.test('a wrong nonce is refused, and the error does not carry the claims', async (t) => {
  const saga = person('saga-lindqvist');
  const { attempt, callbackUrl } = await login(swedish, { person: saga.key });
  const e = await rejects(
    t,
    swedish.completeLogin(callbackUrl, { ...attempt, nonce: 'another-nonce' }),
    'login_failed',
    [saga.personalNumber],
  );
  t.ok(e?.cause instanceof Error, 'the original error is kept as cause');
});

tap.test('a wrong PKCE verifier is refused', async (t) => {
  const { attempt, callbackUrl } = await login(swedish);
  await rejects(
    t,
    swedish.completeLogin(callbackUrl, { ...attempt, codeVerifier: `${attempt.codeVerifier}x` }),
    'login_failed',
  );
});

tap.test('issuer mismatch: an answer from another provider (mix-up), or without iss', async (t) => {
  const other = await startTestIdp();
  t.teardown(() => other.close());
  const otherRp = await createRelyingParty(rpOptions({ issuer: other.issuer }));
  const { attempt, callbackUrl } = await login(otherRp);
  t.not(new URL(callbackUrl).searchParams.get('iss'), idp.issuer);
  // The other provider's callback, with its own matching attempt, presented to the first relying party.
  await rejects(t, swedish.completeLogin(callbackUrl, attempt), 'login_failed');

  const own = await login(swedish);
  const noIss = new URL(own.callbackUrl);
  noIss.searchParams.delete('iss');
  await rejects(t, swedish.completeLogin(noIss, own.attempt), 'login_failed');
});

tap.test('an expired ID token is refused', async (t) => {
  // ID tokens live one second; the network between us and the provider is slow for the token response.
  const shortLived = await startTestIdp({ ttl: { IdToken: 1 } });
  t.teardown(() => shortLived.close());
  let delayMs = 0;
  const slowFetch: CustomFetch = async (url, options) => {
    const res = await fetch(url, options);
    if (url.endsWith('/token')) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return res;
  };
  const rp = await createRelyingParty(
    rpOptions({ issuer: shortLived.issuer, clockTolerance: 0, fetch: slowFetch }),
  );
  const inTime = await login(rp);
  t.ok(await rp.completeLogin(inTime.callbackUrl, inTime.attempt), 'on a fast network it works');
  delayMs = 2100;
  const late = await login(rp);
  await rejects(t, rp.completeLogin(late.callbackUrl, late.attempt), 'login_failed');
});

tap.test('missing or invalid numbers, and non-Swedish nin', async (t) => {
  const missing = await login(swedish, { omitNumber: true, name: 'Ingen Nummer' });
  const e1 = await rejects(
    t,
    swedish.completeLogin(missing.callbackUrl, missing.attempt),
    'identity_invalid',
  );
  t.equal(e1?.extra?.reason, 'missing_number');

  const valid = person('elsa-lindqvist').personalNumber;
  const invalid = `${valid.slice(0, 11)}${(Number(valid[11]) + 1) % 10}`;
  typedNumbers.push(invalid);
  const bad = await login(swedish, { number: invalid, unchecked: true, name: 'Fel Nummer' });
  const e2 = await rejects(t, swedish.completeLogin(bad.callbackUrl, bad.attempt), 'identity_invalid', [
    invalid,
  ]);
  t.equal(e2?.extra?.reason, 'invalid_number');

  const norwegian = await login(nin, {
    person: 'anna-lindqvist',
    profile: 'nin',
    country: 'NO',
    acr: BROKER_SAME_DEVICE,
  });
  const e3 = await rejects(
    t,
    nin.completeLogin(norwegian.callbackUrl, norwegian.attempt),
    'identity_invalid',
    allNumbers,
  );
  t.equal(e3?.extra?.reason, 'not_swedish');
});

tap.test('acr not accepted', async (t) => {
  const { attempt, callbackUrl } = await login(swedish, { acr: LOA.loa2 });
  t.match(attempt.url, /acr_values=/, 'the accepted values are asked for');
  const e = await rejects(t, swedish.completeLogin(callbackUrl, attempt), 'acr_not_accepted');
  t.equal(e?.extra?.acr, LOA.loa2);
});

tap.test(
  'fresh identification: prompt=login and max_age=0 always show the login page; auth_time checked',
  async (t) => {
    const jar = new CookieJar();
    const first = await login(swedish, {}, { jar });
    t.equal(first.loginPages, 1);
    await swedish.completeLogin(first.callbackUrl, first.attempt);

    const sso = await login(swedish, {}, { jar });
    t.equal(sso.loginPages, 0, 'an ordinary login reuses the provider session');
    await swedish.completeLogin(sso.callbackUrl, sso.attempt);

    const fresh = await login(swedish, {}, { jar, fresh: true });
    t.equal(fresh.loginPages, 1, 'a fresh login asks again');
    t.match(fresh.attempt.url, /prompt=login/);
    t.match(fresh.attempt.url, /max_age=0/);
    t.equal(fresh.attempt.fresh, true);
    const identity = await swedish.completeLogin(fresh.callbackUrl, fresh.attempt);
    t.ok(identity.authTime && Date.now() - identity.authTime.getTime() < 60_000);

    const stale = await login(swedish, { stale: true }, { jar, fresh: true });
    t.equal(stale.loginPages, 1);
    await rejects(t, swedish.completeLogin(stale.callbackUrl, stale.attempt), 'fresh_auth_required');

    // The same stale authentication is fine where no fresh one was asked for.
    const staleOrdinary = await login(swedish, { stale: true }, { fresh: false });
    t.ok(await swedish.completeLogin(staleOrdinary.callbackUrl, staleOrdinary.attempt));

    // Regression: no setting lets an identification from before the act through. (It did: with
    // FRESH_AUTH_MAX_AGE_SECONDS at 900 a ten-minute-old login signed; a broker's SSO session did the same.)
    const lenient = await createRelyingParty(rpOptions({ freshAuthMaxAgeSeconds: 900 }));
    const staleLenient = await login(lenient, { stale: true }, { fresh: true });
    const refused = await rejects(
      t,
      lenient.completeLogin(staleLenient.callbackUrl, staleLenient.attempt),
      'fresh_auth_required',
    );
    t.equal(refused?.extra?.reason, 'before_act');
  },
);

tap.test('cancelling on the login page', async (t) => {
  const { attempt, callbackUrl } = await login(swedish, { action: 'abort' });
  t.equal(callbackUrl.searchParams.get('error'), 'access_denied');
  const e = await rejects(t, swedish.completeLogin(callbackUrl, attempt), 'login_failed');
  t.equal(e?.extra?.providerError, 'access_denied');
});

tap.test('RP-initiated logout', async (t) => {
  const jar = new CookieJar();
  const { attempt, callbackUrl } = await login(swedish, {}, { jar });
  await swedish.completeLogin(callbackUrl, attempt);

  const url = swedish.endSessionUrl({ postLogoutRedirectUri: POST_LOGOUT_URI, state: 'bye' });
  t.ok(url);
  const u = new URL(url!);
  t.equal(u.searchParams.get('client_id'), 'rp-basic');
  t.equal(u.searchParams.get('post_logout_redirect_uri'), POST_LOGOUT_URI);
  t.notOk(u.searchParams.has('id_token_hint'), 'no ID token (personal data) in the URL');
  visited.push(url!);

  // The provider asks for confirmation on its own page (no JavaScript), then sends the browser back.
  const confirm = await getPage(url!, jar);
  t.equal(confirm.status, 200);
  t.match(confirm.html, /Vill du logga ut/);
  t.notMatch(confirm.html, /<script/i);
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.html)?.[1];
  const fields = new URLSearchParams(
    [...confirm.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
      (m): [string, string] => [m[1]!, m[2]!],
    ),
  );
  fields.set('logout', 'yes');
  const res = await fetch(new URL(action!.replace(/&amp;/g, '&'), url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: fields.toString(),
    redirect: 'manual',
  });
  jar.store(res.headers.getSetCookie());
  t.equal(res.status, 303);
  const back = new URL(res.headers.get('location')!);
  visited.push(back.href);
  t.equal(`${back.origin}${back.pathname}`, POST_LOGOUT_URI);
  t.equal(back.searchParams.get('state'), 'bye');

  const after = await login(swedish, {}, { jar });
  t.equal(after.loginPages, 1, 'the provider session is gone: the login page shows again');
});

tap.test('the provider unreachable: service_unavailable, not a login error', async (t) => {
  const gone = await startTestIdp();
  const rp = await createRelyingParty(rpOptions({ issuer: gone.issuer }));
  const { attempt, callbackUrl } = await login(rp);
  await gone.close();
  await rejects(t, rp.completeLogin(callbackUrl, attempt), 'service_unavailable');
  await rejects(t, createRelyingParty(rpOptions({ issuer: gone.issuer })), 'service_unavailable');
});

tap.test('an http issuer needs allowInsecure (development only)', async (t) => {
  await t.rejects(createRelyingParty(rpOptions({ allowInsecure: false })), /https/);
  await t.rejects(createRelyingParty(rpOptions({ allowInsecure: undefined })), /https/);
});

tap.test('client authentication needs its credential', async (t) => {
  await t.rejects(
    createRelyingParty(
      rpOptions({ clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_basic' }),
    ),
    /client secret/,
  );
  await t.rejects(
    createRelyingParty(rpOptions({ clientSecret: undefined, tokenEndpointAuthMethod: 'private_key_jwt' })),
    /client key/,
  );
  await t.rejects(createRelyingParty(rpOptions({ clientKeyFile: '/nonexistent/key.pem' })), /cannot be read/);
});

tap.test('a login attempt is what the caller stores', async (t) => {
  const attempt: LoginAttempt = await swedish.beginLogin();
  t.type(attempt.createdAt, Date);
  t.match(attempt.state, /^[\w-]{43}$/);
  t.match(attempt.nonce, /^[\w-]{43}$/);
  t.match(attempt.codeVerifier, /^[\w-]{43,128}$/);
  const u = new URL(attempt.url);
  t.equal(u.searchParams.get('state'), attempt.state);
  t.equal(u.searchParams.get('nonce'), attempt.nonce);
  t.not(u.searchParams.get('code_challenge'), attempt.codeVerifier, 'only the challenge goes in the URL');
  const first = await swedish.beginLogin();
  t.not(first.state, attempt.state);
});

tap.test('no personal identity number in any URL of these flows', async (t) => {
  t.ok(visited.length > 50, `${visited.length} URLs recorded`);
  t.same(leakedNumbers(visited, [...allNumbers, ...typedNumbers]), []);
});

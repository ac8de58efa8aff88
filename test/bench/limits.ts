// `npm run bench limits` (issue 15 §1–2, the figures its "Done when" asks for): with the default settings
// (src/config.ts `RATE_LIMIT_*`, `CHILD_LOOKUP_QUOTA`), how many requests each limited route answers before
// its first 429, and what that 429 is (media type, Retry-After); then an enumeration of one birth date by a
// team partner's API client (a planted child among 1,000 personal numbers): searches answered until refused,
// first by the per-minute limit, then, with that limit off, by the hourly quota, and what the look-up log
// holds afterwards. One app in this process, requests injected (no network); the limits' behaviour itself
// is asserted in test/http/rate-limit.test.ts and test/http/api/child-lookups.test.ts. Prints figures;
// asserts nothing. Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an
// embedded one.
import { latestFormSha256 } from '../../src/consents/documents.repository.ts';
import { luhnControlDigit } from '../../src/domain/personal-number.ts';
import type { App } from '../../src/http/types.ts';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { createSession } from '../../src/identity/sessions.ts';
import { basicAuth, tokenRequest } from '../fixtures/api.ts';
import { addTeamPartner } from '../fixtures/consents.ts';
import { staffSession } from '../fixtures/sessions.ts';
import { requestConsent, type SignerApp, startSignerApp } from '../http/fixtures/signer.ts';
import { withTestFixtures } from './database.ts';

/** Requests sent to one limit at most: far past any default. */
const CEILING = 1_000;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const HTML = { accept: 'text/html,application/xhtml+xml' };

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

interface LimitFigure {
  /** The setting and its default. */
  setting: string;
  limit: number;
  /** Requests answered (any status but 429) before the first 429. */
  answeredBefore429: number | null;
  contentType: string | null;
  retryAfterSeconds: number | null;
  /** The answers before the 429, by status. */
  answersBefore: Record<string, number>;
}

/** Sends `request(i)` until the first 429 (or CEILING requests). */
async function untilRefused(
  setting: string,
  limit: number,
  request: (i: number) => Promise<Answer>,
): Promise<LimitFigure> {
  const answersBefore: Record<string, number> = {};
  for (let i = 0; i < CEILING; i++) {
    const res = await request(i);
    if (res.statusCode === 429) {
      return {
        setting,
        limit,
        answeredBefore429: i,
        contentType: String(res.headers['content-type']).split(';')[0]!,
        retryAfterSeconds: Number(res.headers['retry-after']),
        answersBefore,
      };
    }
    answersBefore[res.statusCode] = (answersBefore[res.statusCode] ?? 0) + 1;
  }
  return {
    setting,
    limit,
    answeredBefore429: null,
    contentType: null,
    retryAfterSeconds: null,
    answersBefore,
  };
}

/** A documentation address (RFC 5737) per request, so that a per-address limit is not what stops it. */
const addressOf = (i: number) => `198.51.100.${(i % 250) + 1}`;

async function apiClient(app: App, organisationId: string, name: string) {
  const { client, secret } = await createApiClient(app.db, app.config.clientSecretHmacKey, {
    organisationId,
    name,
    scopes: ['consent:status'],
  });
  return { clientId: client.clientId, secret };
}

async function bearer(app: App, organisationId: string, name: string, remoteAddress: string) {
  const c = await apiClient(app, organisationId, name);
  const res = await tokenRequest(app, basicAuth(c.clientId, c.secret), remoteAddress);
  if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode}`);
  return `Bearer ${res.json().access_token as string}`;
}

/** Personal numbers of one birth date (12 digits), birth numbers from 001. */
function sameBirthDate(date: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const nine = `${date.slice(2)}${String(i + 1).padStart(3, '0')}`;
    return `${date.slice(0, 2)}${nine}${luhnControlDigit(nine)}`;
  });
}

async function limitFigures(s: SignerApp): Promise<LimitFigure[]> {
  const { app } = s;
  const d = app.config.rateLimits;
  const host = new URL(s.base).host;
  const get = (url: string, remoteAddress = '127.0.0.1') =>
    app.inject({ url, remoteAddress, headers: { host, ...HTML } });
  const figures: LimitFigure[] = [];

  // Wrong secrets, a new client id each time, from one address.
  figures.push(
    await untilRefused('RATE_LIMIT_TOKEN_PER_ADDRESS', d.tokenPerAddress, (i) =>
      tokenRequest(app, basicAuth(`probe-${i}`, 'wrong'), '192.0.2.1'),
    ),
  );
  // Wrong secrets for one real client, each from another address.
  const victim = await apiClient(app, s.organisationId, 'Victim');
  figures.push(
    await untilRefused('RATE_LIMIT_TOKEN_PER_CLIENT', d.tokenPerClient, (i) =>
      tokenRequest(app, basicAuth(victim.clientId, 'wrong'), addressOf(i)),
    ),
  );
  figures.push(
    await untilRefused('RATE_LIMIT_LOGIN_PER_ADDRESS', d.loginPerAddress, () =>
      get('/auth/login', '192.0.2.2'),
    ),
  );
  const { consentId, tokens } = await requestConsent(s, 'lindqvist');
  figures.push(
    await untilRefused('RATE_LIMIT_INVITATION_PER_ADDRESS', d.invitationPerAddress, (i) =>
      get(i % 2 ? `/s/${tokens.guardian1!}` : '/s/not-a-real-token-at-all', '192.0.2.3'),
    ),
  );

  // A signer's sign posts, each from another address (each starts an identification: a login start).
  const { id: sessionId, session } = await createSession(
    app.db,
    app.keys,
    {
      audience: 'signer',
      staffId: null,
      personalNumber: s.person('anna-lindqvist').personalNumber,
      name: null,
      issuer: `${s.base}/dev-idp`,
      subject: 'limits-bench-anna',
      acr: null,
      authTime: app.clock.now(),
    },
    { now: app.clock.now(), absoluteHours: 8 },
  );
  const version = await latestFormSha256(app.db, consentId);
  figures.push(
    await untilRefused('RATE_LIMIT_SIGNER_ACTS_PER_PERSON', d.signerActsPerPerson, (i) =>
      app.inject({
        method: 'POST',
        url: `/mina-samtycken/${consentId}/signera`,
        remoteAddress: addressOf(i),
        headers: { host, ...FORM, ...HTML, cookie: `samtycke=${sessionId}` },
        payload: new URLSearchParams({ _csrf: session.csrfToken, version, ort: 'Norrby' }).toString(),
      }),
    ),
  );

  const childPersonalNumber = s.person('saga-lindqvist').personalNumber;
  const searcher = await bearer(app, s.organisationId, 'Searcher', '192.0.2.4');
  figures.push(
    await untilRefused('RATE_LIMIT_CHILD_SEARCH_PER_CALLER (API)', d.childSearchPerCaller, () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/consent-status/search',
        headers: { authorization: searcher },
        payload: { childPersonalNumber },
      }),
    ),
  );
  const staff = await staffSession(app, s.staffId, app.clock.now());
  figures.push(
    await untilRefused('RATE_LIMIT_CHILD_SEARCH_PER_CALLER (staff page)', d.childSearchPerCaller, () =>
      app.inject({
        method: 'POST',
        url: '/personal/sok',
        headers: { host, ...FORM, ...HTML, cookie: staff.cookie },
        payload: new URLSearchParams({
          _csrf: staff.csrfToken,
          personalNumber: childPersonalNumber,
        }).toString(),
      }),
    ),
  );
  // Counted before the body is read: an empty upload is refused (400) and still counts.
  figures.push(
    await untilRefused('RATE_LIMIT_VERIFY_PER_ADDRESS', d.verifyPerAddress, () =>
      app.inject({
        method: 'POST',
        url: '/verifiera',
        remoteAddress: '192.0.2.5',
        headers: { host, ...HTML, 'content-type': 'multipart/form-data; boundary=x' },
        payload: '--x--\r\n',
      }),
    ),
  );
  return figures;
}

/** A team partner's client searches 1,000 numbers of the planted child's birth date, the child 40th. */
async function enumeration(s: SignerApp) {
  const { app } = s;
  await requestConsent(s, 'lindqvist');
  const partnerId = await addTeamPartner(app.db, s.teamId);
  const authorization = await bearer(app, partnerId, 'Partner', '192.0.2.6');
  const saga = s.person('saga-lindqvist').personalNumber;
  const numbers = sameBirthDate(saga.slice(0, 8), 1_000).filter((n) => n !== saga);
  numbers.splice(39, 0, saga);
  const before = await app.db.selectFrom('child_lookups').select('id').execute();
  const started = performance.now();
  let answered = 0;
  let found = 0;
  let refused: Answer | undefined;
  for (const childPersonalNumber of numbers) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/consent-status/search',
      headers: { authorization },
      payload: { childPersonalNumber },
    });
    if (res.statusCode !== 200) {
      refused = res;
      break;
    }
    answered += 1;
    if ((res.json() as { consents: unknown[] }).consents.length > 0) found += 1;
  }
  const rows = await app.db
    .selectFrom('child_lookups')
    .select(['found'])
    .where('id', 'not in', before.length ? before.map((r) => r.id) : [-1])
    .execute();
  return {
    numbersTried: numbers.length,
    answeredBeforeRefused: answered,
    plantedChildFound: found,
    refusedWith: refused
      ? {
          status: refused.statusCode,
          code: (JSON.parse(refused.body) as { code?: string }).code,
          retryAfterSeconds: Number(refused.headers['retry-after']),
        }
      : null,
    lookUpLogRows: rows.length,
    lookUpLogHits: rows.filter((r) => r.found > 0).length,
    ms: Math.round(performance.now() - started),
  };
}

export async function benchLimits(): Promise<Record<string, unknown>> {
  return withTestFixtures('samtycke_bench_limits', async (t) => {
    // The defaults, as a deployment that sets none of them.
    const s = await startSignerApp(t, { jobs: false });
    const limits = await limitFigures(s);
    const burst = await enumeration(s);
    // The per-minute limit off: what the hourly quota alone lets through.
    const quotaOnly = await startSignerApp(t, {
      jobs: false,
      env: { RATE_LIMIT_CHILD_SEARCH_PER_CALLER: '0' },
    });
    const quota = await enumeration(quotaOnly);
    const { quota: max, windowSeconds } = s.app.config.childLookups;
    return {
      limits,
      enumeration: {
        defaults: burst,
        perMinuteLimitOff: { quota: max, windowMinutes: windowSeconds / 60, ...quota },
      },
    };
  });
}

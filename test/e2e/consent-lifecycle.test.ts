// The consent lifecycle end to end, over real HTTP with the development IdP (issue 6, "Tests"):
// staff create a request through /api/v1 → the invitations arrive in the mail capture → the youth,
// guardian 1 and guardian 2 each open their mailed link, log in, read and sign (in that order) → `active`
// → the status API → download → pdfsig validates three signatures → guardian 2 withdraws in "Mina
// samtycken" → the status API says `withdrawn` in the next request → staff see it → every captured mail
// carries no personal data and no attachment.
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { createApiClient } from '../../src/identity/api-clients.ts';
import { staffSession } from '../fixtures/sessions.ts';
import { clearCapturedMail, listCapturedMail } from '../../src/dev/mail-capture.ts';
import { clearCapturedSms, listCapturedSms } from '../../src/dev/sms-capture.ts';
import { drainJobs, familyRequest, GUARDIAN_EMAIL } from '../fixtures/consents.ts';
import { startSignerApp } from '../http/fixtures/signer.ts';
import { csrfOf, hiddenValue } from '../fixtures/app.ts';
import { PDFSIG_TOOLS, type PdfsigSignature, pdfsig } from '../pdf/helpers/nss.ts';
import { DEV_ROOT_PEM } from '../pdf/helpers/signing.ts';
import { people, personalDataIn } from '../fixtures/people.ts';

const ORGANISATION_WORDS = ['Björkskolan', 'Hälsocentralen', 'Norrby', 'Exempelby', 'HLT-team', 'Karin'];

const haveTool = (tool: string): boolean => spawnSync('which', [tool]).status === 0;

type Role = 'guardian1' | 'guardian2' | 'youth';
const FAMILY: Record<Role, { person: string; email: string; place: string }> = {
  guardian1: { person: 'anna-lindqvist', email: GUARDIAN_EMAIL['anna-lindqvist']!, place: 'Norrby' },
  guardian2: { person: 'erik-lindqvist', email: GUARDIAN_EMAIL['erik-lindqvist']!, place: 'Skellefteå' },
  youth: { person: 'saga-lindqvist', email: 'saga@hem.example', place: 'Umeå' },
};

/**
 * The app on a real port with a staff member's session (Karin Holm at Björkskolan, as her login makes it)
 * and another HLT system of the same organisation with a client token; `request()` asks for consent through
 * the staff API and gives each role's mailed link; `signOnPhone` is one signer's whole visit.
 */
async function harness(t: Test) {
  const s = await startSignerApp(t);
  const api = async (
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => {
    const res = await fetch(`${s.base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  const session = await staffSession(s.app, s.staffId, new Date(), `${s.base}/dev-idp`);
  const staff = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
  const { client, secret } = await createApiClient(s.db, s.app.config.clientSecretHmacKey, {
    organisationId: s.organisationId,
    name: 'Elevhälsans journal',
    scopes: ['consent:status', 'consent:read'],
    contactName: 'Kontakt Person',
  });
  const tokenRes = await fetch(`${s.base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  t.equal(tokenRes.status, 200, 'a client token');
  const bearer = {
    authorization: `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`,
  };

  /** A request through POST /api/v1/consent-requests; the invitation link each role was mailed. */
  const request = async (): Promise<{ consentId: string; links: Record<Role, string> }> => {
    // What is still queued from an earlier request is sent first, so the capture holds only this one's.
    await drainJobs(s.app);
    clearCapturedMail();
    const created = await api('POST', '/api/v1/consent-requests', staff, familyRequest(s, 'lindqvist'));
    t.equal(created.status, 201, 'created through POST /api/v1/consent-requests');
    const consentId = json(created.bytes).id as string;
    await drainJobs(s.app);
    const linkFor = (email: string): string => {
      const mail = listCapturedMail().find((m) => m.to === email);
      const link = mail && /\/s\/([A-Za-z0-9_-]{43})/.exec(mail.text);
      if (!link) throw new Error(`no invitation mailed to ${email}`);
      return `/s/${link[1]}`;
    };
    const links = {
      guardian1: linkFor(FAMILY.guardian1.email),
      guardian2: linkFor(FAMILY.guardian2.email),
      youth: linkFor(FAMILY.youth.email),
    };
    return { consentId, links };
  };

  const statusOf = async (consentId: string) => {
    const res = await api('GET', `/api/v1/consents/${consentId}/status`, bearer);
    t.equal(res.status, 200);
    return json(res.bytes) as { status: string; validFrom: string | null; validUntil: string | null };
  };

  /** One signer opens the mailed link on the phone, logs in, reads and signs; the receipt page. */
  const signOnPhone = async (link: string, role: Role) => {
    const b = s.browser();
    const invitation = await b.get(link);
    t.equal(invitation.status, 200, `${role}: the invitation`);
    t.same(personalDataIn(invitation.body, people), [], `${role}: no personal data before login`);
    const loginHref = /href="(\/auth\/login\?[^"]+)"/.exec(invitation.body)![1]!;
    const login = await b.login(loginHref, { person: FAMILY[role].person });
    // Back to the link's id, never its token (the return path is stored: issue 15 §5).
    t.match(login.location, /^\/mina-samtycken\/inbjudan\/[0-9a-f-]{36}$/);
    t.notMatch(login.location, link.slice(3));
    const checked = await b.get(login.location!);
    t.equal(checked.status, 303, `${role}: the person the link is for`);
    const review = await b.get(checked.location!);
    t.equal(review.status, 200, `${role}: the review`);
    const consentId = /\/mina-samtycken\/([0-9a-f-]{36})\/granska/.exec(checked.location!)![1]!;
    // Signera: its own identification (prompt=login, max_age=0), then the receipt page.
    const signed = await b.login(
      {
        path: `/mina-samtycken/${consentId}/signera`,
        form: {
          _csrf: csrfOf(review.body),
          version: hiddenValue(review.body, 'version')!,
          ort: FAMILY[role].place,
        },
      },
      { person: FAMILY[role].person },
    );
    t.equal(signed.status, 303, `${role}: signed`);
    const receipt = await b.get(signed.location!);
    t.match(receipt.body, /Du har skrivit under/);
    return receipt.body;
  };

  return { s, api, staff, bearer, request, statusOf, signOnPhone };
}

const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));

/**
 * pdfsig on the document: every signature valid and trusted; the fields, and the newest one (its signed
 * range reaches furthest: after it only its validation data, the DSS update, which pdfsig calls "Not total
 * document signed").
 */
function pdfsigCheck(t: Test, bytes: Uint8Array): { fields: string[]; newest?: string } | undefined {
  const missing = PDFSIG_TOOLS.filter((tool) => !haveTool(tool));
  if (missing.length > 0) {
    if (process.env.SAMTYCKE_REQUIRE_PDF_TOOLS === '1')
      t.fail(`pdfsig check: missing ${missing.join(', ')}; SAMTYCKE_REQUIRE_PDF_TOOLS=1`);
    else
      t.comment(
        `pdfsig check skipped: missing ${missing.join(', ')} (set SAMTYCKE_REQUIRE_PDF_TOOLS=1 to fail)`,
      );
    return undefined;
  }
  const report = pdfsig(bytes, [DEV_ROOT_PEM]);
  for (const sig of report.signatures) {
    t.ok(sig.signatureValid, `pdfsig: ${sig.field} valid`, { output: sig.text });
    t.ok(sig.certificateTrusted, `pdfsig: ${sig.field} trusted`, { output: sig.text });
  }
  const newest = report.signatures.reduce<PdfsigSignature | undefined>(
    (a, x) => (!a || x.signedUpTo > a.signedUpTo ? x : a),
    undefined,
  )?.field;
  return { fields: report.signatures.map((x) => x.field).sort(), ...(newest ? { newest } : {}) };
}

t.test('request → three signatures on the phone → active → withdrawn in Mina samtycken', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const { s, api, staff, bearer, request, statusOf, signOnPhone } = await harness(t);

  // 1. The request, through the staff API.
  const { consentId, links } = await request();
  const statusNow = () => statusOf(consentId);
  t.equal((await statusNow()).status, 'pending');

  // 2. Each signer opens the mailed link on the phone, logs in, reads and signs. Free order: this one
  // youth → guardian 1 → guardian 2 (every other order is the next test).
  for (const role of ['youth', 'guardian1', 'guardian2'] as const) {
    const receipt = await signOnPhone(links[role], role);
    if (role === 'guardian2') t.match(receipt, /Samtycket gäller från/, 'the last signature: in force');
    else t.equal((await statusNow()).status, 'pending', `after ${role}: still pending`);
  }

  // 3. In force, and the status API says so.
  const active = await statusNow();
  t.equal(active.status, 'active');
  t.ok(active.validFrom && active.validUntil, 'with its validity');

  // 4. Download (the requesting organisation's client) and pdfsig on the three signatures.
  const doc = await api('GET', `/api/v1/consents/${consentId}/document`, bearer);
  t.equal(doc.status, 200);
  t.equal(doc.headers.get('content-type'), 'application/pdf');
  t.equal(doc.headers.get('cache-control'), 'no-store');
  const checked = pdfsigCheck(t, doc.bytes);
  if (checked) {
    t.same(checked.fields, ['guardian1', 'guardian2', 'youth'], 'three signatures');
    t.equal(checked.newest, 'guardian2', 'the last signature is the newest (only its DSS update follows)');
  }

  // 5. Guardian 2 withdraws in "Mina samtycken", with the withdrawal's own identification.
  const erik = s.browser();
  const login = await erik.login('/auth/login?returnTo=%2Fmina-samtycken', { person: 'erik-lindqvist' });
  t.equal(login.location, '/mina-samtycken');
  const mine = await erik.get('/mina-samtycken');
  t.match(mine.body, /gällande/);
  const confirm = await erik.get(`/mina-samtycken/${consentId}/aterkalla`);
  t.equal(confirm.status, 200);
  const done = await erik.login(
    { path: `/mina-samtycken/${consentId}/aterkalla`, form: { _csrf: csrfOf(confirm.body) } },
    { person: 'erik-lindqvist' },
  );
  t.equal(done.status, 303, 'withdrawn after its own identification');
  const withdrawn = await erik.get(done.location!);
  t.equal(withdrawn.status, 200);
  t.match(withdrawn.body, /Samtycket är återkallat/);

  // 6. The very next status request says withdrawn; staff see it on the consent's page.
  t.equal((await statusNow()).status, 'withdrawn', 'withdrawn at once');
  const staffPage = await fetch(`${s.base}/samtycken/${consentId}`, { headers: { cookie: staff.cookie } });
  t.equal(staffPage.status, 200, "the staff member's consent page");
  t.match(await staffPage.text(), /återkallat/i, 'staff see the withdrawal');
  const details = await api('GET', `/api/v1/consents/${consentId}`, staff);
  t.equal(json(details.bytes).status, 'withdrawn');

  // 7. What was sent: links only, no personal data, no attachment.
  await drainJobs(s.app);
  const mails = listCapturedMail();
  t.ok(
    mails.length >= 3 + 3 + 1,
    `invitations, "signed by all" and "withdrawn" were mailed (${mails.length})`,
  );
  t.ok(
    mails.some((m) => /återkall/i.test(`${m.subject} ${m.text}`)),
    'a withdrawal notice was sent',
  );
  for (const mail of mails) {
    const content = `${mail.subject}\n${mail.text}`;
    t.same(personalDataIn(content, people), [], `no personal data: ${mail.subject}`);
    t.same(
      ORGANISATION_WORDS.filter((w) => content.includes(w)),
      [],
      `no organisation: ${mail.subject}`,
    );
    t.equal(mail.attachments, 0, `no attachment: ${mail.subject}`);
  }
  for (const sms of listCapturedSms())
    t.same(personalDataIn(sms.text, people), [], 'no personal data in SMS');
});

t.test('signing order is free: every other order of guardian 1, guardian 2 and the youth', async (t) => {
  const { api, bearer, request, statusOf, signOnPhone } = await harness(t);
  const orders: Role[][] = [
    ['guardian1', 'guardian2', 'youth'],
    ['guardian1', 'youth', 'guardian2'],
    ['guardian2', 'guardian1', 'youth'],
    ['guardian2', 'youth', 'guardian1'],
    ['youth', 'guardian2', 'guardian1'],
  ];
  for (const order of orders) {
    const name = order.join(' → ');
    const { consentId, links } = await request();
    for (const [i, role] of order.entries()) {
      const receipt = await signOnPhone(links[role], role);
      const last = i === order.length - 1;
      const now = await statusOf(consentId);
      t.equal(now.status, last ? 'active' : 'pending', `${name}: after ${role}, ${now.status}`);
      if (last) t.match(receipt, /Samtycket gäller från/, `${name}: the receipt says it is in force`);
    }
    const doc = await api('GET', `/api/v1/consents/${consentId}/document`, bearer);
    t.equal(doc.status, 200, `${name}: the document`);
    const checked = pdfsigCheck(t, doc.bytes);
    if (checked) {
      t.same(checked.fields, ['guardian1', 'guardian2', 'youth'], `${name}: three valid signatures`);
      t.equal(checked.newest, order.at(-1), `${name}: the last signer's signature is the newest`);
    }
  }
});

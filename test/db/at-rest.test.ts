// Issue 16 §1, encryption at rest: "A test reads the tables with plain SQL and finds no personal data."
// The real flows store every kind of personal data the service holds — three requests (created through
// the staff API, one with an Idempotency-Key), signatures with e-identification through the development
// IdP (signer and staff sessions, form revisions, a receipt), a decline with a reason, a registered
// withdrawal and an end with notes naming people, searches by child, notifications sent and queued — and
// then every table of every schema is read with plain SQL, each bytea value as its bytes too, and a
// pg_dump of the database is searched. A finding names `table.column` and the kind of datum, never the
// datum: the list of findings is a to-do list, and the test output holds no personal data.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import t, { type Test } from 'tap';
import { localDateOf } from '../../src/domain/dates.ts';
import {
  type Datum,
  findPgDump,
  isPlainPdf,
  kindsInBytes,
  kindsInText,
  type Needle,
  needlesOf,
  scanDatabase,
  scanDump,
  todoList,
} from '../fixtures/at-rest.ts';
import { clientBearer } from '../fixtures/api.ts';
import { Browser, csrfOf, hiddenValue } from '../fixtures/app.ts';
import { drainJobs } from '../fixtures/consents.ts';
import { numberForms } from '../fixtures/people.ts';
import { freshDatabase } from '../helper.ts';
import { type SignerApp, startSignerApp } from '../http/fixtures/signer.ts';

/** Karin Holm as the consent fixtures seed her (staff_users): she obtains the consents. */
const STAFF = { name: 'Karin Holm', email: 'karin.holm@exempelby.example', phone: '0910-123 45' };
/** The staff directory is not in §1's scope: a staff member's own account may stay readable there. */
const STAFF_DIRECTORY = ['staff_users.name', 'staff_users.email', 'staff_users.phone'];

const review = (id: string) => `/mina-samtycken/${id}/granska`;

/** Needles with the same pattern (a family name shared by child and guardians) as one kind. */
function merged(needles: Needle[]): Needle[] {
  const byPattern = new Map<string, Needle[]>();
  for (const n of needles) {
    const key = `${n.pattern.source}/${n.pattern.flags}`;
    byPattern.set(key, [...(byPattern.get(key) ?? []), n]);
  }
  return [...byPattern.values()].map((same) => {
    const first = same[0]!;
    if (same.length === 1) return first;
    const roles = [...new Set(same.map((n) => n.kind.replace(/ name( \(part\))?$/, '')))];
    return {
      ...first,
      kind: `name part of ${roles.join('/')}`,
      allowedIn: first.allowedIn.filter((p) => same.every((n) => n.allowedIn.includes(p))),
    };
  });
}

interface World {
  s: SignerApp;
  data: Datum[];
  needles: Needle[];
  /** Everything the app was given, as plain text (the positive control searches it). */
  given: string;
  ids: { a: string; b: string; c: string };
  staffApi: (
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<{
    statusCode: number;
    body: string;
    rawPayload: Buffer;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    json(): any;
  }>;
  bearer: string;
}

/** Every flow that stores personal data, through the real routes and use cases. */
async function drive(t: Test): Promise<World> {
  const s = await startSignerApp(t);
  const today = localDateOf(s.app.clock.now());
  const p = (key: string) => s.person(key);
  const saga = p('saga-lindqvist');
  const anna = p('anna-lindqvist');
  const erik = p('erik-lindqvist');
  const minh = p('minh-nguyen');
  const mai = p('mai-nguyen');
  const zeynep = p('zeynep-sahin');
  const lucja = p('lucja-sahin');
  const mehmet = p('mehmet-sahin');
  const karin = p('karin-holm');

  // The requests, as staff send them: personal numbers written in different ways.
  const tenWithHyphen = (n: string) => `${n.slice(2, 8)}-${n.slice(8)}`;
  const requestA = {
    teamId: s.teamId,
    child: { name: saga.name, personalNumber: saga.personalNumber, school: 'Björkskolan' },
    guardians: [
      {
        name: anna.name,
        personalNumber: tenWithHyphen(anna.personalNumber),
        phone: '070-111 11 11',
        email: 'anna@hem.example',
      },
      {
        name: erik.name,
        personalNumber: erik.personalNumber,
        phone: '+46 73 222 33 44',
        email: 'erik@hem.example',
      },
    ],
    soleGuardian: false,
    youth: { phone: '076-555 66 77', email: 'saga@hem.example' },
  };
  const requestB = {
    teamId: s.teamId,
    child: { name: minh.name, personalNumber: minh.personalNumber },
    guardians: [
      {
        name: mai.name,
        personalNumber: mai.personalNumber,
        phone: '070-999 88 77',
        email: 'mai@hem.example',
      },
    ],
    soleGuardian: true,
    youth: { phone: '072-444 55 66' },
  };
  const requestC = {
    teamId: s.teamId,
    child: {
      name: zeynep.name,
      personalNumber: zeynep.personalNumber,
      healthCentre: 'Hälsocentralen Norrby',
    },
    guardians: [
      {
        name: lucja.name,
        personalNumber: lucja.personalNumber,
        phone: '070-123 98 76',
        email: 'lucja@hem.example',
      },
      {
        name: mehmet.name,
        personalNumber: tenWithHyphen(mehmet.personalNumber),
        phone: '+46707654321',
        email: 'mehmet@hem.example',
      },
    ],
    soleGuardian: false,
  };
  const withdrawalNote = `${erik.name} ringde och återkallade; nås på ${requestA.guardians[1]!.phone}.`;
  const endNote = `Stödet avslutat efter samtal med ${mai.name} (${requestB.guardians[0]!.email}).`;
  const declineReason = `Jag vill prata med ${lucja.name} först.`;

  // Karin logs in through the development IdP: a staff session, as a real login makes it.
  const staff = new Browser(s.base);
  const login = await staff.login('/auth/staff/login?returnTo=/personal', { person: 'karin-holm' });
  if (login.status !== 303) throw new Error(`staff login: ${login.status}`);
  const searchPage = await staff.get('/personal/sok');
  const csrf = csrfOf(searchPage.body);
  const staffApi: World['staffApi'] = async (method, url, body, headers = {}) =>
    (await s.app.inject({
      method,
      url,
      headers: { cookie: staff.jar.header(), 'x-csrf-token': csrf, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    })) as unknown as Awaited<ReturnType<World['staffApi']>>;

  const create = async (what: string, body: object, headers: Record<string, string> = {}) => {
    const res = await staffApi('POST', '/api/v1/consent-requests', body, headers);
    if (res.statusCode !== 201) throw new Error(`create ${what}: ${res.statusCode}`);
    return res.json() as { id: string; replayed: boolean };
  };
  const a = await create('A', requestA, { 'idempotency-key': 'at-rest-a' });
  const replay = await create('A again', requestA, { 'idempotency-key': 'at-rest-a' });
  t.ok(replay.replayed && replay.id === a.id, 'the retried create is an idempotent replay');
  const b = await create('B', requestB);
  const c = await create('C', requestC);

  // Each signer logs in, reads and signs with the signature's own identification.
  const sign = async (label: string, consentId: string, key: string, extra: Record<string, string> = {}) => {
    const browser = s.browser();
    const logged = await browser.login(`/auth/login?returnTo=${encodeURIComponent(review(consentId))}`, {
      person: key,
    });
    if (logged.status !== 303) throw new Error(`${label}: login ${logged.status}`);
    const page = await browser.get(review(consentId));
    if (page.status !== 200) throw new Error(`${label}: review ${page.status}`);
    const signed = await browser.login(
      {
        path: `/mina-samtycken/${consentId}/signera`,
        form: {
          _csrf: csrfOf(page.body),
          version: hiddenValue(page.body, 'version')!,
          ort: 'Norrby',
          ...extra,
        },
      },
      { person: key },
    );
    if (signed.location !== `/mina-samtycken/${consentId}/underskrivet`)
      throw new Error(`${label}: sign ${signed.status}`);
    return browser;
  };
  const annaBrowser = await sign('A guardian1', a.id, 'anna-lindqvist');
  await sign('A guardian2', a.id, 'erik-lindqvist');
  await sign('A youth', a.id, 'saga-lindqvist');
  await sign('B guardian1', b.id, 'mai-nguyen', { ensam: 'ja' });
  await sign('B youth', b.id, 'minh-nguyen');
  await sign('C guardian1', c.id, 'lucja-sahin');
  t.equal((await annaBrowser.get(`/mina-samtycken/${a.id}/kvittens`)).status, 200, 'a receipt to download');

  // The invitations and "signed by all" messages go out (notifications_sent); later ones stay queued.
  await drainJobs(s.app);

  // C: the second guardian declines, with a reason that names someone.
  const mehmetBrowser = s.browser();
  const mehmetLogin = await mehmetBrowser.login(`/auth/login?returnTo=${encodeURIComponent(review(c.id))}`, {
    person: 'mehmet-sahin',
  });
  if (mehmetLogin.status !== 303) throw new Error(`C guardian2: login ${mehmetLogin.status}`);
  const declinePage = await mehmetBrowser.get(`/mina-samtycken/${c.id}/avboj`);
  const declined = await mehmetBrowser.post(`/mina-samtycken/${c.id}/avboj`, {
    _csrf: csrfOf(declinePage.body),
    anledning: declineReason,
  });
  t.equal(declined.status, 200, 'C declined with a reason');

  // A: a withdrawal by phone registered by staff; B: the support ended. Both with notes.
  const withdrawn = await staffApi('POST', `/api/v1/consents/${a.id}/withdrawals`, {
    role: 'guardian2',
    channel: 'phone',
    date: today,
    note: withdrawalNote,
  });
  t.equal(withdrawn.statusCode, 200, 'A withdrawn, with a note');
  const ended = await staffApi('POST', `/api/v1/consents/${b.id}/end`, { date: today, note: endNote });
  t.equal(ended.statusCode, 200, 'B ended, with a note');

  // Searches by child: an HLT system through the API, and Karin on the staff search page.
  const bearer = await clientBearer(s.app, s.organisationId, ['consent:status', 'consent:read']);
  const apiSearch = await s.app.inject({
    method: 'POST',
    url: '/api/v1/consent-status/search',
    headers: { authorization: bearer },
    payload: { childPersonalNumber: tenWithHyphen(saga.personalNumber) },
  });
  t.equal(apiSearch.statusCode, 200, 'a search by child through the API');
  const pageSearch = await staff.post('/personal/sok', {
    _csrf: csrfOf((await staff.get('/personal/sok')).body),
    personalNumber: minh.personalNumber,
  });
  t.equal(pageSearch.status, 200, 'a search by child on the staff page');

  const data: Datum[] = [];
  const person = (role: string, name: string, number: string) => {
    data.push({ kind: `${role} name`, type: 'name', value: name });
    data.push({ kind: `${role} personal number`, type: 'personal number', value: number });
  };
  const contact = (role: string, c: { phone?: string; email?: string }) => {
    if (c.phone) data.push({ kind: `${role} phone`, type: 'phone', value: c.phone });
    if (c.email) data.push({ kind: `${role} e-mail`, type: 'email', value: c.email });
  };
  for (const [child, request, guardians] of [
    [saga, requestA, [anna, erik]],
    [minh, requestB, [mai]],
    [zeynep, requestC, [lucja, mehmet]],
  ] as const) {
    person('child', child.name, child.personalNumber);
    guardians.forEach((g, i) => {
      person(`guardian${i + 1}`, g.name, g.personalNumber);
      contact(`guardian${i + 1}`, request.guardians[i]!);
    });
    if ('youth' in request) contact('youth', request.youth);
  }
  data.push(
    { kind: 'staff name', type: 'name', value: STAFF.name, allowedIn: STAFF_DIRECTORY },
    { kind: 'staff e-mail', type: 'email', value: STAFF.email, allowedIn: STAFF_DIRECTORY },
    { kind: 'staff phone', type: 'phone', value: STAFF.phone, allowedIn: STAFF_DIRECTORY },
    { kind: 'staff personal number', type: 'personal number', value: karin.personalNumber },
  );
  const given = JSON.stringify({
    requestA,
    requestB,
    requestC,
    withdrawalNote,
    endNote,
    declineReason,
    staff: STAFF,
    numbers: [saga, minh, zeynep, anna, erik, mai, lucja, mehmet, karin].map((x) => x.personalNumber),
  });
  return {
    s,
    data,
    needles: merged(data.flatMap(needlesOf)),
    given,
    ids: { a: a.id, b: b.id, c: c.id },
    staffApi,
    bearer,
  };
}

const report = (what: string, lines: string[]) =>
  lines.length === 0
    ? `no personal data in ${what}`
    : `${lines.length} places hold personal data in ${what} (the diff lists each table.column: kinds)`;

function pgDump(url: string, serverMajor: number): { dump: string } | { skip: string } {
  const tool = findPgDump(serverMajor);
  if ('skip' in tool) return tool;
  const res = spawnSync(tool.path, ['--dbname', url, '--no-owner', '--no-privileges'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (res.status !== 0) throw new Error(`pg_dump exited ${res.status}: ${res.stderr.slice(0, 500)}`);
  return { dump: res.stdout };
}

async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>('SHOW server_version_num');
    return Math.floor(Number(rows[0]!.v) / 10_000);
  } finally {
    await client.end();
  }
}

t.test('issue 16 §1: no personal data at rest', async (t) => {
  const world = await drive(t);
  const { s, needles } = world;

  await t.test('every table of every schema, read with plain SQL, holds no personal data', async (t) => {
    // What the flows stored is there to be found: the scan is not looking at an empty database.
    for (const [what, query] of [
      ['signer sessions', "SELECT count(*) FROM sessions WHERE audience = 'signer'"],
      ['staff sessions', "SELECT count(*) FROM sessions WHERE audience = 'staff'"],
      [
        'signed form revisions',
        "SELECT count(*) FROM consent_documents WHERE kind = 'form' AND revision > 0",
      ],
      ['receipts', "SELECT count(*) FROM consent_documents WHERE kind = 'receipt'"],
      ['idempotent responses', 'SELECT count(*) FROM idempotency_keys WHERE response_body IS NOT NULL'],
      ['searches by child', 'SELECT count(*) FROM child_lookups'],
      ['notifications sent', 'SELECT count(*) FROM notifications_sent'],
      ['queued notification jobs', "SELECT count(*) FROM pgboss.job WHERE state = 'created'"],
    ] as const) {
      const n = await count(s.databaseUrl, query);
      t.ok(n > 0, `stored: ${what} (${n})`);
    }

    const scan = await scanDatabase(s.databaseUrl, needles);
    t.comment(
      `${scan.tables.length} tables read, ${scan.values} values (${scan.byteaValues} bytea) searched for ` +
        `${needles.length} written forms of ${world.data.length} personal data`,
    );
    for (const table of ['public.consents', 'public.consent_signers', 'public.sessions', 'pgboss.job'])
      t.ok(scan.tables.includes(table), `read ${table}`);
    const pdfs = scan.findings.filter((f) => f.kind.startsWith('a readable PDF'));
    t.same(
      todoList(pdfs),
      [],
      report('bytea values (a PDF stored readable: starts with %PDF or holds %PDF-)', todoList(pdfs)),
    );
    const personal = scan.findings.filter((f) => !f.kind.startsWith('a readable PDF'));
    t.same(todoList(personal), [], report('the tables', todoList(personal)));
  });

  const dumped = pgDump(s.databaseUrl, await serverMajor(s.databaseUrl));
  await t.test(
    'a pg_dump of the database holds no personal data',
    { skip: 'skip' in dumped ? dumped.skip : false },
    async (t) => {
      if ('skip' in dumped) return;
      t.match(dumped.dump, /COPY public\.consent_signers /, 'the dump holds the data');
      const lines = todoList(scanDump(dumped.dump, needles));
      t.same(lines, [], report('the pg_dump', lines));
    },
  );

  await t.test('positive control: the search finds the data, and the app still reads it all', async (t) => {
    // The same search over a plain text of what the app was given finds every datum.
    const found = new Set(kindsInText(world.given, needles, 'control'));
    const kinds = [...new Set(world.data.map((d) => d.kind))];
    t.same(
      kinds.filter((k) => !found.has(k)),
      [],
      'every kind of datum is found in plain text',
    );
    const inBytes = new Set(kindsInBytes(Buffer.from(world.given), needles, 'control'));
    t.same(
      kinds.filter((k) => !inBytes.has(k)),
      [],
      'and in its bytes',
    );
    for (const d of world.data.filter((x) => x.type === 'personal number')) {
      const digits = d.value;
      const forms = [...numberForms(digits), `${digits.slice(2, 8)}+${digits.slice(8)}`];
      t.same(
        forms.filter((f) => !kindsInText(`x ${f} x`, needles, 'control').includes(d.kind)),
        [],
        `${d.kind}: every written form is found`,
      );
    }
    for (const d of world.data.filter((x) => x.type === 'phone')) {
      const digits = d.value.replace(/\D/g, '');
      const national = d.value.startsWith('+') ? `0${digits.slice(2)}` : digits;
      const forms = [
        national,
        `+46${national.slice(1)}`,
        `0046 ${national.slice(1)}`,
        `+46 (0)${national}`.replace('(0)0', '(0)'),
      ];
      t.same(
        forms.filter((f) => !kindsInText(`tel ${f};`, needles, 'control').includes(d.kind)),
        [],
        `${d.kind}: as given and normalised`,
      );
    }
    for (const d of world.data.filter((x) => x.type === 'name')) {
      t.ok(kindsInText(d.value.toUpperCase(), needles, 'control').includes(d.kind), `${d.kind}: in capitals`);
    }
    t.ok(isPlainPdf(Buffer.from('%PDF-1.7\n%âãÏÓ\n')), 'a readable PDF is recognised');

    // The whole scan (SQL, bytea, pg_dump) finds plainly stored data; the staff directory is allowed.
    const url = await freshDatabase(t);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE SCHEMA control');
      await client.query('CREATE TABLE control.plain (note text, details jsonb, pdf bytea)');
      await client.query('INSERT INTO control.plain VALUES ($1, $2, $3)', [
        world.given,
        world.given,
        Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(world.given)]),
      ]);
      await client.query(`INSERT INTO staff_users (email, name, phone) VALUES ($1, $2, $3)`, [
        STAFF.email,
        STAFF.name,
        STAFF.phone,
      ]);
    } finally {
      await client.end();
    }
    const control = await scanDatabase(url, needles);
    for (const column of ['note', 'details', 'pdf']) {
      const at = new Set(
        control.findings.filter((f) => f.place === `control.plain.${column}`).map((f) => f.kind),
      );
      t.same(
        kinds.filter((k) => !at.has(k)),
        [],
        `the scan finds every kind in control.plain.${column}`,
      );
    }
    t.ok(
      control.findings.some((f) => f.place === 'control.plain.pdf' && f.kind === 'a readable PDF'),
      'and the readable PDF',
    );
    t.same(
      control.findings.filter((f) => f.place.startsWith('staff_users.')),
      [],
      "the staff member's own account is not a finding",
    );
    const controlDump = pgDump(url, await serverMajor(url));
    if ('skip' in controlDump) t.pass('the pg_dump search', { skip: controlDump.skip });
    else {
      const dumpFindings = scanDump(controlDump.dump, needles);
      for (const column of ['note', 'details', 'pdf']) {
        const at = new Set(
          dumpFindings.filter((f) => f.place === `pg_dump control.plain.${column}`).map((f) => f.kind),
        );
        t.same(
          kinds.filter((k) => !at.has(k)),
          [],
          `the pg_dump search finds every kind in control.plain.${column}`,
        );
      }
    }

    // Encryption must not lose anything: the staff API shows it all back.
    const details = async (id: string) => {
      const res = await world.staffApi('GET', `/api/v1/consents/${id}`);
      t.equal(res.statusCode, 200, 'the consent details');
      return res.json();
    };
    const a = await details(world.ids.a);
    const given = JSON.parse(world.given);
    t.equal(a.child.name, given.requestA.child.name, "A: the child's name");
    t.same(
      a.signers.map((x: { name: string }) => x.name),
      [...given.requestA.guardians.map((g: { name: string }) => g.name), given.requestA.child.name],
      "A: the signers' names",
    );
    t.same(
      a.signers.slice(0, 2).map((x: { contact: unknown }) => x.contact),
      given.requestA.guardians.map((g: { phone: string; email: string }) => ({
        phone: g.phone,
        email: g.email,
      })),
      "A: the guardians' phone numbers and e-mail addresses",
    );
    t.equal(a.obtainedBy.name, STAFF.name, 'A: obtained by');
    t.equal(a.obtainedBy.email, STAFF.email);
    t.equal(a.obtainedBy.phone, STAFF.phone);
    t.equal(a.withdrawal?.note, given.withdrawalNote, 'A: the withdrawal note');
    t.equal(a.documents.receipt, true, 'A: a receipt');
    const b = await details(world.ids.b);
    t.equal(b.ended?.note, given.endNote, 'B: the end note');
    const c = await details(world.ids.c);
    t.equal(c.declined?.reason, given.declineReason, 'C: the decline reason');
    t.equal(c.child.name, given.requestC.child.name, "C: the child's name");

    const search = await s.app.inject({
      method: 'POST',
      url: '/api/v1/consent-status/search',
      headers: { authorization: world.bearer },
      payload: { childPersonalNumber: given.requestA.child.personalNumber },
    });
    t.same(
      search.json().consents.map((x: { id: string }) => x.id),
      [world.ids.a],
      'a search by child still finds the consent',
    );
    for (const [path, what] of [
      ['dokument', 'the signed form'],
      ['kvitto', 'the receipt'],
    ] as const) {
      const res = await world.staffApi('GET', `/samtycken/${world.ids.a}/${path}`);
      t.equal(res.statusCode, 200, `${what} downloads`);
      t.ok(res.rawPayload.subarray(0, 5).equals(Buffer.from('%PDF-')), `${what} is a PDF again`);
    }
  });
});

/** A count with plain SQL, on a connection of its own. */
async function count(url: string, query: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>(query)).rows[0]!.count);
  } finally {
    await client.end();
  }
}

// The public verification page (issue 16 §7): a real signed document from the lifecycle fixtures is
// intact, trusted and issued by us; a changed byte is not intact; a valid PDF we never issued says so; a
// receipt's link is checked against the upload; not a PDF, too big, no file and a second file are clear
// Swedish answers, never a 500; uploads are limited per address; nothing is stored or logged.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Test } from 'tap';
import t from 'tap';
import { latestDocument, listFormRevisions } from '../../../src/consents/documents.repository.ts';
import type { Db } from '../../../src/db/index.ts';
import { verifyUploadedDocument } from '../../../src/consents/verify-document.ts';
import { MAX_UPLOAD_BYTES } from '../../../src/http/verify/index.ts';
import { Trust } from '../../../src/pdf/trust.ts';
import { verificationLink } from '../../../src/pdf/verification-link.ts';
import { lindqvistConsents, type Setup, setup } from '../../fixtures/consents.ts';
import { soleGuardian } from '../../pdf/fixtures/forms.ts';
import { pdftotext, toolTest } from '../../pdf/fixtures/pdf-tools.ts';
import { cn, makeCa } from '../../pdf/helpers/pki.ts';
import { renderAndSign } from '../../pdf/helpers/signing.ts';

const BOUNDARY = '----samtycke-test-boundary';

/** A multipart/form-data body with the given files (field `fil` unless named). */
function multipart(files: { bytes: Uint8Array; filename?: string; field?: string; type?: string }[]) {
  const chunks: Buffer[] = [];
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${f.field ?? 'fil'}"; filename="${f.filename ?? 'dokument.pdf'}"\r\nContent-Type: ${f.type ?? 'application/pdf'}\r\n\r\n`,
      ),
      Buffer.from(f.bytes),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, accept: 'text/html' },
  };
}

async function upload(s: Pick<Setup, 'app'>, bytes: Uint8Array, url = '/verifiera', address = '203.0.113.7') {
  return s.app.inject({ method: 'POST', url, remoteAddress: address, ...multipart([{ bytes }]) });
}

/** Visible text of a page, tags dropped, entities of ours decoded, whitespace folded. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** Rows of every table of ours, by table. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
  const counts: Record<string, number> = {};
  for (const { table_name } of rows) {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table_name)}`.execute(db);
    counts[table_name] = r.rows[0]!.n;
  }
  return counts;
}

/** An app with one consent signed by Anna, Erik and Saga: its id and the stored final form. */
async function signedConsent(t: Test, env: Record<string, string> = {}) {
  const s = await setup(t, { jobs: false, captureLogs: true, env });
  const made = await lindqvistConsents(s.app, s).active('saga');
  const revisions = await listFormRevisions(s.db, s.app.keys, made.id);
  const final = revisions.at(-1)!;
  return { s, consentId: made.id, final, revisions };
}

t.test('the page without login: Swedish, a one-file upload form, the page policy', async (t) => {
  const { s } = await signedConsent(t);
  const res = await s.app.inject({ url: '/verifiera', headers: { accept: 'text/html' } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/html/);
  t.match(String(res.headers['content-security-policy']), /default-src 'none'/);
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.body, '<html lang="sv"');
  t.match(res.body, /<form method="post" action="\/verifiera" enctype="multipart\/form-data"/);
  t.match(res.body, /<input type="file" id="fil" name="fil" accept="application\/pdf,\.pdf" required/);
  t.notMatch(res.body, /<script/i, 'no script');
  t.notMatch(res.body, /style=/i, 'no inline style');
  t.match(textOf(res.body), 'Kontrollera ett underskrivet dokument');
  t.match(textOf(res.body), 'Du behöver inte logga in');
});

t.test(
  'a signed document from the service: every signature intact, trusted; the file issued by us',
  async (t) => {
    const { s, final, consentId } = await signedConsent(t);
    const res = await upload(s, final.bytes);
    t.equal(res.statusCode, 200);
    const text = textOf(res.body);
    t.match(text, 'Dokumentet är äkta och oförändrat');
    t.match(text, 'Har tjänsten lämnat ut den här filen? Ja.');
    for (const [i, role] of ['Vårdnadshavare 1', 'Vårdnadshavare 2', 'Den unge (berörd ungdom)'].entries())
      t.match(text, `Underskrift ${i + 1}: ${role}`, role);
    for (const who of ['anna-lindqvist', 'erik-lindqvist', 'saga-lindqvist'])
      t.match(text, s.person(who).name, `the name in the document: ${who}`);
    t.equal(text.match(/Oförändrad Ja – det som skrevs under är inte ändrat/g)?.length, 3, 'three intact');
    t.equal(text.match(/Går att lita på Ja/g)?.length, 3, 'three trusted');
    t.match(text, /svensk tid, enligt en betrodd tidsstämpel/);
    t.equal(text.match(/Gäller hela dokumentet Ja/g)?.length, 3, 'each covers the document as signed');
    // After each: later signatures, and the validation data (DSS, PAdES B-LT) added after the last one.
    t.equal(text.match(/Ändringar efter underskriften Bara tillåtna/g)?.length, 3, 'only allowed changes');
    t.match(text, final.sha256, "the file's own SHA-256");
    // Nothing more about the consent: not its id, its status, the child's number or anyone's number.
    t.notMatch(res.body, consentId, 'no consent id');
    // (A number not inside the SHA-256's hex, which may hold twelve digits in a row by chance.)
    t.notMatch(res.body, /(?<![0-9a-f])\d{8}-?\d{4}(?![0-9a-f])/, 'no personal identity number');
    t.notMatch(text, /Aktivt|gäller till|Björkskolan|HLT-team/, 'no status, organisation or team');

    // An earlier revision is one we issued too (a guardian's download before the others signed).
    const first = (await listFormRevisions(s.db, s.app.keys, consentId))[1]!;
    const early = textOf((await upload(s, first.bytes)).body);
    t.match(early, 'Har tjänsten lämnat ut den här filen? Ja.');
    t.match(early, 'underskrifter saknas ännu', 'the signatures still missing');
  },
);

t.test(
  'the receipt’s link: the page names the document, and the answer says whether the upload is it',
  async (t) => {
    const { s, final, consentId, revisions } = await signedConsent(t);
    const link = new URL(verificationLink(s.app.config.publicBaseUrl, consentId, final.sha256));
    const url = `${link.pathname}${link.search}`;
    const page = await s.app.inject({ url, headers: { accept: 'text/html' } });
    t.equal(page.statusCode, 200);
    const text = textOf(page.body);
    t.match(text, 'Du kom hit från en kvittens');
    t.match(text, consentId, 'the document id it expects (from the link)');
    t.match(text, final.sha256, 'the hash it expects');
    t.match(page.body, `action="/verifiera?dokument=${consentId}&amp;sha256=${final.sha256}"`);

    const same = textOf((await upload(s, final.bytes, url)).body);
    t.match(same, 'Är det dokumentet som kvittensen gäller? Ja.');
    const earlier = textOf((await upload(s, revisions[1]!.bytes, url)).body);
    t.match(earlier, 'Är det dokumentet som kvittensen gäller? Nej.', 'another revision: not the one');
    // A link with the right hash but another document's id does not vouch for it.
    const forged = `/verifiera?dokument=${randomUUID()}&sha256=${final.sha256}`;
    t.match(textOf((await upload(s, final.bytes, forged)).body), 'kvittensen gäller? Nej.');
    // Malformed link values are ignored: the plain page.
    const bad = await s.app.inject({
      url: '/verifiera?dokument=x&sha256=y',
      headers: { accept: 'text/html' },
    });
    t.equal(bad.statusCode, 200);
    t.notMatch(textOf(bad.body), 'Du kom hit från en kvittens');
  },
);

t.test('a changed byte: not intact, not issued', async (t) => {
  const { s, final, consentId } = await signedConsent(t);
  const bytes = Buffer.from(final.bytes);
  // The document id in the first revision's metadata: same length, the file still reads as a PDF.
  const at = bytes.indexOf(consentId, 0, 'latin1');
  t.ok(
    at > 0 && at < (await listFormRevisions(s.db, s.app.keys, consentId))[0]!.bytes.length,
    'in the first revision',
  );
  bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61;
  const res = await upload(s, bytes);
  t.equal(res.statusCode, 200);
  const text = textOf(res.body);
  t.match(text, 'Dokumentet har ändrats eller en underskrift är trasig');
  t.match(text, 'Oförändrad Nej');
  t.match(text, 'Har tjänsten lämnat ut den här filen? Nej.');
});

t.test('a valid signed PDF the service never issued: signatures fine, "not issued by us"', async (t) => {
  const { s } = await signedConsent(t);
  const { steps } = await renderAndSign(soleGuardian, undefined, ['guardian1']);
  const res = await upload(s, steps.at(-1)!.bytes);
  t.equal(res.statusCode, 200);
  const text = textOf(res.body);
  t.match(text, 'Oförändrad Ja');
  t.match(
    text,
    'Har tjänsten lämnat ut den här filen? Nej. Den här exakta filen har tjänsten inte lämnat ut.',
  );
  t.notMatch(text, 'Dokumentet är äkta och oförändrat');
});

t.test('refusals are Swedish pages with the form, never a 500', async (t) => {
  const { s } = await signedConsent(t);
  const notPdf = await upload(s, Buffer.from('Hej! Det här är ingen PDF.\n'));
  t.equal(notPdf.statusCode, 415);
  t.match(textOf(notPdf.body), 'Filen är ingen PDF som går att läsa');
  t.match(notPdf.body, 'aria-invalid="true"');

  const broken = await upload(s, Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >>\nsomething else'));
  t.equal(broken.statusCode, 415, 'starts like a PDF but is none');

  const empty = await s.app.inject({
    method: 'POST',
    url: '/verifiera',
    ...multipart([{ bytes: new Uint8Array(), filename: '' }]),
  });
  t.equal(empty.statusCode, 400);
  t.match(textOf(empty.body), 'Du har inte valt någon fil');

  const two = await s.app.inject({
    method: 'POST',
    url: '/verifiera',
    ...multipart([{ bytes: Buffer.from('%PDF-1.7') }, { bytes: Buffer.from('%PDF-1.7'), field: 'fil2' }]),
  });
  t.equal(two.statusCode, 400);
  t.match(textOf(two.body), 'Ladda upp en fil i taget');

  const notMultipart = await s.app.inject({
    method: 'POST',
    url: '/verifiera',
    payload: 'fil=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  });
  t.equal(notMultipart.statusCode, 400);
  t.match(textOf(notMultipart.body), 'Välj en PDF-fil');

  const big = await upload(s, Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0x25));
  t.equal(big.statusCode, 413);
  t.match(big.headers['content-type'], /text\/html/);
  t.match(textOf(big.body), 'Filen är för stor. Den får vara högst 15 MB.');
});

t.test('uploads are limited per address: the limit+1-th is a Swedish 429 page', async (t) => {
  const { s } = await signedConsent(t, { RATE_LIMIT_VERIFY_PER_ADDRESS: '3' });
  const pdf = Buffer.from('not a pdf');
  for (let i = 1; i <= 3; i++) t.equal((await upload(s, pdf)).statusCode, 415, `upload ${i}`);
  const over = await upload(s, pdf);
  t.equal(over.statusCode, 429);
  t.match(over.headers['content-type'], /text\/html/);
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After');
  t.match(textOf(over.body), 'För många försök på kort tid');
  t.equal((await upload(s, pdf, '/verifiera', '198.51.100.9')).statusCode, 415, 'another address is not');
  t.equal(
    (await s.app.inject({ url: '/verifiera', remoteAddress: '203.0.113.7' })).statusCode,
    200,
    'the page',
  );
});

t.test('nothing is stored; no personal number, name or hash in the logs', async (t) => {
  const { s, final } = await signedConsent(t);
  const before = await rowCounts(s.db);
  const logsBefore = s.logs.length;
  const tampered = Buffer.from(final.bytes);
  tampered.writeUInt8(tampered.readUInt8(tampered.length - 200) ^ 0x01, tampered.length - 200);
  for (const bytes of [final.bytes, tampered, Buffer.from('ingen pdf')]) await upload(s, bytes);
  t.same(await rowCounts(s.db), before, 'every table has as many rows as before');
  const logs = s.logs.slice(logsBefore).join('\n');
  t.ok(logs.includes('document verified'), 'the verification is logged, as a fact');
  for (const who of ['anna-lindqvist', 'erik-lindqvist', 'saga-lindqvist']) {
    const p = s.person(who);
    t.notOk(logs.includes(p.personalNumber), `no personal number of ${who}`);
    t.notOk(logs.includes(p.personalNumber.slice(2)), `no short personal number of ${who}`);
    t.notOk(logs.includes(p.name), `no name of ${who}`);
  }
  t.notOk(logs.includes(final.sha256), 'no hash of the upload');
  t.notMatch(logs, /%PDF|JVBER/, 'nothing of the file');
});

toolTest('the stored receipt carries the link to this page for its signed form', ['pdftotext'], async (t) => {
  const { s, final, consentId } = await signedConsent(t);
  const receipt = await latestDocument(s.db, s.app.keys, consentId, 'receipt');
  t.ok(receipt, 'a receipt was made at completion');
  const link = verificationLink(s.app.config.publicBaseUrl, consentId, final.sha256);
  t.ok(pdftotext(receipt!.bytes).replace(/\s+/g, '').includes(link), link);
  // The receipt is a file the service issued too; it has no signatures of its own.
  const text = textOf((await upload(s, receipt!.bytes)).body);
  t.match(text, 'Dokumentet har inga underskrifter');
  t.match(text, 'Har tjänsten lämnat ut den här filen? Ja.');
});

t.test('signatures by a certificate outside our trust anchors: intact, not trusted', async (t) => {
  const { s, final } = await signedConsent(t);
  const other = Trust.fromPem(makeCa(cn('Någon annans rot-CA')).pem);
  const result = await verifyUploadedDocument(
    { db: s.db, clock: s.clock, config: s.app.config, trust: other, tsaTrust: other },
    final.bytes,
  );
  t.equal(result.verdict, 'indeterminate');
  t.same(
    result.signatures.map((x) => [x.intact, x.trusted]),
    [
      [true, 'no'],
      [true, 'no'],
      [true, 'no'],
    ],
  );
  t.ok(result.issued, 'still the file we issued (by its hash)');
});

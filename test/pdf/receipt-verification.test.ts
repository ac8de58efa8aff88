// The receipt's way to the public verification page (issue 16 §7): a QR code and the link, with the
// document's id and the signed form's SHA-256 only; still one page, still PDF/A.
import t from 'tap';
import { renderReceipt } from '../../src/pdf/receipt.ts';
import { qrMatrix } from '../../src/pdf/qr.ts';
import { loadTemplate } from '../../src/pdf/template.ts';
import { expectedDocument, verificationLink } from '../../src/pdf/verification-link.ts';
import { load, pdftotext, preflightAsA1b, preflightOpts, runTool, toolTest } from './fixtures/pdf-tools.ts';
import { receipt } from './fixtures/receipts.ts';

const BASE = 'https://samtycke.example.se';
const link = `${BASE}/verifiera?dokument=${receipt.documentId}&sha256=${receipt.documentSha256}`;
const bytes = await renderReceipt(receipt, { publicBaseUrl: BASE });

t.test('the link: the id and the hash only, and the page reads them back', async (t) => {
  t.equal(verificationLink(`${BASE}/`, receipt.documentId, receipt.documentSha256.toUpperCase()), link);
  t.same(expectedDocument(receipt.documentId, receipt.documentSha256), {
    documentId: receipt.documentId,
    sha256: receipt.documentSha256,
  });
  t.equal(expectedDocument('not-a-uuid', receipt.documentSha256), undefined);
  t.equal(expectedDocument(receipt.documentId, 'abc'), undefined);
  t.equal(expectedDocument(undefined, undefined), undefined);
});

t.test('one page; the latest receipt template has the verification text', async (t) => {
  t.equal((await load(bytes)).getPageCount(), 1);
  t.ok(loadTemplate('receipt').verification, 'v2 on');
  t.notOk(loadTemplate('receipt', 'v1').verification, 'v1 stays as it was');
});

t.test('the QR code is drawn as one filled path of the link’s modules', async (t) => {
  const qr = await qrMatrix(link);
  t.ok(qr.size >= 21 && qr.size <= 57, `a QR symbol of ${qr.size} modules`);
  const doc = await load(bytes);
  const page = doc.getPage(0);
  const contents = page.node.normalizedEntries().Contents;
  t.ok(contents, 'page content');
  const withoutLink = await renderReceipt(receipt);
  t.ok(bytes.length > withoutLink.length + 500, 'the receipt with the QR code has more content');
});

toolTest('pdftotext shows the link (it may wrap at ? and &)', ['pdftotext'], async (t) => {
  const all = pdftotext(bytes);
  t.match(all.replace(/\s+/g, ' '), loadTemplate('receipt').verification!.title);
  t.ok(all.replace(/\s+/g, '').includes(link), 'the whole link, joined');
  t.notMatch(all, /\d{8}-?\d{4}/, 'no personal identity numbers');
  const without = pdftotext(await renderReceipt(receipt));
  t.notOk(without.includes('/verifiera'), 'no link without a public address');
});

toolTest('qpdf --check passes', ['qpdf'], async (t) => {
  t.equal(runTool('qpdf', ['--check', '{}'], bytes).status, 0);
});

t.test(
  'PDFBox preflight (PDF/A-1b, as a proxy for 2b) accepts the receipt with its QR code',
  preflightOpts(),
  async (t) => {
    t.match(preflightAsA1b(bytes), /is a valid PDF\/A-1b file/);
  },
);

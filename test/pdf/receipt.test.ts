import { PDFArray, type PDFHexString, PDFName } from '@cantoo/pdf-lib';
import t from 'tap';
import { readDocumentProperties } from '../../src/pdf/pdfa.ts';
import { type ReceiptData, renderReceipt } from '../../src/pdf/receipt.ts';
import { renderConsentForm } from '../../src/pdf/render.ts';
import { loadTemplate } from '../../src/pdf/template.ts';
import { twoGuardiansAndYouth } from './fixtures/forms.ts';
import {
  dict,
  load,
  pdffonts,
  pdftotext,
  preflightAsA1b,
  preflightOpts,
  raw,
  runTool,
  streamBytes,
  text,
  toolTest,
} from './fixtures/pdf-tools.ts';
import { receipt } from './fixtures/receipts.ts';

const bytes = await renderReceipt(receipt);
const template = loadTemplate('receipt');

t.test('one page', async (t) => {
  t.equal((await load(bytes)).getPageCount(), 1);
});

toolTest('qpdf --check passes and every font is embedded', ['qpdf', 'pdffonts'], async (t) => {
  t.equal(runTool('qpdf', ['--check', '{}'], bytes).status, 0, 'qpdf --check');
  const fonts = pdffonts(bytes);
  t.ok(fonts.length > 0);
  for (const f of fonts) t.equal(f.emb, 'yes', `${f.name} embedded`);
});

toolTest(
  'lists each signature: Swedish role, name, Stockholm time, method, level; and the SHA-256',
  ['pdftotext'],
  async (t) => {
    const all = pdftotext(bytes).replace(/\s+/g, ' ');
    t.match(all, template.heading);
    t.match(all, receipt.documentSha256, 'the signed document hash, whole');
    t.match(all, receipt.documentId);
    t.match(all, 'v2', 'the form template version');
    // Signing order, with the role names in Swedish.
    const order = [
      'Vårdnadshavare 1',
      'Jörg Weiß',
      'Vårdnadshavare 2',
      'Åsa Øverby-Đorđević',
      'Berörd ungdom',
      'Zoltán Erdős Weiß',
    ];
    let at = -1;
    for (const s of order) {
      const i = all.indexOf(s, at + 1);
      t.ok(i > at, `"${s}" in order`);
      at = i;
    }
    // 16:05:07Z in March is 17:05:07 CET; 01:10Z on 30 March 2025 is 03:10 CEST (after the switch).
    t.match(all, '2025-03-29 kl. 17:05:07');
    t.match(all, '2025-03-30 kl. 00:59:00');
    t.match(all, '2025-03-30 kl. 03:10:00');
    t.match(all, 'BankID via OpenID Connect');
    t.match(all, 'Freja eID via OpenID Connect');
    t.match(all, '3 (LoA 3)', 'known acr in Swedish');
    t.match(all, 'urn:example:acr:freja-plus', 'unknown acr as given');
    t.match(all, template.noLevel, 'no acr');
    t.match(all, 'https://idp.example.se/oidc');
    t.notMatch(all, /\d{8}-?\d{4}/, 'no personal identity numbers');
  },
);

t.test('PDF/A-2b metadata without personal data; its own file identifier', async (t) => {
  const doc = await load(bytes);
  const xmp = Buffer.from(streamBytes(doc, doc.catalog.get(PDFName.of('Metadata')))).toString('utf8');
  t.match(xmp, '<pdfaid:part>2</pdfaid:part>');
  t.match(xmp, '<pdfaid:conformance>B</pdfaid:conformance>');
  t.ok(doc.catalog.lookup(PDFName.of('OutputIntents'), PDFArray).size() === 1, 'sRGB output intent');
  const info = dict(doc, doc.context.trailerInfo.Info);
  const infoText = info
    .entries()
    .map(([k, v]) => `${k.decodeText()}=${text(v) ?? ''}`)
    .join('\n');
  const plain = raw(bytes);
  for (const s of receipt.signatures) {
    t.notMatch(infoText, s.name);
    t.notMatch(xmp, s.name);
    t.notOk(plain.includes(s.name), `no "${s.name}" outside compressed page content`);
  }
  t.same(await readDocumentProperties(bytes), {
    documentId: receipt.documentId,
    template: 'receipt',
    templateVersion: template.version,
    formTemplateVersion: receipt.templateVersion,
    signedDocumentSha256: receipt.documentSha256,
  });
  const form = await load((await renderConsentForm(twoGuardiansAndYouth)).bytes);
  const id = (d: typeof doc) => ((d.context.trailerInfo.ID as PDFArray).get(0) as PDFHexString).asString();
  t.not(id(doc), id(form), 'the receipt is another file than the form');
});

t.test('invalid receipt data → validation_failed', async (t) => {
  const bad: [string, ReceiptData][] = [
    ['hash', { ...receipt, documentSha256: 'abc' }],
    ['no signatures', { ...receipt, signatures: [] }],
    ['role', { ...receipt, signatures: [{ ...receipt.signatures[0]!, role: 'guardian3' as 'youth' }] }],
    ['unprintable', { ...receipt, signatures: [{ ...receipt.signatures[0]!, name: 'Дмитрий' }] }],
  ];
  for (const [label, data] of bad) await t.rejects(renderReceipt(data), { code: 'validation_failed' }, label);
  await t.rejects(renderReceipt({ ...receipt, receiptTemplateVersion: 'v9' }), {
    code: 'template_not_found',
  });
});

t.test('PDFBox preflight (PDF/A-1b, as a proxy for 2b) accepts the receipt', preflightOpts(), async (t) => {
  t.match(preflightAsA1b(bytes), /is a valid PDF\/A-1b file/);
});

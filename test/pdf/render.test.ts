import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fontkit from '@cantoo/fontkit';
import { PDFArray, PDFDict, PDFHexString, PDFName, PDFRawStream } from '@cantoo/pdf-lib';
import fc from 'fast-check';
import t from 'tap';
import { fontFilePath, fontMetrics, loadFontBytes } from '../../src/pdf/fonts.ts';
import { fitText, wrapText } from '../../src/pdf/layout.ts';
import { ICC_PROFILE_PATH, readDocumentProperties } from '../../src/pdf/pdfa.ts';
import { type ConsentFormData, renderConsentForm, SIGNATURE_BOX } from '../../src/pdf/render.ts';
import {
  latestTemplateVersion,
  loadTemplate,
  parseTemplate,
  templateVersions,
} from '../../src/pdf/template.ts';
import { longNames, NAME_60, soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';
import {
  dict,
  get,
  load,
  num,
  numbers,
  pdffonts,
  pdftotext,
  preflightAsA1b,
  preflightOpts,
  raw,
  runTool,
  signatureFields,
  streamBytes,
  text,
  toolTest,
} from './fixtures/pdf-tools.ts';

// A Vietnamese name: Latin Extended Additional (ễ, ị, Á with NFC precomposed forms).
const soleWithYouth: ConsentFormData = {
  ...soleGuardian,
  youthSigns: true,
  guardian1: { ...soleGuardian.guardian1, name: 'Nguyễn Thị Ánh Tuyết' },
};
const variants = { soleGuardian, soleWithYouth, twoGuardiansAndYouth, longNames } as const;
const rendered = Object.fromEntries(
  await Promise.all(Object.entries(variants).map(async ([k, v]) => [k, await renderConsentForm(v)] as const)),
);
const two = rendered.twoGuardiansAndYouth!;

/** Every piece of personal data in a form's input: names, numbers (raw and printed), phones, e-mail. */
function personalData(d: ConsentFormData): string[] {
  const people = [d.guardian1, d.guardian2, d.child].filter((p) => p !== undefined);
  return [
    ...people.flatMap((p) => [
      p.name,
      p.personalNumber,
      `${p.personalNumber.slice(0, 8)}-${p.personalNumber.slice(8)}`,
    ]),
    ...[
      d.guardian1.phone,
      d.guardian2?.phone,
      d.obtainedBy.name,
      d.obtainedBy.phone,
      d.obtainedBy.email,
    ].filter((v): v is string => !!v),
  ];
}

/** Both the plain and the UTF-16 hex spelling, since PDF strings may be either. */
function spellings(s: string): string[] {
  const hex = PDFHexString.fromText(s).asString().slice(5, -1); // drop "<FEFF" and ">"
  return [s, hex, hex.toLowerCase()];
}

t.test('signature fields: one empty /Sig field per applicable role, widget in the role block', async (t) => {
  const expected = {
    soleGuardian: ['guardian1'],
    soleWithYouth: ['guardian1', 'youth'],
    twoGuardiansAndYouth: ['guardian1', 'guardian2', 'youth'],
    longNames: ['guardian1', 'guardian2', 'youth'],
  };
  for (const [variant, roles] of Object.entries(expected)) {
    const r = rendered[variant]!;
    t.same(r.roles, roles, `${variant}: roles`);
    const doc = await load(r.bytes);
    const fields = signatureFields(doc);
    t.same(
      fields.map((f) => f.name),
      roles,
      `${variant}: field names`,
    );
    const pages = doc.getPages();
    for (const f of fields) {
      const d = f.dict;
      t.equal(text(d.get(PDFName.of('FT'))), 'Sig', `${f.name}: /FT /Sig`);
      t.equal(text(d.get(PDFName.of('Type'))), 'Annot', `${f.name}: merged field and widget`);
      t.equal(text(d.get(PDFName.of('Subtype'))), 'Widget');
      t.equal(num(d.get(PDFName.of('F'))), 4, `${f.name}: /F 4 (print)`);
      t.notOk(d.has(PDFName.of('V')), `${f.name}: unsigned`);
      t.ok(f.pageIndex >= 0, `${f.name}: /P is a page`);
      const annots = pages[f.pageIndex]!.node.lookup(PDFName.of('Annots'), PDFArray);
      t.ok(
        annots.asArray().some((a) => doc.context.lookup(a) === d),
        `${f.name}: listed in its page's /Annots`,
      );
      const [x1, y1, x2, y2] = f.rect as [number, number, number, number];
      t.equal(Math.round(x2 - x1), SIGNATURE_BOX.width, `${f.name}: ${SIGNATURE_BOX.width} pt wide`);
      t.equal(Math.round(y2 - y1), SIGNATURE_BOX.height, `${f.name}: ${SIGNATURE_BOX.height} pt high`);
      const { width, height } = pages[f.pageIndex]!.getSize();
      t.ok(x1 >= 0 && y1 >= 0 && x2 <= width && y2 <= height, `${f.name}: on the page`);
      // PDF/A: a widget needs an appearance; the blank one is replaced when signed.
      const ap = get(doc, d, 'AP');
      t.ok(ap instanceof PDFDict && get(doc, ap, 'N') instanceof PDFRawStream, `${f.name}: /AP /N stream`);
    }
    // No two widgets overlap.
    for (const a of fields) {
      for (const b of fields) {
        if (a === b || a.pageIndex !== b.pageIndex) continue;
        const overlap =
          a.rect[0]! < b.rect[2]! &&
          b.rect[0]! < a.rect[2]! &&
          a.rect[1]! < b.rect[3]! &&
          b.rect[1]! < a.rect[3]!;
        t.notOk(overlap, `${variant}: ${a.name} and ${b.name} do not overlap`);
      }
    }
  }
});

toolTest('each widget sits in its own role block, under that role title', ['pdftotext'], async (t) => {
  const doc = await load(two.bytes);
  const template = loadTemplate('hlt-consent', two.templateVersion);
  const sigSection = template.sections.find((s) => s.kind === 'signatures')!;
  if (sigSection.kind !== 'signatures') throw new Error('unreachable');
  const { height } = doc.getPages()[0]!.getSize();
  for (const f of signatureFields(doc)) {
    // Words inside the rectangle's row band, from pdftotext's word boxes on that page.
    const html = pdftotext(two.bytes, '-bbox', '-f', String(f.pageIndex + 1), '-l', String(f.pageIndex + 1));
    const words = [
      ...html.matchAll(/xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</g),
    ].map((m) => ({ x1: +m[1]!, y1: height - +m[4]!, x2: +m[3]!, y2: height - +m[2]!, w: m[5]! }));
    const [rx1, ry1, rx2, ry2] = f.rect as [number, number, number, number];
    t.notOk(
      words.some((w) => w.x1 < rx2 && w.x2 > rx1 && w.y1 < ry2 && w.y2 > ry1),
      `${f.name}: no printed text inside the signature box`,
    );
    // The role's title is the nearest role title above the box, on the left.
    const roleTitle = sigSection.roles[f.name as 'guardian1' | 'guardian2' | 'youth'];
    const firstWord = roleTitle.split(' ')[0]!;
    const titles = words.filter(
      (w) => Object.values(sigSection.roles).some((r) => r.startsWith(w.w)) && w.x2 < rx1,
    );
    const above = titles.filter((w) => w.y1 > ry1 && w.y1 < ry2 + 40).sort((a, b) => a.y1 - b.y1);
    t.equal(above[0]?.w, firstWord, `${f.name}: block titled "${roleTitle}"`);
  }
});

t.test(
  'AcroForm /DR names the embedded fonts, embedded whole: any glyph of the file is usable',
  async (t) => {
    const doc = await load(two.bytes);
    const acroForm = dict(doc, doc.catalog.get(PDFName.of('AcroForm')));
    const fonts = dict(doc, get(doc, dict(doc, get(doc, acroForm, 'DR')), 'Font'));
    for (const [resource, weight] of [
      ['SamtyckeSans', 'regular'],
      ['SamtyckeSansBold', 'bold'],
    ] as const) {
      const type0 = dict(doc, fonts.get(PDFName.of(resource)));
      t.equal(text(type0.get(PDFName.of('Subtype'))), 'Type0', `${resource}: Type0`);
      t.equal(text(type0.get(PDFName.of('Encoding'))), 'Identity-H');
      const cid = dict(doc, (get(doc, type0, 'DescendantFonts') as PDFArray).get(0));
      t.equal(text(cid.get(PDFName.of('CIDToGIDMap'))), 'Identity', `${resource}: CID = glyph id`);
      const descriptor = dict(doc, cid.get(PDFName.of('FontDescriptor')));
      const program = streamBytes(doc, descriptor.get(PDFName.of('FontFile2')));
      t.ok(
        Buffer.from(program).equals(Buffer.from(loadFontBytes(weight))),
        `${resource}: the font file, byte for byte`,
      );

      // 'Ŧ' (U+0166) and 'ǯ' (U+01EF) appear nowhere in the form's text, yet must be drawable later.
      const m = fontMetrics(weight);
      const embedded = fontkit.create(program);
      if (!('glyphForCodePoint' in embedded)) throw new Error('font collection');
      const w = widthsByCid(cid.get(PDFName.of('W')) as PDFArray);
      const toUnicode = Buffer.from(streamBytes(doc, type0.get(PDFName.of('ToUnicode')))).toString('latin1');
      for (const ch of ['Ŧ', 'ǯ', '€', '—']) {
        const cp = ch.codePointAt(0)!;
        const glyph = embedded.glyphForCodePoint(cp)!;
        const gid = glyph.id;
        t.ok(gid > 0, `${resource}: ${ch} is in the embedded font program`);
        t.equal(gid, m.glyphId(cp), `${resource}: ${ch}: fontkit glyph id on the file = CID we would write`);
        const expected = (glyph.advanceWidth * 1000) / embedded.unitsPerEm;
        t.ok(
          Math.abs((w.get(gid) ?? -1000) - expected) <= 0.5,
          `${resource}: ${ch}: /W width matches the font`,
        );
        t.match(toUnicode, `<${gid.toString(16).padStart(4, '0')}> <${cp.toString(16).padStart(4, '0')}>`);
      }
    }
    t.ok(readFileSync(fontFilePath.regular).length < 60_000, 'the pre-subset font file stays under 60 KB');
  },
);

function widthsByCid(w: PDFArray): Map<number, number> {
  const out = new Map<number, number>();
  const items = w.asArray();
  for (let i = 0; i < items.length;) {
    const first = num(items[i])!;
    const next = items[i + 1];
    if (next instanceof PDFArray) {
      for (const [k, width] of numbers(next).entries()) out.set(first + k, width);
      i += 2;
    } else {
      const last = num(next)!;
      for (let c = first; c <= last; c++) out.set(c, num(items[i + 2])!);
      i += 3;
    }
  }
  return out;
}

toolTest('qpdf --check passes and every font is embedded', ['qpdf', 'pdffonts'], async (t) => {
  for (const [variant, r] of Object.entries(rendered)) {
    const check = runTool('qpdf', ['--check', '{}'], r.bytes);
    t.equal(check.status, 0, `${variant}: qpdf --check exit 0`);
    t.match(check.out, /No syntax or stream encoding errors/);
    const fonts = pdffonts(r.bytes);
    t.ok(fonts.length >= 1, `${variant}: has fonts`);
    for (const f of fonts) t.equal(f.emb, 'yes', `${variant}: ${f.name} embedded`);
  }
});

toolTest(
  'text: sections in order, heading with the area, names, numbers, footer',
  ['pdftotext'],
  async (t) => {
    const template = loadTemplate('hlt-consent', two.templateVersion);
    const lines = pdftotext(two.bytes)
      .split('\n')
      .map((l) => l.trim());
    const order = [
      'Samtyckesblankett',
      'Hälsa, Lärande, Trygghet (HLT) i Umeå',
      ...template.sections.map((s) => s.title),
    ];
    let at = -1;
    for (const title of order) {
      const found = lines.findIndex((l, i) => i > at && l === title);
      t.ok(found > at, `"${title}" after the previous section`);
      at = found;
    }
    const all = lines.join('\n');
    for (const name of ['Jörg Weiß', 'Åsa Øverby-Đorđević', 'Zoltán Erdős Weiß']) t.match(all, name);
    // Sole-guardian fixture: Ł, Ş, Ć.
    const sole = pdftotext(rendered.soleGuardian!.bytes);
    for (const s of ['Łucja Şahin', 'Ćwik Åström', 'Hälsa, Lärande, Trygghet (HLT) i Sollefteå'])
      t.match(sole, s);

    // Personal identity numbers: printed in full, YYYYMMDD-XXXX, once, in the person's own field.
    for (const pn of ['19790101-9999', '19811224-1234', '20110505-7777']) {
      t.equal(all.split(pn).length - 1, 1, `${pn} printed once`);
    }
    t.notMatch(all, /\d{12}/, 'no unformatted 12-digit numbers');

    // The statement names the organisation, the organisation section too.
    t.equal(all.split('Socialtjänsten, Umeå kommun').length - 1, 2);

    const pages = (await load(two.bytes)).getPageCount();
    for (let p = 1; p <= pages; p++) {
      const pageText = pdftotext(two.bytes, '-f', String(p), '-l', String(p));
      t.match(pageText, `Sida ${p} av ${pages}`, `footer page ${p}`);
      t.match(pageText, `Dokument-id: ${twoGuardiansAndYouth.documentId}`);
      t.match(pageText, `Blankettversion: ${two.templateVersion}`);
    }
  },
);

toolTest('sole guardian: ticked box, no second guardian', ['pdftotext'], async (t) => {
  const sole = pdftotext(rendered.soleGuardian!.bytes);
  t.match(sole, /X\s+Jag är ensam vårdnadshavare/, 'the box is ticked');
  t.notMatch(sole, 'Vårdnadshavare 2');
  t.notMatch(sole, 'Berörd ungdom', 'no youth block when the youth does not sign');
  t.match(pdftotext(rendered.soleWithYouth!.bytes), 'Berörd ungdom');
  t.match(pdftotext(rendered.soleWithYouth!.bytes), 'Nguyễn Thị Ánh Tuyết', 'Vietnamese letters print');
  t.notMatch(pdftotext(two.bytes), /X\s+Jag är ensam vårdnadshavare/, 'unticked with two guardians');
});

toolTest(
  'long names and organisation names wrap or shrink, never cut or overflow',
  ['pdftotext'],
  async (t) => {
    t.equal(NAME_60.length, 60);
    const r = rendered.longNames!;
    // Lines may break at spaces or after a hyphen: compare with breaks undone.
    const flat = pdftotext(r.bytes)
      .replace(/-\s*\n\s*/g, '-')
      .replace(/\s+/g, ' ');
    t.equal(
      flat.split(NAME_60).length - 1,
      2,
      'the 60-character name, whole, in its field and its signature block',
    );
    for (const s of [
      longNames.child.name,
      longNames.child.school!,
      longNames.child.healthCentre!,
      longNames.requestingOrganisation.name,
    ]) {
      t.match(flat, s, `whole: ${s.slice(0, 30)}…`);
    }
    // Every word lies within the page's margins (nothing runs off the side).
    const doc = await load(r.bytes);
    const layout = loadTemplate('hlt-consent', r.templateVersion).layout;
    for (let p = 1; p <= doc.getPageCount(); p++) {
      const html = pdftotext(r.bytes, '-bbox', '-f', String(p), '-l', String(p));
      const xs = [...html.matchAll(/xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"/g)].map((m) => [
        +m[1]!,
        +m[2]!,
      ]);
      t.ok(xs.length > 20, `page ${p} has words`);
      t.ok(
        xs.every(
          ([x1, x2]) =>
            x1! >= layout.margin.left - 0.5 && x2! <= layout.pageSize[0] - layout.margin.right + 0.5,
        ),
        `page ${p}: all words inside the margins`,
      );
    }
  },
);

t.test('layout: fitted and wrapped text keeps every character and fits its width', async (t) => {
  const m = fontMetrics('regular');
  const chars = [...'abcdefghij klmnopqrstuvwxyzåäöÅÄÖ ŁŞĆßØĐőŦǯ-–W '];
  fc.assert(
    fc.property(
      fc
        .array(fc.constantFrom(...chars), { minLength: 1, maxLength: 200 })
        .map((a) => a.join('').replace(/ +/g, ' ').trim()),
      fc.integer({ min: 40, max: 480 }),
      (s, maxWidth) => {
        if (!s) return;
        const fit = fitText(s, m, { size: 10.5, minSize: 8.5, maxWidth });
        for (const line of fit.lines) {
          // A single character wider than the box is the one case allowed to exceed it.
          if ([...line].length > 1 && m.widthOf(line, fit.size) > maxWidth + 1e-6)
            throw new Error(`overflow: ${line}`);
        }
        // Lines joined by the spaces the breaks replaced (or nothing after a break inside a word).
        const joined = fit.lines.join('\n');
        if (
          joined.replace(/\n/g, ' ') !== s &&
          joined.replace(/\n/g, '') !== s.replace(/ /g, '') &&
          !sameChars(joined, s)
        ) {
          throw new Error(`text changed: ${JSON.stringify(s)} → ${JSON.stringify(fit.lines)}`);
        }
      },
    ),
  );
  t.same(wrapText('Anna-Karin Öberg-Łukasiewicz', m, 10, 60), ['Anna-Karin', 'Öberg-', 'Łukasiewicz']);
  t.same(fitText('Kort', m, { size: 10.5, minSize: 8.5, maxWidth: 200 }).lines, ['Kort']);
  const shrunk = fitText('Ett namn som nästan får plats', m, { size: 10.5, minSize: 8.5, maxWidth: 140 });
  t.equal(shrunk.lines.length, 1, 'shrinks rather than wraps when it can');
  t.ok(shrunk.size < 10.5 && shrunk.size >= 8.5);
});

/** Same non-space characters in the same order. */
const sameChars = (a: string, b: string): boolean => a.replace(/\s/g, '') === b.replace(/\s/g, '');

t.test('no personal data in document info, XMP, file identifiers or widget names', async (t) => {
  for (const [variant, r] of Object.entries(rendered)) {
    const doc = await load(r.bytes);
    const info = dict(doc, doc.context.trailerInfo.Info);
    const infoText = info
      .entries()
      .map(([k, v]) => `${k.decodeText()}=${text(v) ?? ''}`)
      .join('\n');
    const xmp = Buffer.from(streamBytes(doc, doc.catalog.get(PDFName.of('Metadata')))).toString('utf8');
    const widgets = signatureFields(doc)
      .map((f) => `${f.name} ${text(f.dict.get(PDFName.of('TU')))}`)
      .join('\n');
    // The raw file outside compressed streams: dictionaries, XMP, trailer.
    const plain = raw(r.bytes);
    for (const pd of personalData(variants[variant as keyof typeof variants])) {
      t.notMatch(infoText, pd, `${variant}: Info has no "${pd}"`);
      t.notMatch(xmp, pd, `${variant}: XMP has no "${pd}"`);
      t.notMatch(widgets, pd, `${variant}: widgets have no "${pd}"`);
      for (const sp of spellings(pd))
        t.notOk(plain.includes(sp), `${variant}: uncompressed bytes have no "${pd}"`);
    }
    t.match(infoText, `Title=Samtyckesblankett HLT ${variants[variant as keyof typeof variants].documentId}`);
  }
});

t.test('PDF/A-2b structure', async (t) => {
  const r = two;
  const doc = await load(r.bytes);
  t.match(
    raw(r.bytes.subarray(0, 16)),
    /^%PDF-1\.7\n%[\x80-\xff]{4}/,
    'PDF 1.7 header with a binary comment',
  );
  const xmp = Buffer.from(streamBytes(doc, doc.catalog.get(PDFName.of('Metadata')))).toString('utf8');
  t.match(xmp, '<pdfaid:part>2</pdfaid:part>');
  t.match(xmp, '<pdfaid:conformance>B</pdfaid:conformance>');
  t.match(xmp, '<pdfaSchema:prefix>samtycke</pdfaSchema:prefix>', 'our XMP properties are declared');
  t.match(xmp, `<samtycke:templateVersion>${r.templateVersion}</samtycke:templateVersion>`);
  const metadata = doc.context.lookup(doc.catalog.get(PDFName.of('Metadata')));
  t.notOk(
    metadata instanceof PDFRawStream && metadata.dict.has(PDFName.of('Filter')),
    'XMP is not compressed',
  );

  const intents = doc.catalog.lookup(PDFName.of('OutputIntents'), PDFArray);
  t.equal(intents.size(), 1);
  const intent = dict(doc, intents.get(0));
  t.equal(text(intent.get(PDFName.of('S'))), 'GTS_PDFA1');
  const icc = get(doc, intent, 'DestOutputProfile');
  t.ok(icc instanceof PDFRawStream && num(icc.dict.get(PDFName.of('N'))) === 3, 'RGB profile');
  t.ok(Buffer.from(streamBytes(doc, icc)).equals(readFileSync(ICC_PROFILE_PATH)), 'embeds our sRGB.icc');

  const id = doc.context.trailerInfo.ID;
  t.ok(id instanceof PDFArray, 'trailer /ID');
  const first = (id as PDFArray).get(0);
  t.equal(
    first instanceof PDFHexString ? first.asString().toLowerCase() : '',
    twoGuardiansAndYouth.documentId.replace(/-/g, ''),
    'the first /ID is the document id',
  );
  t.notOk(doc.context.trailerInfo.Encrypt, 'not encrypted');
  const plain = raw(r.bytes);
  t.notMatch(
    plain,
    /\/(JavaScript|JS|OpenAction|AA|Launch|EmbeddedFiles)\b/,
    'no JavaScript, actions or attachments',
  );
  const acroForm = dict(doc, doc.catalog.get(PDFName.of('AcroForm')));
  t.notOk(acroForm.has(PDFName.of('NeedAppearances')), 'no NeedAppearances');
  t.notOk(acroForm.has(PDFName.of('XFA')), 'no XFA');
  t.equal(text(doc.catalog.get(PDFName.of('Lang'))), 'sv-SE');
});

t.test('PDFBox preflight (PDF/A-1b, as a proxy for 2b) accepts the form', preflightOpts(), async (t) => {
  for (const [variant, r] of Object.entries(rendered)) {
    t.match(preflightAsA1b(r.bytes), /is a valid PDF\/A-1b file/, `${variant}: valid`);
  }
});

t.test('two template versions render, and the document records its version', async (t) => {
  t.same(templateVersions('hlt-consent').slice(0, 2), ['v1', 'v2']);
  t.equal(latestTemplateVersion('hlt-consent'), templateVersions('hlt-consent').at(-1));
  t.equal(two.templateVersion, latestTemplateVersion('hlt-consent'), 'default: latest');
  const v1 = await renderConsentForm({ ...twoGuardiansAndYouth, templateVersion: 'v1' });
  t.equal(v1.templateVersion, 'v1');
  t.same(await readDocumentProperties(v1.bytes), {
    documentId: twoGuardiansAndYouth.documentId,
    template: 'hlt-consent',
    templateVersion: 'v1',
  });
  t.equal((await readDocumentProperties(two.bytes)).templateVersion, two.templateVersion);
});

toolTest('each template version prints its own wording and version', ['pdftotext'], async (t) => {
  const v1 = await renderConsentForm({ ...twoGuardiansAndYouth, templateVersion: 'v1' });
  const t1 = pdftotext(v1.bytes).replace(/\s+/g, ' ');
  const t2 = pdftotext(two.bytes).replace(/\s+/g, ' ');
  t.match(t1, 'Blankettversion: v1');
  t.match(t1, 'Samtycket gäller i högst ett år från den dag det skrevs under.');
  t.match(t2, 'räknat från dagen för den första underskriften');
  t.notMatch(t1, 'första underskriften', 'v1 keeps its own wording');
});

toolTest(
  'v3: title, heading naming the model once, the 18th-birthday limit, the staff phone',
  ['pdftotext'],
  async (t) => {
    const flat = (bytes: Uint8Array) => pdftotext(bytes).replace(/\s+/g, ' ');
    t.equal(latestTemplateVersion('hlt-consent'), 'v3', 'new consents get v3');
    for (const area of ['Exempelby', 'HLT Exempelby', 'HLT i Exempelby', 'Exempelby HLT', 'HLT-Exempelby']) {
      const r = await renderConsentForm({ ...soleGuardian, area });
      t.equal(r.templateVersion, 'v3');
      const all = flat(r.bytes);
      t.match(
        all,
        /^Samtyckesblankett Hälsa, Lärande, Trygghet \(HLT\) i Exempelby Samtycke till samverkan/,
        area,
      );
      t.equal(all.split('Hälsa, Lärande, Trygghet').length - 1, 1, `${area}: the model's name once`);
      t.notMatch(all, /HLT\)? i HLT|HLT HLT/, `${area}: no double HLT`);
    }
    const only = flat((await renderConsentForm({ ...soleGuardian, area: 'HLT' })).bytes);
    t.match(only, /^Samtyckesblankett Hälsa, Lärande, Trygghet \(HLT\) Samtycke till/, 'area "HLT" alone');

    const sole = flat((await renderConsentForm(soleGuardian)).bytes);
    t.match(
      sole,
      'Samtycket gäller i högst ett år, räknat från dagen för den första underskriften. ' +
        'Det upphör alltid senast den dag barnet fyller 18 år.',
    );
    // "Samtycket inhämtades av": the staff member's phone, in its box, when the staff gave one.
    const obtained = sole.slice(sole.indexOf('Samtycket inhämtades av'));
    t.match(obtained, /Telefon E-post 0620-68 20 00 karin\.oberg@example\.se/, 'the staff phone is printed');
    // Without one, the box says "–" like every other field left empty (see the README in the template).
    const none = flat(two.bytes);
    t.match(
      none.slice(none.indexOf('Samtycket inhämtades av')),
      /Telefon E-post – per\.lindqvist@example\.se/,
    );
  },
);

toolTest('v1 and v2 keep their own wording: no title, the area as it was', ['pdftotext'], async (t) => {
  for (const v of ['v1', 'v2']) {
    const all = pdftotext(
      (await renderConsentForm({ ...soleGuardian, templateVersion: v, area: 'HLT Exempelby' })).bytes,
    ).replace(/\s+/g, ' ');
    t.match(all, /^Hälsa, Lärande, Trygghet i HLT Exempelby Samtycke till/, `${v}: heading as before`);
    t.notMatch(all, 'Samtyckesblankett', `${v}: no title`);
    t.notMatch(all, '18 år', `${v}: no 18-year sentence`);
  }
});

/**
 * Hashes of the v1 and v2 forms as rendered before v3 existed, with the creation time (the only thing that
 * differs between two renders) masked. A stored consent names its template version; re-rendering it must
 * give the same document. If a deliberate change to the renderer moves these, it needs a new version.
 */
const OLD_VERSIONS: Record<string, Record<string, string>> = {
  v1: {
    soleGuardian: '5ba0f87e75d7756dfe988e27117ba2ca07382b85b1013775a339c0203e68c55a',
    twoGuardiansAndYouth: '7bac50482b0821ec672a615bae17ebd212e52965f2f20051e6ff15d55705b63f',
    longNames: '232c38b9f2ebacd7a1ee0ab59b591960402f91148a8cad9a8983b9b366390b25',
  },
  v2: {
    soleGuardian: '04b3b5cf923a323b8351704736909f4480e946fad05d789b88f96169c30c9c31',
    twoGuardiansAndYouth: '90218c3df6a7735aba1cc9f075d18c61a572d1d0ba9afdb8a9195259e6764ad1',
    longNames: 'b43eee78dbcd9ea8e3607a02aeddd417b4d7213221aea879fabb005606d5203c',
  },
};

t.test('v1 and v2 render byte for byte as before (creation time aside)', async (t) => {
  const forms = { soleGuardian, twoGuardiansAndYouth, longNames };
  const masked = (bytes: Uint8Array): string => {
    const s = Buffer.from(bytes)
      .toString('latin1')
      .replace(/D:\d{14}Z/g, 'D:00000000000000Z')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, '0000-00-00T00:00:00Z');
    return createHash('sha256').update(Buffer.from(s, 'latin1')).digest('hex');
  };
  for (const [version, hashes] of Object.entries(OLD_VERSIONS)) {
    for (const [name, hash] of Object.entries(hashes)) {
      const r = await renderConsentForm({ ...forms[name as keyof typeof forms], templateVersion: version });
      t.equal(masked(r.bytes), hash, `${version} ${name}`);
    }
  }
});

t.test('unknown template version → template_not_found', async (t) => {
  for (const v of ['v99', 'v0', '../receipt/v1', 'latest', '']) {
    await t.rejects(
      renderConsentForm({ ...soleGuardian, templateVersion: v }),
      { code: 'template_not_found' },
      v,
    );
  }
});

t.test('a template that does not validate is refused when it loads', async (t) => {
  const good = JSON.parse(JSON.stringify(loadTemplate('hlt-consent', 'v1'))) as Record<string, unknown> & {
    sections: { kind: string; points?: string[]; rows?: { width: number }[][] }[];
  };
  t.doesNotThrow(() => parseTemplate('hlt-consent', good), 'v1 as loaded is valid');
  const variants: [string, (x: typeof good) => void][] = [
    [
      'misspelt placeholder',
      (x) => x.sections.find((s) => s.kind === 'statement')!.points!.splice(0, 1, '{organisatoin} får'),
    ],
    [
      'placeholder where none is filled',
      (x) => {
        x.intro = 'HLT i {area}';
      },
    ],
    [
      'heading without the area',
      (x) => {
        x.heading = 'Hälsa, Lärande, Trygghet';
      },
    ],
    [
      'a section missing',
      (x) =>
        void x.sections.splice(
          x.sections.findIndex((s) => s.kind === 'child'),
          1,
        ),
    ],
    ['a section twice', (x) => void x.sections.push(x.sections[0]!)],
    [
      'row wider than the page',
      (x) => {
        x.sections[0]!.rows![0]![0]!.width = 0.9;
      },
    ],
    [
      'only three statement points',
      (x) => void x.sections.find((s) => s.kind === 'statement')!.points!.pop(),
    ],
    [
      'unknown key',
      (x) => {
        x.colour = 'red';
      },
    ],
  ];
  for (const [label, change] of variants) {
    const bad = JSON.parse(JSON.stringify(good)) as typeof good;
    change(bad);
    t.throws(() => parseTemplate('hlt-consent', bad), label);
  }
});

t.test('invalid input → validation_failed, naming fields but not their values', async (t) => {
  const cases: [string, ConsentFormData, string][] = [
    ['sole guardian with a second guardian', { ...twoGuardiansAndYouth, soleGuardian: true }, 'guardian2'],
    ['two guardians without the second', { ...soleGuardian, soleGuardian: false }, 'guardian2'],
    [
      '10-digit number',
      { ...soleGuardian, child: { ...soleGuardian.child, personalNumber: '1803154321' } },
      'child.personalNumber',
    ],
    ['not a uuid', { ...soleGuardian, documentId: 'abc' }, 'documentId'],
    [
      'characters the font lacks',
      { ...soleGuardian, child: { ...soleGuardian.child, name: 'Дмитрий 王' } },
      'child.name',
    ],
  ];
  for (const [label, data, field] of cases) {
    const err = await renderConsentForm(data).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; extra?: { fields: string[] } },
    );
    t.equal(err?.code, 'validation_failed', label);
    t.ok(err?.extra?.fields.includes(field), `${label}: names ${field}`);
    for (const pd of personalData(data))
      t.notMatch(err?.message ?? '', pd, `${label}: message has no personal data`);
  }
});

toolTest(
  'input text is normalised: decomposed letters print as the composed ones',
  ['pdftotext'],
  async (t) => {
    const decomposed = 'A\u030Asa O\u0308berg'; // Å and Ö as letter + combining mark
    const r = await renderConsentForm({
      ...soleGuardian,
      guardian1: { ...soleGuardian.guardian1, name: decomposed },
    });
    t.match(pdftotext(r.bytes), 'Åsa Öberg');
  },
);

t.test('speed and size', async (t) => {
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    await renderConsentForm(twoGuardiansAndYouth);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[25]!;
  t.comment(
    `render median over 50: ${median.toFixed(1)} ms; sizes: ${Object.entries(rendered)
      .map(([k, r]) => `${k} ${r.bytes.length} B`)
      .join(', ')}`,
  );
  // Generous bounds: they catch a lost cache (font parsing per render is ~10× slower), not a slow machine.
  t.ok(median < 100, 'median render under 100 ms');
  for (const [variant, r] of Object.entries(rendered)) {
    t.ok(r.bytes.length < 80_000, `${variant}: under 80 KB, leaving room for three signatures in 150 KB`);
  }
  t.match(two.sha256, /^[0-9a-f]{64}$/);
});

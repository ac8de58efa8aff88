// Skyddade personuppgifter on the form (issue 16 §5): a protected guardian's phone is never printed (the
// box shows "–", as for a phone not given, so the form does not say who is protected), in every template
// version, on the main thread and through the PDF worker; the other guardian's phone still is.
import t from 'tap';
import { renderConsentForm, type ConsentFormData } from '../../src/pdf/render.ts';
import { PdfWorkerPool } from '../../src/pdf/pdf-workers.ts';
import { pdftotext, toolTest } from './fixtures/pdf-tools.ts';
import { soleGuardian, twoGuardiansAndYouth } from './fixtures/forms.ts';

const G1_PHONE = '070-111 22 33';
const G2_PHONE = '070-444 55 66';

const form = (version: string, marked: 'guardian1' | 'guardian2'): ConsentFormData => ({
  ...twoGuardiansAndYouth,
  templateVersion: version,
  guardian1: {
    ...twoGuardiansAndYouth.guardian1,
    phone: G1_PHONE,
    protectedIdentity: marked === 'guardian1',
  },
  guardian2: {
    ...twoGuardiansAndYouth.guardian2!,
    phone: G2_PHONE,
    protectedIdentity: marked === 'guardian2',
  },
});

/** pdftotext's text with single spaces (it lays out columns with runs of spaces). */
const textOf = async (bytes: Uint8Array) => pdftotext(bytes).replace(/\s+/g, ' ');

toolTest(
  'a protected guardian’s phone is never printed, in any template version',
  ['pdftotext'],
  async (t) => {
    for (const version of ['v1', 'v2', 'v3']) {
      for (const [marked, hidden, shown] of [
        ['guardian1', G1_PHONE, G2_PHONE],
        ['guardian2', G2_PHONE, G1_PHONE],
      ] as const) {
        const text = await textOf((await renderConsentForm(form(version, marked))).bytes);
        t.notOk(text.includes(hidden), `${version}: ${marked}'s phone is not printed`);
        t.ok(text.includes(shown), `${version}: the other guardian's phone is`);
        t.ok(text.includes(twoGuardiansAndYouth.guardian1.name), `${version}: the names are`);
      }
    }
    const sole = await textOf(
      (
        await renderConsentForm({
          ...soleGuardian,
          guardian1: { ...soleGuardian.guardian1, protectedIdentity: true },
        })
      ).bytes,
    );
    t.notOk(sole.includes(soleGuardian.guardian1.phone!), 'a protected sole guardian: no phone either');
    t.match(sole, /Telefon –/, 'the box shows "–", as for a phone not given');
  },
);

toolTest('through the PDF worker (the mark is plain data)', ['pdftotext'], async (t) => {
  const pool = new PdfWorkerPool({ threads: 1 });
  t.teardown(() => pool.close());
  const rendered = await pool.renderConsentForm(form('v3', 'guardian1'));
  const text = await textOf(rendered.bytes);
  t.notOk(text.includes(G1_PHONE));
  t.ok(text.includes(G2_PHONE));
});

t.test('a protected person’s unprintable phone is not refused: it is never drawn', async (t) => {
  // The font check walks only what is drawn: a phone the form could not print does not stop the form.
  const rendered = await renderConsentForm({
    ...twoGuardiansAndYouth,
    guardian1: { ...twoGuardiansAndYouth.guardian1, phone: '070 ☎ 111', protectedIdentity: true },
  });
  t.ok(rendered.bytes.length > 0);
});

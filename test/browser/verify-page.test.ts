// The public verification page (issue 16 §7) in Chromium at 360×740, as anyone with a signed PDF on their
// phone uses it: no login, a real file upload (setInputFiles), the receipt's link, a file that is no PDF.
// Every step is checked by the harness (axe WCAG 2.1 A/AA, no sideways scroll at 100 % and 200 % text
// size, no request outside the site, no Content-Security-Policy error).
import type { Page, Response } from 'playwright-core';
import { listFormRevisions } from '../../src/consents/documents.repository.ts';
import { verificationLink } from '../../src/pdf/verification-link.ts';
import { lindqvistConsents } from '../fixtures/consents.ts';
import { browserTest, launchBrowser, newPhone, pathOf, startService, step } from './harness.ts';

/** The status of the last document the page navigated to. */
function documentStatus(page: Page): () => number | undefined {
  let status: number | undefined;
  page.on('response', (r: Response) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  });
  return () => status;
}

const pdfFile = (bytes: Uint8Array, name = 'samtycke.pdf') => ({
  name,
  mimeType: 'application/pdf',
  buffer: Buffer.from(bytes),
});

browserTest('verifying a signed document on a phone, with and without the receipt’s link', async (t) => {
  const service = await startService(t, { seed: true });
  const made = await lindqvistConsents(service.app, service.org!).active('saga');
  const final = (await listFormRevisions(service.db, service.app.keys, made.id)).at(-1)!;
  const browser = await launchBrowser(t);
  const phone = await newPhone(browser, service.baseUrl);
  const status = documentStatus(phone);

  await step(t, phone, 'the page, without login', async () => {
    // From the start page, as anyone finds it.
    await phone.goto('/');
    await phone.getByRole('link', { name: 'Kontrollera ett dokument' }).click();
    t.equal(pathOf(phone), '/verifiera');
    t.equal(status(), 200);
    await phone.getByRole('heading', { name: 'Kontrollera ett underskrivet dokument', level: 1 }).waitFor();
  });

  await step(t, phone, 'a signed document: the answer', async () => {
    await phone.getByLabel('Välj PDF-filen').setInputFiles(pdfFile(final.bytes));
    await phone.getByRole('button', { name: 'Kontrollera' }).click();
    await phone.getByRole('heading', { name: 'Resultat av kontrollen', level: 1 }).waitFor();
    t.equal(status(), 200);
    t.equal(pathOf(phone), '/verifiera');
    await phone.getByRole('heading', { name: 'Dokumentet är äkta och oförändrat' }).waitFor();
    for (const role of ['Vårdnadshavare 1', 'Vårdnadshavare 2', 'Den unge (berörd ungdom)'])
      t.ok(
        await phone
          .getByRole('heading', { name: new RegExp(`Underskrift \\d: ${role.replace(/[()]/g, '\\$&')}`) })
          .isVisible(),
        role,
      );
    t.ok(await phone.getByText(/^Ja\. Filen är exakt, byte för byte/).isVisible(), 'issued by us');
  });

  await step(t, phone, 'the receipt’s link: the document it expects', async () => {
    const link = new URL(verificationLink(service.baseUrl, made.id, final.sha256));
    await phone.goto(`${link.pathname}${link.search}`);
    await phone.getByText('Du kom hit från en kvittens.', { exact: false }).waitFor();
    t.ok(await phone.getByText(final.sha256).isVisible(), 'the hash it expects');
  });

  await step(t, phone, 'the receipt’s link: the upload is that document', async () => {
    await phone.getByLabel('Välj PDF-filen').setInputFiles(pdfFile(final.bytes));
    await phone.getByRole('button', { name: 'Kontrollera' }).click();
    await phone.getByRole('heading', { name: 'Är det dokumentet som kvittensen gäller?' }).waitFor();
    t.ok(await phone.getByText('Ja. Filen är just det dokument som kvittensen gäller.').isVisible());
  });

  await step(t, phone, 'a file that is no PDF: a clear answer with the form', async () => {
    await phone.getByLabel('Välj PDF-filen').setInputFiles({
      name: 'anteckning.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Det här är ingen PDF.'),
    });
    await phone.getByRole('button', { name: 'Kontrollera' }).click();
    await phone.getByRole('heading', { name: 'Det gick inte att kontrollera filen' }).waitFor();
    t.equal(status(), 415);
    t.ok(
      await phone
        .getByText(/Filen är ingen PDF som går att läsa/)
        .first()
        .isVisible(),
    );
  });
});

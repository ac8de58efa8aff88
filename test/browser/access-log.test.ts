// The guardians' access log (issue 16 §3) in Chromium on a phone: a guardian logs in through the
// development IdP, opens Mina samtycken → "Vem har sett samtycket?" → the log, and pages to older events.
// Every step is checked by the harness (axe WCAG 2.1 A/AA, no sideways scroll at 360 px with 100 % and
// 200 % text, nothing outside the site, no CSP error).
import { appendAuditEvent } from '../../src/consents/audit.repository.ts';
import { consentContext, createConsentRequest } from '../../src/consents/index.ts';
import { recordConsentView } from '../../src/consents/get-consent.ts';
import { addDays, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import { familyRequest } from '../fixtures/consents.ts';
import {
  browserTest,
  launchBrowser,
  loginAtDevIdp,
  newPhone,
  pathOf,
  startService,
  step,
} from './harness.ts';

browserTest('a guardian reads who has seen her consent, on her phone', async (t) => {
  const service = await startService(t, { seed: true });
  const org = service.org!;
  const ctx = consentContext(service.app);
  const { id: consentId } = await createConsentRequest(ctx, org.staff, familyRequest(org, 'lindqvist-sole'));
  // Karin Holm opened it; the school's system checked it every day for 60 days (more than a page).
  await recordConsentView(ctx, org.staff, { consentId, scope: 'content', via: 'page' });
  const today = localDateOf(new Date());
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      Array.from({ length: 3 }, (_, j) =>
        appendAuditEvent(service.db, {
          consentId,
          action: 'status_checked',
          actor: org.client,
          at: new Date(startOfLocalDay(addDays(today, -1 - i)).getTime() + (8 + j) * 3_600_000),
          details: { status: 'pending' },
        }),
      ),
    ).flat(),
  );

  const browser = await launchBrowser(t);
  const page = await newPhone(browser, service.baseUrl);
  await page.goto('/mina-samtycken');
  await loginAtDevIdp(page, 'anna-lindqvist', service.baseUrl);
  await step(t, page, 'Mina samtycken', async () => {
    await page.getByRole('heading', { name: 'Mina samtycken' }).waitFor();
  });
  await step(t, page, 'the access log', async () => {
    await page.getByRole('link', { name: 'Vem har sett samtycket?' }).click();
    await page.getByRole('heading', { name: 'Vem har sett samtycket?', level: 1 }).waitFor();
    t.equal(pathOf(page), `/mina-samtycken/${consentId}/atkomst`);
    await page.getByText(/^Karin Holm \(Rektor, Björkskolan\) öppnade samtycket den /).waitFor();
    t.equal(
      await page
        .getByText(
          /^Elevhälsans system \(verksamhetssystem, Björkskolan\) kontrollerade status 3 gånger den /,
        )
        .count(),
      49,
      'a line a day; the first page holds 50 lines',
    );
  });
  await step(t, page, 'older events', async () => {
    await page.getByRole('link', { name: 'Äldre händelser' }).click();
    await page.getByRole('heading', { name: /Händelser \(sida 2 av 2\)/ }).waitFor();
    t.equal(pathOf(page), `/mina-samtycken/${consentId}/atkomst?sida=2`);
    t.equal(await page.getByRole('listitem').count(), 11);
  });
  await step(t, page, 'back to the newest', async () => {
    await page.getByRole('link', { name: 'Nyare händelser' }).click();
    await page.getByRole('heading', { name: /Händelser \(sida 1 av 2\)/ }).waitFor();
  });
  await step(t, page, 'back to Mina samtycken', async () => {
    await page.getByRole('link', { name: 'Tillbaka till Mina samtycken' }).click();
    await page.getByRole('heading', { name: 'Mina samtycken' }).waitFor();
  });
});

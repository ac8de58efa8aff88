// Skyddade personuppgifter (issue 16 §5) in Chromium at 360 px: a staff member makes a request with the
// box "Vårdnadshavare 1 har skyddade personuppgifter" ticked, sees the marker and the rule on the consent
// page, and marks the child afterwards with the small form there. Every step is checked by the harness
// (axe WCAG 2.1 A/AA, no sideways scroll at 100 % and 200 % text, nothing from another origin, no CSP
// error); the phone she gave is on no page.
import type { Test } from 'tap';
import { lindqvistConsents } from '../fixtures/consents.ts';
import {
  browserTest,
  launchBrowser,
  loginStaff,
  newPhone,
  pathOf,
  startService,
  step,
  submit,
} from './harness.ts';

const ANNA_PHONE = '070-111 11 11';

browserTest(
  'protected personal data in Chromium at 360 px: ticked at the request, marked later',
  async (t: Test) => {
    const service = await startService(t, { seed: true });
    const p = lindqvistConsents(service.app, service.org!).person;
    const browser = await launchBrowser(t);
    const page = await newPhone(browser, service.baseUrl);

    await step(t, page, 'the new request form with the protected boxes', async () => {
      await loginStaff(page, service.baseUrl, 'karin-holm');
      await page.getByRole('link', { name: 'Ny förfrågan om samtycke' }).click();
      t.ok(await page.getByLabel('Vårdnadshavare 1 har skyddade personuppgifter').isVisible());
      t.ok(await page.getByLabel('Barnet har skyddade personuppgifter').isVisible());
      t.ok(await page.getByText('sekretessmarkering eller skyddad folkbokföring').first().isVisible());
    });

    let consentPath = '';
    await step(t, page, 'a request with guardian 1 marked', async () => {
      await page.locator('#child-name').fill(p('elsa-lindqvist').name);
      await page.locator('#child-personalNumber').fill(p('elsa-lindqvist').personalNumber);
      await page.locator('#guardians-0-name').fill(p('anna-lindqvist').name);
      await page.locator('#guardians-0-personalNumber').fill(p('anna-lindqvist').personalNumber);
      await page.locator('#guardians-0-phone').fill(ANNA_PHONE);
      await page.getByLabel('Vårdnadshavare 1 har skyddade personuppgifter').check();
      await page.locator('#guardians-1-name').fill(p('erik-lindqvist').name);
      await page.locator('#guardians-1-personalNumber').fill(p('erik-lindqvist').personalNumber);
      await page.locator('#guardians-1-email').fill('erik@hem.example');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Skicka förfrågan' }).click(),
        /^\/samtycken\/ny$/,
      );
      t.equal(res.status(), 303);
      t.match(pathOf(page), /^\/samtycken\/[0-9a-f-]{36}\/lankar$/);
      consentPath = pathOf(page).replace(/\/lankar$/, '');
    });
    const id = consentPath.split('/')[2]!;
    const stored = await service.db
      .selectFrom('consent_signers')
      .select(['role', 'protected_identity'])
      .where('consent_id', '=', id)
      .orderBy('role')
      .execute();
    t.same(
      stored.map((r) => [r.role, r.protected_identity]),
      [
        ['guardian1', true],
        ['guardian2', false],
      ],
      'stored as ticked',
    );

    await step(t, page, 'the consent page: the marker and the rule', async () => {
      await page.getByRole('link', { name: 'Till samtycket' }).click();
      t.equal(pathOf(page), consentPath);
      t.ok(
        await page.getByRole('heading', { name: 'Skyddade personuppgifter' }).first().isVisible(),
        'the marker',
      );
      t.ok(await page.getByText('Skicka aldrig något med post till personen.').isVisible(), 'the rule');
      t.ok(await page.getByText(`Vårdnadshavare 1: ${p('anna-lindqvist').name}`).isVisible());
      t.notOk((await page.content()).includes(ANNA_PHONE), 'her phone is not on the page');
    });

    await step(t, page, 'marking the child afterwards', async () => {
      await page.getByLabel('Vem har skyddade personuppgifter').selectOption('child');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Markera skyddade personuppgifter' }).click(),
        /\/skyddad$/,
      );
      t.equal(res.status(), 303);
      t.equal(pathOf(page), `${consentPath}?klart=skyddad`);
      t.ok(await page.getByText('Markeringen är sparad.').isVisible());
      t.ok(await page.getByText(`Barnet: ${p('elsa-lindqvist').name}`).isVisible());
      t.equal(
        await page.getByRole('button', { name: 'Markera skyddade personuppgifter' }).count(),
        1,
        'Erik left',
      );
    });
  },
);

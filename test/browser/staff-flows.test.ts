// The staff pages in Chromium at 360 px, as a staff member uses them: log in through the development IdP,
// a new request (every field problem at once; "ensam vårdnadshavare" with guardian 2 filled refused; then
// a valid request with the staff member's own phone), the links page, the consent page with only the acts
// its state allows, remind, cancel / register a withdrawal / end each after a confirmation step, renew,
// download, a team partner's view and search by child, and logout. Every step is checked by the harness
// (axe WCAG 2.1 A/AA, no sideways scroll at 100 % and 200 % text, nothing from another origin).
import { getLoadedConsent } from '../../src/consents/consent.repository.ts';
import type { Page } from 'playwright-core';
import type { Test } from 'tap';
import { lindqvistConsents } from '../fixtures/consents.ts';
import {
  browserTest,
  confirmDevIdpLogout,
  launchBrowser,
  loginStaff,
  newPhone,
  pathOf,
  startService,
  step,
  submit,
} from './harness.ts';

const visible = (page: Page, text: string | RegExp) => page.getByText(text).first().isVisible();

browserTest(
  'staff flows in Chromium at 360 px: request, acts with confirmation, team partner',
  async (t: Test) => {
    const service = await startService(t, { seed: true });
    const f = lindqvistConsents(service.app, service.org!);
    const browser = await launchBrowser(t);
    const page = await newPhone(browser, service.baseUrl);
    const p = f.person;

    await step(t, page, 'staff start page', async () => {
      await loginStaff(page, service.baseUrl, 'karin-holm');
      t.equal(pathOf(page), '/personal');
      t.ok(await page.getByRole('heading', { level: 1, name: 'Samtycken' }).isVisible());
    });

    await step(t, page, 'new request: every field problem at once', async () => {
      await page.getByRole('link', { name: 'Ny förfrågan om samtycke' }).click();
      await page.locator('#child-personalNumber').fill(p('elsa-lindqvist').personalNumber);
      await page.locator('#guardians-0-name').fill(p('anna-lindqvist').name);
      // A wrong check digit on guardian 1, a malformed phone on guardian 2: one answer names both.
      const anna = p('anna-lindqvist').personalNumber.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
      await page.locator('#guardians-0-personalNumber').fill(anna);
      await page.locator('#guardians-0-email').fill('anna@hem.example');
      await page.locator('#guardians-1-name').fill(p('erik-lindqvist').name);
      await page.locator('#guardians-1-personalNumber').fill(p('erik-lindqvist').personalNumber);
      await page.locator('#guardians-1-phone').fill('ring mig');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Skicka förfrågan' }).click(),
        /^\/samtycken\/ny$/,
      );
      t.equal(res.status(), 400);
      t.ok(await page.getByRole('heading', { name: 'Något behöver rättas' }).isVisible());
      const summary = page.locator('.error-summary');
      t.ok(await summary.getByText('Ange barnets namn.').isVisible(), 'the missing name');
      t.ok(await summary.getByText('Personnumrets kontrollsiffra stämmer inte').isVisible(), 'the checksum');
      t.ok(
        await summary.getByText('Ange ett mobilnummer med siffror').isVisible(),
        'the phone, in the same answer',
      );
    });

    await step(t, page, 'new request: sole guardian with guardian 2 filled in is refused', async () => {
      await page.locator('#child-name').fill(p('elsa-lindqvist').name);
      await page.locator('#guardians-0-personalNumber').fill(p('anna-lindqvist').personalNumber);
      await page.locator('#guardians-1-phone').fill('070-222 22 22');
      await page.getByLabel('Vårdnadshavare 1 är ensam vårdnadshavare').check();
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Skicka förfrågan' }).click(),
        /^\/samtycken\/ny$/,
      );
      t.equal(res.status(), 400);
      t.ok(await page.locator('#soleGuardian-error').isVisible(), 'the message at the tick box');
      t.ok(await visible(page, /men också fyllt i vårdnadshavare 2/));
      t.equal(
        await page.locator('#guardians-1-name').inputValue(),
        p('erik-lindqvist').name,
        'kept as typed',
      );
    });

    let consentPath = '';
    await step(t, page, 'new request: valid, with the staff phone; the links page', async () => {
      await page.getByLabel('Vårdnadshavare 1 är ensam vårdnadshavare').uncheck();
      await page.getByLabel('Ditt telefonnummer (visas på blanketten)').fill('090-17 60 00');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Skicka förfrågan' }).click(),
        /^\/samtycken\/ny$/,
      );
      t.equal(res.status(), 303);
      t.match(pathOf(page), /^\/samtycken\/[0-9a-f-]{36}\/lankar$/);
      t.ok(await visible(page, `Förfrågan om samtycke för ${p('elsa-lindqvist').name} är skickad.`));
      t.equal(
        await page.getByRole('img', { name: 'QR-kod med länken' }).count(),
        2,
        'a QR code per guardian',
      );
      consentPath = pathOf(page).replace(/\/lankar$/, '');
    });
    const stored = await getLoadedConsent(service.db, service.app.keys, consentPath.split('/')[2]!);
    t.equal(stored.consent.obtainedBy.phone, '090-17 60 00', 'the staff phone on the form');

    await step(t, page, 'pending consent: only the acts its state allows', async () => {
      await page.getByRole('link', { name: 'Till samtycket' }).click();
      t.equal(pathOf(page), consentPath);
      t.ok(await page.getByRole('button', { name: 'Skicka påminnelse och visa nya länkar' }).isVisible());
      t.ok(await page.getByRole('link', { name: 'Avbryt förfrågan' }).isVisible());
      t.ok(await page.getByRole('link', { name: 'Registrera återkallelse' }).isVisible());
      t.equal(await page.getByRole('link', { name: 'Avsluta samtycket' }).count(), 0, 'no end while pending');
      t.equal(await page.getByRole('button', { name: /Förnya/ }).count(), 0, 'no renew while pending');
    });

    await step(t, page, 'remind: the page says reminders were sent', async () => {
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Skicka påminnelse och visa nya länkar' }).click(),
        /\/paminn$/,
      );
      t.equal(res.status(), 303);
      t.ok(await visible(page, 'Påminnelser är skickade till dem som inte har signerat än'));
    });

    await step(t, page, 'cancel: a confirmation page first', async () => {
      await page.goto(consentPath);
      await page.getByRole('link', { name: 'Avbryt förfrågan' }).click();
      t.equal(pathOf(page), `${consentPath}/avbryt`);
      t.ok(await page.getByRole('heading', { level: 1, name: 'Avbryta förfrågan?' }).isVisible());
      t.ok(await visible(page, 'Det går inte att ångra.'));
    });

    await step(t, page, 'cancel: confirmed', async () => {
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Ja, avbryt förfrågan' }).click(),
        /\/avbryt$/,
      );
      t.equal(res.status(), 303);
      t.ok(await visible(page, 'Förfrågan är avbruten.'));
      t.equal(await page.getByRole('link', { name: 'Avbryt förfrågan' }).count(), 0);
    });

    const toWithdraw = await f.active('saga');
    await step(t, page, 'register a withdrawal: confirmation page with the form', async () => {
      await page.goto(`/samtycken/${toWithdraw.id}`);
      t.ok(await page.getByRole('link', { name: 'Avsluta samtycket' }).isVisible(), 'active: end offered');
      t.equal(await page.getByRole('link', { name: 'Avbryt förfrågan' }).count(), 0, 'active: no cancel');
      await page.getByRole('link', { name: 'Registrera återkallelse' }).click();
      t.ok(await page.getByRole('heading', { level: 1, name: 'Registrera återkallelse' }).isVisible());
      t.ok(await visible(page, 'Samtycket slutar då gälla för alla, direkt.'));
    });

    await step(t, page, 'register a withdrawal: done, the note in the timeline', async () => {
      await page.getByLabel('Vem återkallade').selectOption('guardian2');
      await page.getByLabel('Per telefon').check();
      await page.getByLabel(/Anteckning/).fill('Ringde på förmiddagen');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Registrera återkallelsen' }).click(),
        /\/aterkalla$/,
      );
      t.equal(res.status(), 303);
      t.ok(await visible(page, 'Återkallelsen är registrerad.'));
      t.ok(await visible(page, 'Anteckning: Ringde på förmiddagen'));
      t.ok(await visible(page, /Återkallelse registrerades: vårdnadshavare 2 återkallade per telefon/));
    });

    const toEnd = await f.active('elsa');
    await step(t, page, 'download the signed form', async () => {
      await page.goto(`/samtycken/${toEnd.id}`);
      t.ok(await page.getByRole('link', { name: 'Ladda ner blanketten (PDF)' }).isVisible());
      const res = await page.request.get(`/samtycken/${toEnd.id}/dokument`);
      t.equal(res.status(), 200);
      t.equal(res.headers()['content-type'], 'application/pdf');
      t.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
    });

    await step(t, page, 'end: confirmation page with the form', async () => {
      await page.getByRole('link', { name: 'Avsluta samtycket' }).click();
      t.ok(await page.getByRole('heading', { level: 1, name: 'Avsluta samtycket' }).isVisible());
      t.ok(await visible(page, 'Använd det här när de samordnade insatserna för barnet har upphört.'));
    });

    await step(t, page, 'end: done, the note in the timeline', async () => {
      await page.getByLabel(/Anteckning/).fill('Insatserna klara');
      const res = await submit(
        page,
        () => page.getByRole('button', { name: 'Avsluta samtycket' }).click(),
        /\/avsluta$/,
      );
      t.equal(res.status(), 303);
      t.ok(await visible(page, 'Samtycket är avslutat'));
      t.ok(await visible(page, 'Anteckning: Insatserna klara'));
    });

    await step(t, page, 'renew the ended consent', async () => {
      const res = await submit(page, () => page.getByRole('button', { name: /Förnya/ }).click(), /\/fornya$/);
      t.equal(res.status(), 303);
      t.ok(await visible(page, 'En ny förfrågan om samtycke'));
    });

    // A team partner: Amira Haddad's organisation joins the team.
    await service.db
      .insertInto('team_members')
      .values({ team_id: service.org!.teamId, organisation_id: service.org!.otherOrganisationId })
      .execute();
    const activeForPartner = await f.active('saga');
    const partner = await newPhone(browser, service.baseUrl);
    await step(t, partner, 'team partner: limited rows explained, names while active', async () => {
      await loginStaff(partner, service.baseUrl, 'amira-haddad');
      t.ok(await visible(partner, 'Namnet visas bara medan samtycket gäller'), 'a limited row says why');
      t.ok(
        await partner
          .getByRole('link', { name: p('saga-lindqvist').name })
          .first()
          .isVisible(),
        'active: the name',
      );
    });

    await step(t, partner, 'team partner: search by the child’s personal number', async () => {
      await partner
        .getByRole('textbox', { name: 'Barnets personnummer' })
        .fill(p('saga-lindqvist').personalNumber);
      const res = await submit(
        partner,
        () => partner.getByRole('button', { name: 'Sök' }).click(),
        /^\/personal\/sok$/,
      );
      t.equal(res.status(), 200);
      t.equal(pathOf(partner), '/personal/sok', 'the number is not in the URL');
      t.ok(await partner.getByRole('heading', { level: 2, name: 'Resultat' }).isVisible());
      t.ok(await partner.locator(`a[href="/samtycken/${activeForPartner.id}"]`).first().isVisible());
    });

    await step(t, partner, 'team partner: the active consent and its document', async () => {
      await partner.locator(`a[href="/samtycken/${activeForPartner.id}"]`).first().click();
      t.ok(
        await partner
          .getByRole('heading', { level: 1, name: `Samtycke för ${p('saga-lindqvist').name}` })
          .isVisible(),
      );
      t.ok(await partner.getByRole('link', { name: 'Ladda ner blanketten (PDF)' }).isVisible());
      t.equal(await partner.getByRole('heading', { name: 'Åtgärder' }).count(), 0, 'no acts for a partner');
    });

    await step(
      t,
      page,
      'logout',
      async () => {
        const answer = page.waitForResponse((r) => r.url().endsWith('/auth/logout'));
        await page.getByRole('button', { name: 'Logga ut' }).click();
        t.equal((await answer).status(), 303);
        await page.waitForURL((u) => u.pathname.startsWith('/dev-idp/'));
        // The development IdP's own "log out there too?" page is a development tool, not a service page
        // (it scrolls sideways at 360 px with 200 % text: told to its owner, not checked here).
      },
      { check: false },
    );
    await step(t, page, 'logged out', async () => {
      await confirmDevIdpLogout(page, service.baseUrl);
      t.ok(await page.getByRole('heading', { name: /utloggad/i }).isVisible());
    });
  },
);

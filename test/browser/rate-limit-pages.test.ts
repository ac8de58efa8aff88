// Refused for too many attempts (issue 15 §1), as a person meets it in Chromium at 360 px: a phone that
// opens invitation links too often, and a staff member who searches by child too often, get a page in
// Swedish that says how long to wait (429, Retry-After), inside the site's layout, checked by the harness
// (axe WCAG 2.1 A/AA, no sideways scroll at 100 % and 200 % text, nothing from another origin, no CSP
// error).
import { randomBytes } from 'node:crypto';
import type { Page, Response } from 'playwright-core';
import type { Test } from 'tap';
import { lindqvistConsents } from '../fixtures/consents.ts';
import { browserTest, launchBrowser, loginStaff, newPhone, pathOf, startService, step } from './harness.ts';

const LIMITS = { RATE_LIMIT_INVITATION_PER_ADDRESS: '2', RATE_LIMIT_CHILD_SEARCH_PER_CALLER: '1' };

const tokenLink = () => `/s/${randomBytes(32).toString('base64url')}`;

async function refusedPage(t: Test, page: Page, response: Response | null): Promise<void> {
  t.equal(response?.status(), 429, '429');
  const retryAfter = Number(await response?.headerValue('retry-after'));
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  t.match(String(await response?.headerValue('content-type')), /^text\/html/, 'a page, not JSON');
  t.ok(await page.getByRole('heading', { level: 1, name: 'För många försök' }).isVisible(), 'the heading');
  t.ok(
    await page
      .getByText(/Vänta .* och försök igen/)
      .first()
      .isVisible(),
    'how long to wait',
  );
}

browserTest(
  'too many attempts: a Swedish page at 360 px, on the invitation links and the search',
  async (t) => {
    const service = await startService(t, { seed: true, env: LIMITS });
    const browser = await launchBrowser(t);

    const phone = await newPhone(browser, service.baseUrl);
    for (let i = 1; i <= 2; i++) {
      const allowed = await phone.goto(`${service.baseUrl}${tokenLink()}`);
      t.not(allowed?.status(), 429, `link ${i} of 2: not refused`);
    }
    await step(t, phone, 'invitation link: the third in a minute is refused', async () => {
      await refusedPage(t, phone, await phone.goto(`${service.baseUrl}${tokenLink()}`));
    });

    const saga = lindqvistConsents(service.app, service.org!).person('saga-lindqvist');
    const staff = await newPhone(browser, service.baseUrl);
    await loginStaff(staff, service.baseUrl, 'karin-holm');
    const search = async (): Promise<Response> => {
      await staff.goto(`${service.baseUrl}/personal`);
      await staff.getByRole('textbox', { name: 'Barnets personnummer' }).fill(saga.personalNumber);
      const answer = staff.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/personal/sok',
      );
      await staff.getByRole('button', { name: 'Sök' }).click();
      const response = await answer;
      await staff.waitForLoadState('load');
      return response;
    };
    t.equal((await search()).status(), 200, 'the first search is answered');
    await step(t, staff, 'search by child: the second in a minute is refused', async () => {
      await refusedPage(t, staff, await search());
      t.equal(pathOf(staff), '/personal/sok', 'the number is not in the URL');
      const html = await staff.content();
      const digits = saga.personalNumber.replace(/\D/g, '');
      t.notOk(
        html.includes(digits) || html.includes(`${digits.slice(0, 8)}-${digits.slice(8)}`),
        'nor on the page',
      );
    });
  },
);

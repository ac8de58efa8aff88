// Swagger UI at /docs under its own Content-Security-Policy (issue 15 §4: helmet's policy is the pages'
// everywhere else): it loads, renders the operations, and breaks no rule of its policy, without a request
// to another site.
import type { Test } from 'tap';
import { browserTest, inspectPage, launchBrowser, newDesktop, startService } from './harness.ts';

browserTest(
  'Swagger UI renders the API under its own policy, with nothing from elsewhere',
  async (t: Test) => {
    const service = await startService(t);
    const browser = await launchBrowser(t);
    const page = await newDesktop(browser, service.baseUrl);
    const answer = await page.goto('/docs/');
    t.equal(answer?.status(), 200);
    // The operations come from /docs/json, fetched and rendered by Swagger UI's scripts.
    await page
      .locator('.opblock-summary-path', { hasText: '/api/v1/consents/{id}/status' })
      .first()
      .waitFor();
    t.ok(await page.locator('.opblock').count(), 'the operations are listed');
    // Swagger UI is not our page to fix for accessibility or width: only its policy and its requests count.
    const findings = await inspectPage(page, { axe: false, overflow: false });
    t.same(findings.csp, [], 'no Content-Security-Policy error');
    t.same(findings.foreign, [], 'no request outside the site');
  },
);

// Browser tests: the real app listening on a free port (real HTTP, real cookies), Debian's Chromium
// driven by playwright-core, phone- and desktop-sized contexts that record every request, and `step`,
// which runs an action and then checks the page (axe WCAG 2.1 A/AA, no sideways scroll at 100 % and
// 200 % text size, no request outside the site's origin, no CSP error), saving a screenshot when
// anything fails. See test/browser/README.md.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page, type Response } from 'playwright-core';
import tap, { type Test, type TestOpts } from 'tap';
import { projectRoot } from '../../src/paths.ts';
import { freePort, type RunningApp, type StartAppOptions, startApp } from '../fixtures/app.ts';
import { type Broker, type BrokerOptions, startBrokerIdp } from '../fixtures/broker-idp.ts';
import {
  type AxeViolation,
  findOverflow,
  formatAxe,
  formatOverflow,
  type Overflow,
  runAxe,
  type Traffic,
  trafficOf,
  watchTraffic,
} from './harness/checks.ts';

export { findOverflow, runAxe, trafficOf, type AxeViolation, type Overflow, type Traffic };

// ---------------------------------------------------------------------------------------------------
// The service

export interface Service extends RunningApp {
  /** `http://localhost:<port>`: PUBLIC_BASE_URL, the origin the browser uses. */
  baseUrl: string;
}

export type StartServiceOptions = Omit<StartAppOptions, 'host'>;

/**
 * startApp (test/fixtures/app.ts) with PUBLIC_BASE_URL `http://localhost:<port>`: the origin the browser
 * uses (a host name, as a user's browser sees the service, not an IP address); development mode with the
 * built-in dev IdP at /dev-idp unless `env` names another provider. Closed in teardown.
 */
export async function startService(t: Test, options: StartServiceOptions = {}): Promise<Service> {
  const running = await startApp(t, { ...options, host: 'localhost' });
  return { ...running, baseUrl: running.base };
}

export interface BrokerService extends Service {
  broker: Broker;
}

/**
 * The service configured against the test broker (test/fixtures/broker-idp.ts) on its own origin:
 * OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_CLAIM_PROFILE=ssn. Staff log in at the broker
 * too (STAFF_OIDC_* default to the signer provider; the in-app dev IdP is only mounted when one of the
 * two has no issuer). Pass `allowedOrigins: [service.broker.origin]` to newPhone/newDesktop.
 */
export async function startServiceWithBroker(
  t: Test,
  options: StartServiceOptions & { broker?: Partial<BrokerOptions> } = {},
): Promise<BrokerService> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://localhost:${port}`;
  const broker = await startBrokerIdp({
    redirectUris: [`${baseUrl}/auth/callback`],
    postLogoutRedirectUris: [`${baseUrl}/auth/logged-out`],
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.broker,
  });
  t.teardown(() => broker.close());
  const service = await startService(t, { ...options, port, env: { ...broker.env, ...options.env } });
  return { ...service, broker };
}

// ---------------------------------------------------------------------------------------------------
// The browser

export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
] as const;

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  const p = chromiumPath();
  return existsSync(p) ? undefined : `no Chromium at ${p} (Debian package chromium, or set CHROMIUM_PATH)`;
}

type TestFn = (t: Test) => unknown;

/**
 * A test that needs Chromium. Without it the test is skipped with a message, or fails when
 * SAMTYCKE_REQUIRE_BROWSER=1 (CI installs chromium and sets it, so its absence is caught).
 */
export function browserTest(name: string, fn: TestFn): void;
export function browserTest(name: string, opts: TestOpts, fn: TestFn): void;
export function browserTest(name: string, a: TestOpts | TestFn, b?: TestFn): void {
  const fn = (b ?? a) as TestFn;
  const opts: TestOpts = typeof a === 'function' ? {} : a;
  const missing = browserMissing();
  if (!missing) tap.test(name, opts, fn);
  else if (process.env.SAMTYCKE_REQUIRE_BROWSER === '1')
    tap.test(name, opts, (t) => {
      t.fail(`${missing}; SAMTYCKE_REQUIRE_BROWSER=1`);
      t.end();
    });
  else
    tap.test(
      name,
      { ...opts, skip: `${missing}; set SAMTYCKE_REQUIRE_BROWSER=1 to make this a failure` },
      fn,
    );
}

/** Headless Chromium (Debian's, never a download), closed in teardown. Use inside `browserTest`. */
export async function launchBrowser(t: Test): Promise<Browser> {
  const missing = browserMissing();
  if (missing) throw new Error(`${missing}; write browser tests with browserTest() so they skip here`);
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...LAUNCH_ARGS] });
  t.teardown(() => browser.close());
  return browser;
}

export interface ContextOptions {
  /** Other origins the pages may reach (the broker's); the service's own origin is always allowed. */
  allowedOrigins?: string[];
}

async function newDevice(
  browser: Browser,
  baseUrl: string,
  viewport: { width: number; height: number },
  options: ContextOptions,
): Promise<Page> {
  const context = await browser.newContext({
    viewport,
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
    baseURL: baseUrl,
  });
  watchTraffic(context, [baseUrl, ...(options.allowedOrigins ?? [])]);
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

/** A phone: 360×740, Swedish locale and time zone; every request recorded (see checkPage). */
export function newPhone(browser: Browser, baseUrl: string, options: ContextOptions = {}): Promise<Page> {
  return newDevice(browser, baseUrl, { width: 360, height: 740 }, options);
}

/** A desktop: 1280×800, otherwise as newPhone. */
export function newDesktop(browser: Browser, baseUrl: string, options: ContextOptions = {}): Promise<Page> {
  return newDevice(browser, baseUrl, { width: 1280, height: 800 }, options);
}

/** A second page in the same browser context (same cookies, same request record). */
export function sameBrowser(page: Page): Promise<Page> {
  return page.context().newPage();
}

// ---------------------------------------------------------------------------------------------------
// Checks and steps

export interface PageFindings {
  axe: AxeViolation[];
  overflow: Overflow[];
  /** Requests outside the allowed origins not yet reported by an earlier check. */
  foreign: string[];
  /** CSP errors in the console not yet reported. */
  csp: string[];
}

export interface CheckOptions {
  /** Skip the accessibility check (e.g. a provider's page that is not ours to fix). */
  axe?: boolean;
  overflow?: boolean;
}

/** Runs the checks on the page as it is now and answers what they found (nothing asserted). */
export async function inspectPage(page: Page, options: CheckOptions = {}): Promise<PageFindings> {
  const traffic = trafficOf(page);
  const foreign = traffic.foreign.slice(traffic.reported.foreign);
  const csp = traffic.cspErrors.slice(traffic.reported.csp);
  traffic.reported = { foreign: traffic.foreign.length, csp: traffic.cspErrors.length };
  return {
    axe: options.axe === false ? [] : await runAxe(page),
    overflow: options.overflow === false ? [] : await findOverflow(page),
    foreign,
    csp,
  };
}

/** Asserts the checks on the page as it is now; answers whether all passed. */
export async function checkPage(
  t: Test,
  page: Page,
  stepName: string,
  options: CheckOptions = {},
): Promise<boolean> {
  const f = await inspectPage(page, options);
  const where = `${stepName} (${new URL(page.url()).pathname})`;
  const results = [
    t.ok(f.axe.length === 0, `${where}: axe WCAG 2.1 A/AA`, diag(f.axe.length && formatAxe(f.axe))),
    t.ok(
      f.overflow.length === 0,
      `${where}: no sideways scroll at 100 % and 200 % text size`,
      diag(f.overflow.length && formatOverflow(f.overflow)),
    ),
    t.ok(
      f.foreign.length === 0,
      `${where}: no request outside the site`,
      diag(f.foreign.length && f.foreign.join('\n')),
    ),
    t.ok(
      f.csp.length === 0,
      `${where}: no Content-Security-Policy error`,
      diag(f.csp.length && f.csp.join('\n')),
    ),
  ];
  return results.every(Boolean);
}

function diag(found: string | 0): { diagnostic?: boolean; found?: string } {
  return found ? { diagnostic: true, found } : {};
}

export const SCREENSHOT_DIR = path.join(projectRoot, 'test', 'browser', 'screenshots');

const slug = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase()
    .slice(0, 80);

const screenshotPath = (t: Test, stepName: string) =>
  path.join(SCREENSHOT_DIR, `${slug(t.name)}-${slug(stepName)}.png`);

/** Saves a full-page PNG to test/browser/screenshots/<test>-<step>.png and answers its path. */
export async function screenshot(t: Test, page: Page, stepName: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = screenshotPath(t, stepName);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface StepOptions extends CheckOptions {
  /** Do not check the page after the action (e.g. it ends on a download or another site). */
  check?: boolean;
}

/**
 * Runs `fn` (actions and assertions on the page), then checkPage. When `fn` throws, an assertion in it
 * fails or a check fails, saves a screenshot and prints its path; BROWSER_SCREENSHOTS=all saves one
 * for every step.
 */
export async function step<T>(
  t: Test,
  page: Page,
  name: string,
  fn: () => T | Promise<T>,
  options: StepOptions = {},
): Promise<T> {
  const failsBefore = t.counts.fail;
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await keepScreenshot(t, page, name, true);
    throw error;
  }
  const checked = options.check === false ? true : await checkPage(t, page, name, options);
  const failed = !checked || t.counts.fail > failsBefore;
  if (failed || process.env.BROWSER_SCREENSHOTS === 'all') await keepScreenshot(t, page, name, failed);
  // A passing step leaves no screenshot of an earlier failing run behind to mislead.
  else rmSync(screenshotPath(t, name), { force: true });
  return result;
}

async function keepScreenshot(t: Test, page: Page, name: string, failed: boolean): Promise<void> {
  try {
    const file = await screenshot(t, page, name);
    if (failed) t.comment(`screenshot of the failing step "${name}": ${path.relative(projectRoot, file)}`);
  } catch (error) {
    t.comment(`no screenshot of "${name}": ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Logging in

/**
 * On the development IdP's login page: chooses the test person (a key from
 * src/dev/people.ts) and presses "Logga in"; waits until the browser is back at the service.
 */
export async function loginAtDevIdp(page: Page, personKey: string, baseUrl: string): Promise<void> {
  await page.getByRole('heading', { name: 'Logga in med test-e-legitimation' }).waitFor();
  await page.locator(`input[name="person"][value="${personKey}"]`).check();
  await Promise.all([
    page.waitForURL((url) => url.origin === new URL(baseUrl).origin && !url.pathname.startsWith('/dev-idp')),
    page.getByRole('button', { name: 'Logga in', exact: true }).click(),
  ]);
}

/**
 * Staff login through the dev IdP: /auth/staff/login, the person chosen, back at `returnTo`. Staff must
 * exist in the database (startService({ seed: true }) gives Karin Holm and Amira Haddad).
 */
export async function loginStaff(
  page: Page,
  baseUrl: string,
  personKey = 'karin-holm',
  returnTo = '/personal',
): Promise<void> {
  await page.goto(`${baseUrl}/auth/staff/login?returnTo=${encodeURIComponent(returnTo)}`);
  await loginAtDevIdp(page, personKey, baseUrl);
}

/**
 * The development IdP asks before it ends its own session (RP-initiated logout): answers "Ja, logga ut"
 * and waits until the browser is back at the service's /auth/logged-out.
 */
export async function confirmDevIdpLogout(page: Page, baseUrl: string): Promise<void> {
  await page.getByRole('heading', { name: 'Vill du logga ut från test-e-legitimationen?' }).waitFor();
  await Promise.all([
    page.waitForURL((url) => url.origin === new URL(baseUrl).origin && url.pathname === '/auth/logged-out'),
    page.getByRole('button', { name: 'Ja, logga ut' }).click(),
  ]);
}

/**
 * On the broker's login page: chooses the test person and presses "Legitimera"; waits until the browser
 * is back at the service.
 */
export async function loginAtBroker(page: Page, personKey: string, baseUrl: string): Promise<void> {
  await page.getByRole('heading', { name: 'Legitimera dig med test-e-legitimation' }).waitFor();
  await page.locator(`input[name="person"][value="${personKey}"]`).check();
  await Promise.all([
    page.waitForURL((url) => url.origin === new URL(baseUrl).origin),
    page.getByRole('button', { name: 'Legitimera', exact: true }).click(),
  ]);
}

/** Where the browser is, as a path with query (for assertions on the URL). */
/** Clicks and answers the response of the form post it caused (whose path matches), once its page loaded. */
export async function submit(page: Page, click: () => Promise<void>, path: RegExp): Promise<Response> {
  const answer = page.waitForResponse(
    (r) => r.request().method() === 'POST' && path.test(new URL(r.url()).pathname),
  );
  await click();
  const response = await answer;
  await page.waitForLoadState('load');
  return response;
}

export function pathOf(page: Page): string {
  const u = new URL(page.url());
  return `${u.pathname}${u.search}`;
}

// The checks run on every page state: axe-core (WCAG 2.1 A/AA), no sideways scroll at 100 % and 200 %
// text size, no request outside the allowed origins, no Content-Security-Policy violation.
//
// Our pages forbid inline script and inline style (`default-src 'none'; style-src 'self'`), so
// Playwright's addScriptTag/addStyleTag (which insert inline <script>/<style> elements) are refused by
// the page's CSP. page.evaluate runs through the DevTools protocol, which CSP does not govern: axe's
// source is evaluated that way, and the 200 % text size is set through the CSSOM (element.style from
// script is not an inline style attribute in markup). So the pages are checked under their real CSP;
// `bypassCSP` would hide the very CSP mistakes a browser test should find.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
let axeSource: string | undefined;
function axe(): string {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

// The page's globals, typed just enough for the functions below that run in the page: the project's
// tsconfig has no DOM library (it is server code), and these declarations stay inside this module.
interface PageElement {
  id: string;
  tagName: string;
  classList: ArrayLike<string> & Iterable<string>;
  textContent: string | null;
  parentElement: PageElement | null;
  scrollWidth: number;
  style: {
    getPropertyValue(name: string): string;
    getPropertyPriority(name: string): string;
    setProperty(name: string, value: string, priority?: string): void;
    removeProperty(name: string): string;
  };
  getBoundingClientRect(): { left: number; right: number };
  contains(other: PageElement): boolean;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
declare const window: { innerWidth: number; axe?: unknown };
declare const document: { documentElement: PageElement; body: PageElement };
declare function getComputedStyle(el: PageElement): { overflowX: string };

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] as const;

/** One axe violation, printable: id, impact, help, and the CSS targets of the nodes. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string; html: string; summary: string }[];
}

export async function runAxe(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axe());
  return page.evaluate(
    async (tags) => {
      type AxeNode = { target: unknown[]; html: string; failureSummary?: string };
      type AxeResult = {
        id: string;
        impact?: string | null;
        help: string;
        helpUrl: string;
        nodes: AxeNode[];
      };
      const w = window as unknown as {
        axe: { run(ctx: unknown, o: unknown): Promise<{ violations: AxeResult[] }> };
      };
      const result = await w.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.map(String).join(' '),
          html: n.html.slice(0, 200),
          summary: (n.failureSummary ?? '').slice(0, 300),
        })),
      }));
    },
    [...WCAG_TAGS],
  );
}

export function formatAxe(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.id} (${v.impact ?? 'n/a'}): ${v.help} <${v.helpUrl}>\n` +
        v.nodes
          .map((n) => `    at ${n.target}: ${n.html}\n      ${n.summary.replace(/\n/g, ' ')}`)
          .join('\n'),
    )
    .join('\n');
}

/** A sideways overflow: page width vs. viewport, and the elements that stick out. */
export interface Overflow {
  textSize: '100%' | '200%';
  scrollWidth: number;
  innerWidth: number;
  /** Elements whose right edge is past the viewport, innermost first (at most 10). */
  elements: string[];
}

async function measureOverflow(page: Page, textSize: Overflow['textSize']): Promise<Overflow | null> {
  return page.evaluate((textSize) => {
    const root = document.documentElement;
    const before = root.style.getPropertyValue('font-size');
    const priority = root.style.getPropertyPriority('font-size');
    if (textSize === '200%') root.style.setProperty('font-size', '200%', 'important');
    try {
      const innerWidth = window.innerWidth;
      const scrollWidth = root.scrollWidth;
      if (scrollWidth <= innerWidth) return null;
      // An element inside a box that scrolls or clips sideways does not widen the page.
      const contained = (el: PageElement): boolean => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const o = getComputedStyle(p).overflowX;
          if (o !== 'visible') return true;
        }
        return false;
      };
      // The right edge of the box or of its content: a word that cannot wrap overflows its box, which
      // itself stays within the page (scrollWidth counts the overflowing content).
      const rightEdge = (el: PageElement): number => {
        const rect = el.getBoundingClientRect();
        return Math.max(rect.right, rect.left + el.scrollWidth);
      };
      const sticking = [...document.body.querySelectorAll('*')].filter(
        (el) => rightEdge(el) > innerWidth + 0.5 && !contained(el),
      );
      // Innermost first: an element none of whose descendants also sticks out is where to look.
      const innermost = sticking.filter((el) => !sticking.some((o) => o !== el && el.contains(o)));
      const describe = (el: PageElement): string => {
        const id = el.id ? `#${el.id}` : '';
        const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
        const right = Math.round(rightEdge(el));
        const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 60);
        return `${el.tagName.toLowerCase()}${id}${cls} (right edge ${right} px) "${text}"`;
      };
      return {
        textSize,
        scrollWidth,
        innerWidth,
        elements: [...innermost, ...sticking.filter((e) => !innermost.includes(e))]
          .slice(0, 10)
          .map(describe),
      };
    } finally {
      if (textSize === '200%') {
        if (before) root.style.setProperty('font-size', before, priority);
        else root.style.removeProperty('font-size');
      }
    }
  }, textSize);
}

export async function findOverflow(page: Page): Promise<Overflow[]> {
  const found: Overflow[] = [];
  for (const size of ['100%', '200%'] as const) {
    const o = await measureOverflow(page, size);
    if (o) found.push(o);
  }
  return found;
}

export function formatOverflow(overflows: Overflow[]): string {
  return overflows
    .map(
      (o) =>
        `at ${o.textSize} text size the page is ${o.scrollWidth} px wide in a ${o.innerWidth} px viewport:\n` +
        o.elements.map((e) => `    ${e}`).join('\n'),
    )
    .join('\n');
}

/** What a browser context saw: every request URL, the ones outside the allowed origins, CSP errors. */
export interface Traffic {
  allowedOrigins: Set<string>;
  requests: string[];
  foreign: string[];
  cspErrors: string[];
  /** How many of `foreign` and `cspErrors` the checks have already reported. */
  reported: { foreign: number; csp: number };
}

const traffic = new WeakMap<BrowserContext, Traffic>();

/** Records the context's requests; any origin not in `allowedOrigins` is a violation. */
export function watchTraffic(context: BrowserContext, allowedOrigins: Iterable<string>): Traffic {
  const record: Traffic = {
    allowedOrigins: new Set([...allowedOrigins].map((o) => new URL(o).origin)),
    requests: [],
    foreign: [],
    cspErrors: [],
    reported: { foreign: 0, csp: 0 },
  };
  context.on('request', (request) => {
    const url = request.url();
    record.requests.push(url);
    // data: and blob: URLs never leave the browser.
    if (/^(data|blob|about):/.test(url)) return;
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      origin = url;
    }
    if (!record.allowedOrigins.has(origin)) record.foreign.push(url);
  });
  const watchPage = (page: Page) =>
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
        record.cspErrors.push(`${page.url()}: ${message.text()}`);
    });
  context.pages().forEach(watchPage);
  context.on('page', watchPage);
  traffic.set(context, record);
  return record;
}

export function trafficOf(page: Page): Traffic {
  const record = traffic.get(page.context());
  if (!record)
    throw new Error('This page was not opened with newPhone/newDesktop: its requests are not recorded');
  return record;
}

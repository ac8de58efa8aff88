// The login's own pages: plain Swedish HTML, no JavaScript, no third-party requests, readable on a phone.
// They never show personal data: the messages come from the error table and identity errors, which are
// written without numbers or names.
import type { FastifyReply } from 'fastify';

/**
 * Nothing but our own inline style; no framing. Referrer only to ourselves (`same-origin`): the callback URL
 * carries code and state and must not reach another site, while `no-referrer` would make browsers send
 * `Origin: null` on our own form posts.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const;

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f4f2;color:#1d1d1b;line-height:1.5;font-size:1.0625rem}
main{max-width:40rem;margin:0 auto;padding:1.25rem 1rem 3rem;background:#fff;min-height:100vh;box-sizing:border-box;overflow-wrap:anywhere;hyphens:auto}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
.message{background:#fde8e8;border-left:6px solid #a4161a;padding:.75rem 1rem}
.info{background:#e8f1fb;border-left:6px solid #0a58ca;padding:.75rem 1rem}
a.button,button{display:inline-block;font:inherit;min-height:48px;padding:.7rem 1.4rem;margin:.75rem .5rem 0 0;border-radius:6px;border:2px solid #1d1d1b;background:#1d1d1b;color:#fff;text-decoration:none;box-sizing:border-box;cursor:pointer}
a.secondary{background:#fff;color:#1d1d1b}
:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}
`;

/**
 * A whole self-contained page (inline style, no other resource): `site` names whose page it is in the
 * title. The login's pages and the development IdP's share it.
 */
export function htmlDocument(title: string, site: string, style: string, body: string): string {
  return `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} – ${escapeHtml(site)}</title>
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export function layout(title: string, body: string): string {
  return htmlDocument(title, 'Samtycke', STYLE, body);
}

export interface PageLink {
  href: string;
  label: string;
  secondary?: boolean;
}

function links(items: readonly PageLink[]): string {
  if (items.length === 0) return '';
  const html = items
    .map(
      (l) =>
        `<a class="button${l.secondary ? ' secondary' : ''}" href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`,
    )
    .join('\n');
  return `<p>${html}</p>`;
}

/** A failure the person can act on: what happened, and where to go from here. */
export function errorPage(o: {
  title: string;
  message: string;
  links?: readonly PageLink[];
  extra?: string;
}): string {
  const message = o.message === o.title ? '' : `<p class="message" role="alert">${escapeHtml(o.message)}</p>`;
  return layout(
    o.title,
    `<h1>${escapeHtml(o.title)}</h1>\n${message}\n${o.extra ?? ''}${links(o.links ?? [])}`,
  );
}

export function loggedOutPage(): string {
  return layout(
    'Du är utloggad',
    `<h1>Du är utloggad</h1>
<p class="info">Du är utloggad från Samtycke. Stäng webbläsaren om du använder en delad dator.</p>
${links([{ href: '/auth/login', label: 'Logga in igen', secondary: true }])}`,
  );
}

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

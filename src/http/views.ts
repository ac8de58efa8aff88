// Server-rendered pages: Eta templates from templates/pages/ (auto-escaped), one layout, one stylesheet,
// no JavaScript and no third-party requests. `reply.page(view, data)` renders with the layout; the security
// headers (CSP, no-store, …) are every answer's (security-headers.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { templatesDir } from '../paths.ts';

export const pagesDir = path.join(templatesDir, 'pages');

export interface PageData {
  title: string;
  /** 'signer' (phone-first, narrow) or 'staff' (wider tables). */
  area?: 'signer' | 'staff';
  nav?: { href: string; label: string; current?: boolean }[];
  homeHref?: string;
  /** CSRF token for the logout button in the header (only when logged in). */
  logoutCsrf?: string;
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    page(view: string, data: PageData, status?: number): FastifyReply;
  }
}

// The pages' Content-Security-Policy and the other security headers are set on every answer by
// security-headers.ts; a page needs nothing of its own.
export { contentSecurityPolicy } from './security-headers.ts';

export default fp(
  async (app) => {
    const eta = new Eta({ views: pagesDir, autoEscape: true, cache: app.config.production, autoTrim: false });
    await app.register(view, { engine: { eta }, root: pagesDir, viewExt: 'eta', layout: 'layout' });
    const css = readFileSync(path.join(pagesDir, 'assets', 'app.css'));
    app.get('/assets/app.css', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
    );
    app.decorateReply('page', function (this: FastifyReply, name: string, data: PageData, status = 200) {
      this.code(status);
      // @fastify/view sends the rendered page itself.
      void this.view(name, { area: 'signer', ...data });
      return this;
    });
  },
  { name: 'views' },
);

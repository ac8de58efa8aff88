// The start page: where a guardian, a youth or a staff member begins.
import type { App } from './types.ts';

export default async function homeRoutes(app: App) {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.page('home', { title: 'Start' }));
}

// The 'notify' plugin: the mailer (SMTP_URL, or the development capture — refused in production), the
// SMS sender (development only for now), and in development the /dev/mail page listing what was "sent".
// The development parts live in src/dev/ and are imported only in development.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createMailer } from './mailer.ts';
import { type Notifier, registerNotifier, unregisterNotifier } from './registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    notify: Notifier;
  }
}

// A named function, not an arrow inside `export default fp(…)`: tsc (5.9) leaves the `.ts` of a dynamic
// import() inside an `export default` expression, and of every later one in the file, as it is, so the
// compiled dist/ asked for dev/sms-capture.ts (test/build.test.ts).
async function notifyPlugin(app: FastifyInstance) {
  const { config } = app;
  if (config.production && !config.mail.smtpUrl)
    throw new Error('SMTP_URL is required in production: mail capture is for development');
  const mailer = await createMailer(config);
  const notifier: Notifier = {
    mailer,
    sms: config.production ? undefined : new (await import('../dev/sms-capture.ts')).DevelopmentSmsSender(),
  };
  app.decorate('notify', notifier);
  registerNotifier(app.db, notifier);
  app.log.info({ mail: mailer.description }, 'mailer ready');
  app.addHook('onClose', async () => {
    unregisterNotifier(app.db);
    await mailer.close();
  });

  if (!config.production) {
    const { default: devMailRoutes } = await import('../dev/mail-page.ts');
    await app.register(devMailRoutes, { capturing: mailer.capturing });
  }
}

export default fp(notifyPlugin, { name: 'notify', dependencies: ['db'] });

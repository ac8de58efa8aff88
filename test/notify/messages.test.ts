import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import type { LocalDate } from '../../src/domain/dates.ts';
import {
  clearCapturedMail,
  listCapturedMail,
  parseMessage,
  startMailCapture,
} from '../../src/dev/mail-capture.ts';
import { createMailer } from '../../src/notify/mailer.ts';
import { swedishDate } from '../../src/domain/dates.ts';
import { type Audience, composeMessage } from '../../src/notify/messages.ts';
import { NOTIFICATION_KINDS } from '../../src/notify/payload.ts';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import notifyPlugin from '../../src/notify/plugin.ts';
import { build, freshDatabase, openDb, testConfig } from '../helper.ts';

const LINK = 'http://localhost:3000/s/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';

t.test('every message: a subject, the link, plain Swedish, nothing of the case', async (t) => {
  let count = 0;
  for (const kind of NOTIFICATION_KINDS) {
    for (const audience of ['signer', 'organisation'] as Audience[]) {
      const m = composeMessage(kind, audience, {
        link: LINK,
        lastDay: '2026-12-24' as LocalDate,
        daysLeft: 30,
      });
      if (!m) continue;
      count++;
      t.ok(m.subject.length > 5 && m.subject.length < 80, `${kind}/${audience}: subject`);
      t.ok(m.text.includes(LINK), `${kind}/${audience}: link in the e-mail`);
      t.ok(
        m.sms.includes(LINK) && m.sms.length <= 160 + LINK.length,
        `${kind}/${audience}: short SMS with link`,
      );
      t.notMatch(m.text, /@/, 'no e-mail address');
      t.notMatch(m.text, /\d{6}[-+]?\d{4}/, 'no number');
    }
  }
  t.equal(count, 13, 'invitation and reminder to signers only; ending soon to the organisation only');
  t.notOk(composeMessage('ending_soon', 'signer', { link: LINK }));
  t.notOk(composeMessage('invitation', 'organisation', { link: LINK }));
  // Someone wary of links can go to the service's own address instead: the invitation and the reminder
  // say where (the address only: no names, numbers or organisation).
  for (const kind of ['invitation', 'reminder'] as const) {
    const m = composeMessage(kind, 'signer', { link: LINK });
    t.match(
      m?.text,
      'Gå då själv till http://localhost:3000/mina-samtycken',
      `${kind}: the service's own address`,
    );
  }
  t.equal(swedishDate('2026-04-09' as LocalDate), '9 april 2026');
  t.match(composeMessage('ending_soon', 'organisation', { link: LINK, daysLeft: 1 })?.text, /om 1 dag\./);
});

t.test('the development capture receives what nodemailer sends and decodes it', async (t) => {
  clearCapturedMail();
  const config = loadConfig({ SAMTYCKE_ENV: 'development', LOG_LEVEL: 'silent' });
  const mailer = await createMailer(config);
  t.teardown(() => mailer.close());
  t.equal(mailer.capturing, true);
  t.equal(mailer.description, 'development mail capture (/dev/mail)');
  await mailer.send({
    to: 'mottagare@hem.example',
    subject: 'Påminnelse: åäö',
    text: `Hej!\n\nÅÄÖ åäö ${LINK}\n`,
  });
  const [mail] = listCapturedMail();
  t.equal(mail?.to, 'mottagare@hem.example');
  t.same(mail?.envelope.to, ['mottagare@hem.example']);
  t.equal(mail?.subject, 'Påminnelse: åäö');
  t.match(mail?.text, /ÅÄÖ åäö http:\/\/localhost:3000\/s\/abc/);
  t.equal(mail?.attachments, 0);
  t.same(mail?.parts, ['text/plain']);
});

t.test('regression: a send after close() is refused and opens no transport', async (t) => {
  clearCapturedMail();
  const config = loadConfig({ SAMTYCKE_ENV: 'development', LOG_LEVEL: 'silent' });
  const mailer = await createMailer(config);
  await mailer.send({ to: 'a@hem.example', subject: 'Först', text: 'Hej' });
  await mailer.close();
  // A job still running while its app stops: opening a new transport (and capture server) here would
  // keep the process from ever exiting.
  await t.rejects(mailer.send({ to: 'b@hem.example', subject: 'Sent', text: 'Hej' }), {
    message: 'the mailer is closed',
  });
  t.same(
    listCapturedMail().map((m) => m.to),
    ['a@hem.example'],
  );
  const never = await createMailer(config);
  await never.close();
  await t.rejects(never.send({ to: 'c@hem.example', subject: 'Aldrig', text: 'Hej' }), {
    message: 'the mailer is closed',
  });
});

t.test('the MIME reader counts attachments', async (t) => {
  const raw = [
    'From: a@b.example',
    'To: c@d.example',
    'Subject: =?UTF-8?Q?Hej_d=C3=A5?=',
    'Content-Type: multipart/mixed; boundary="XX"',
    '',
    '--XX',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Hallå där').toString('base64'),
    '--XX',
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename="a.pdf"',
    '',
    'JVBERi0=',
    '--XX--',
    '',
  ].join('\r\n');
  const parsed = parseMessage(raw);
  t.equal(parsed.subject, 'Hej då');
  t.equal(parsed.text, 'Hallå där');
  t.equal(parsed.attachments, 1);
  t.same(parsed.parts, ['text/plain', 'application/pdf']);
});

t.test('a bounded store: the last 200 messages', async (t) => {
  clearCapturedMail();
  const capture = await startMailCapture();
  t.teardown(() => capture.close());
  const config = loadConfig({
    SAMTYCKE_ENV: 'development',
    LOG_LEVEL: 'silent',
    SMTP_URL: `smtp://127.0.0.1:${capture.port}`,
  });
  const mailer = await createMailer(config);
  t.teardown(() => mailer.close());
  t.equal(mailer.capturing, false, 'SMTP_URL set: a real transport');
  for (let i = 0; i < 200; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, j) =>
        mailer.send({ to: `m${i + j}@hem.example`, subject: `nr ${i + j}`, text: 'x' }),
      ),
    );
  }
  for (let i = 200; i < 205; i++)
    await mailer.send({ to: `m${i}@hem.example`, subject: `nr ${i}`, text: 'x' });
  const mails = listCapturedMail();
  t.equal(mails.length, 200);
  t.equal(mails[0]?.subject, 'nr 204', 'newest first');
});

t.test('production refuses the mail capture', async (t) => {
  await t.rejects(
    createMailer({ production: true, mail: { smtpUrl: undefined, from: 'x <x@y.example>' } }),
    /SMTP_URL is required in production/,
  );
});

t.test('production: no /dev/mail page and no SMS sender', async (t) => {
  const url = await freshDatabase(t);
  const db = openDb(t, url);
  const dev = testConfig(url);
  // The notify plugin alone, with the settings production would have (loadConfig's refusals of the
  // other development defaults are tested in test/config.test.ts).
  const config = {
    ...dev,
    mode: 'production' as const,
    production: true,
    mail: { ...dev.mail, smtpUrl: 'smtp://127.0.0.1:2525' },
  };
  const app = Fastify({ logger: false });
  app.decorate('config', config);
  await app.register(
    fp(
      async (a) => {
        a.decorate('db', db);
      },
      { name: 'db' },
    ),
  );
  await app.register(notifyPlugin);
  t.teardown(() => app.close());
  t.equal((await app.inject('/dev/mail')).statusCode, 404);
  t.equal(app.notify.sms, undefined, 'SMS needs a provider in production');
  t.match(app.notify.mailer.description, /^SMTP smtp:\/\/127\.0\.0\.1:2525$/);
  t.equal(app.notify.mailer.capturing, false);
});

t.test('/dev/mail lists captured mail in development only', async (t) => {
  clearCapturedMail();
  const { app } = await build(t);
  await app.notify.mailer.send({ to: 'vh@hem.example', subject: 'Test <b>', text: 'Länk: http://x/s/abc' });
  await app.notify.sms?.send({ to: '070-000 00 00', text: 'SMS-test' });
  const res = await app.inject('/dev/mail');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/html/);
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.body, /Test &lt;b&gt;/, 'escaped');
  t.match(res.body, /SMS-test/);
  t.notMatch(res.body, /<script|https?:\/\/(?!x\/)[a-z]/i, 'no scripts, no third-party requests');
  const doc = (await app.inject('/openapi.json')).json();
  t.notOk(doc.paths['/dev/mail'], 'not in the API document');
});

// GET /dev/mail: what the development mail and SMS capture kept ("sent" mail and SMS), newest first.
// Registered by the notify plugin in development only.
import type { FastifyInstance } from 'fastify';
import { type CapturedMail, listCapturedMail } from './mail-capture.ts';
import { type CapturedSms, listCapturedSms } from './sms-capture.ts';

export default async function devMailRoutes(app: FastifyInstance, options: { capturing: boolean }) {
  app.get('/dev/mail', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
    return devMailPage(listCapturedMail(), listCapturedSms(), options.capturing);
  });
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const time = (d: Date): string =>
  d.toLocaleString('sv-SE', { timeZone: 'Europe/Stockholm', dateStyle: 'short', timeStyle: 'medium' });

function devMailPage(mails: CapturedMail[], sms: CapturedSms[], capturing: boolean): string {
  const mailItems = mails
    .map(
      (m) => `<article>
  <h3>${escapeHtml(m.subject || '(ingen rubrik)')}</h3>
  <p class="meta">Till ${escapeHtml(m.to)} · ${escapeHtml(time(m.receivedAt))} · ${m.attachments} bilagor</p>
  <pre>${escapeHtml(m.text)}</pre>
</article>`,
    )
    .join('\n');
  const smsItems = sms
    .map(
      (s) => `<article>
  <p class="meta">Till ${escapeHtml(s.to)} · ${escapeHtml(time(s.receivedAt))}</p>
  <pre>${escapeHtml(s.text)}</pre>
</article>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Utvecklingspost – Samtycke</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; line-height: 1.5; }
  article { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin: 0.75rem 0; }
  pre { white-space: pre-wrap; word-break: break-word; font-size: 0.95rem; }
  .meta { color: #555; font-size: 0.9rem; margin: 0; }
  .note { background: #fff4d6; padding: 0.5rem 1rem; border-radius: 6px; }
</style>
</head>
<body>
<h1>Utvecklingspost</h1>
<p class="note">Bara i utvecklingsläge. ${capturing ? 'E-post fångas här i stället för att skickas.' : 'E-post skickas via SMTP_URL och visas inte här.'} SMS visas alltid här i utvecklingsläge. De senaste 200 meddelandena, nyaste först.</p>
<h2>E-post (${mails.length})</h2>
${mailItems || '<p>Inga meddelanden ännu.</p>'}
<h2>SMS (${sms.length})</h2>
${smsItems || '<p>Inga SMS ännu.</p>'}
</body>
</html>
`;
}

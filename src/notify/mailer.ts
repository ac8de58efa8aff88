// Outgoing e-mail through nodemailer: SMTP_URL in production; in development without SMTP_URL, the
// in-process capture (src/dev/mail-capture.ts, imported only then). Plain text only, never an attachment,
// no file or URL access.
import type { Transporter } from 'nodemailer';
import type { Config } from '../config.ts';

export interface MailMessage {
  /** Never log it. */
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** For logs: the transport, never a password. */
  readonly description: string;
  readonly capturing: boolean;
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export async function createMailer(config: Pick<Config, 'mail' | 'production'>): Promise<Mailer> {
  const { smtpUrl } = config.mail;
  if (!smtpUrl && config.production)
    throw new Error('SMTP_URL is required in production: mail capture is for development');
  let description: string;
  if (smtpUrl) {
    const url = new URL(smtpUrl);
    description = `SMTP ${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 25)}`;
  } else description = 'development mail capture (/dev/mail)';

  // nodemailer, and in development the capture's SMTP server, are loaded and started with the first
  // message, not at start (a start sends nothing). A failure is not kept: the next message tries again.
  // After close() nothing opens again: a send that comes late (a job still running while the app stops)
  // fails and its job is tried again later, rather than starting a transport (and in development an SMTP
  // server) that no one closes and that keeps the process from exiting.
  let opening: Promise<Transport> | undefined;
  let closed = false;
  const open = (): Promise<Transport> => {
    if (closed) return Promise.reject(new Error('the mailer is closed'));
    return (opening ??= openTransport(smtpUrl).catch((error: unknown) => {
      opening = undefined;
      throw error;
    }));
  };
  return {
    description,
    capturing: !smtpUrl,
    async send(message) {
      const { transport } = await open();
      await transport.sendMail({
        from: config.mail.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    },
    async close() {
      closed = true;
      const opened = await opening?.catch(() => undefined);
      opened?.transport.close();
      await opened?.capture?.close();
    },
  };
}

interface Transport {
  transport: Transporter;
  /** The development capture's SMTP server (src/dev/mail-capture.ts). */
  capture?: { close(): Promise<void> };
}

async function openTransport(smtpUrl: string | undefined): Promise<Transport> {
  const { default: nodemailer } = await import('nodemailer');
  if (smtpUrl) {
    // Pooled: one SMTP connection reused for many messages instead of a connect, handshake and quit per
    // message, which made a burst of invitations queue behind each other. `?pool=false` in SMTP_URL opts out.
    return { transport: nodemailer.createTransport({ url: smtpUrl, pool: true }) };
  }
  const { startMailCapture } = await import('../dev/mail-capture.ts');
  const capture = await startMailCapture();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: capture.port,
    secure: false,
    ignoreTLS: true,
    // Pooled, as SMTP_URL is above.
    pool: true,
  });
  return { transport, capture };
}

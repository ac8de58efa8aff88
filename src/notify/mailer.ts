// Outgoing e-mail through nodemailer: SMTP_URL in production; in development without SMTP_URL, the
// in-process capture (src/dev/mail-capture.ts, imported only then). Plain text only, never an attachment,
// no file or URL access.
import nodemailer, { type Transporter } from 'nodemailer';
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
  let transport: Transporter;
  let capture: { port: number; close(): Promise<void> } | undefined;
  let description: string;
  if (config.mail.smtpUrl) {
    // Pooled: one SMTP connection reused for many messages instead of a connect, handshake and quit per
    // message, which made a burst of invitations queue behind each other. `?pool=false` in SMTP_URL opts out.
    transport = nodemailer.createTransport({ url: config.mail.smtpUrl, pool: true });
    const url = new URL(config.mail.smtpUrl);
    description = `SMTP ${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 25)}`;
  } else {
    if (config.production)
      throw new Error('SMTP_URL is required in production: mail capture is for development');
    const { startMailCapture } = await import('../dev/mail-capture.ts');
    capture = await startMailCapture();
    transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: capture.port,
      secure: false,
      ignoreTLS: true,
      // Pooled, as SMTP_URL is above.
      pool: true,
    });
    description = `development mail capture on 127.0.0.1:${capture.port}`;
  }
  return {
    description,
    capturing: capture !== undefined,
    async send(message) {
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
      transport.close();
      await capture?.close();
    },
  };
}

// Development mail capture: an SMTP server (smtp-server) on 127.0.0.1 at a random port that keeps the
// last messages in memory for the /dev/mail page and for tests. Never used in production (the notify
// plugin refuses it). The store is per process and bounded.
import type { AddressInfo } from 'node:net';

export interface CapturedMail {
  id: number;
  receivedAt: Date;
  envelope: { from: string; to: string[] };
  from: string;
  to: string;
  subject: string;
  /** The decoded text/plain body. */
  text: string;
  /** Content types of every leaf part. */
  parts: string[];
  /** Parts that are attachments (Content-Disposition attachment, a file name, or not text). */
  attachments: number;
  /** Header names as sent. */
  headerNames: string[];
  raw: string;
}

export const CAPTURE_LIMIT = 200;
const store: CapturedMail[] = [];
let nextId = 1;

/** Captured messages, newest first. */
export function listCapturedMail(): CapturedMail[] {
  return [...store].reverse();
}

export function clearCapturedMail(): void {
  store.length = 0;
}

function keep(mail: Omit<CapturedMail, 'id'>): void {
  store.push({ id: nextId++, ...mail });
  if (store.length > CAPTURE_LIMIT) store.splice(0, store.length - CAPTURE_LIMIT);
}

export interface MailCapture {
  port: number;
  close(): Promise<void>;
}

export async function startMailCapture(): Promise<MailCapture> {
  // Loaded here, not with the store: the /dev/mail page reads the store from the start on, and the server
  // starts with the first message (src/notify/mailer.ts).
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        try {
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          keep({
            receivedAt: new Date(),
            envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) },
            ...parseMessage(raw),
            raw,
          });
          callback();
        } catch (e) {
          callback(e as Error);
        }
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// --- A small MIME reader: enough for what nodemailer sends (RFC 5322, 2045–2047) -----------------------

interface Part {
  headers: Map<string, string>;
  headerNames: string[];
  body: string;
}

function splitPart(raw: string): Part {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  const headerNames: string[] = [];
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    headerNames.push(name);
    headers.set(name.toLowerCase(), line.slice(i + 1).trim());
  }
  return { headers, headerNames, body };
}

function param(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\*?="?([^";]+)"?`, 'i').exec(value);
  return m?.[1];
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body).toString('utf8');
  return part.body;
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=). */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function leaves(part: Part): Part[] {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /^multipart\//i.test(type) ? param(type, 'boundary') : undefined;
  if (!boundary) return [part];
  const pieces = part.body.split(`--${boundary}`).slice(1);
  return pieces
    .filter((p) => !p.startsWith('--'))
    .map((p) => splitPart(p.replace(/^\r?\n/, '')))
    .flatMap(leaves);
}

export function parseMessage(raw: string) {
  const top = splitPart(raw);
  const parts = leaves(top);
  const typeOf = (p: Part) =>
    (p.headers.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  const isAttachment = (p: Part) => {
    const disposition = p.headers.get('content-disposition') ?? '';
    return (
      /^attachment/i.test(disposition) ||
      param(disposition, 'filename') !== undefined ||
      param(p.headers.get('content-type') ?? '', 'name') !== undefined ||
      !typeOf(p).startsWith('text/')
    );
  };
  const textPart = parts.find((p) => typeOf(p) === 'text/plain' && !isAttachment(p));
  return {
    from: decodeWords(top.headers.get('from') ?? ''),
    to: decodeWords(top.headers.get('to') ?? ''),
    subject: decodeWords(top.headers.get('subject') ?? ''),
    text: textPart ? decodeBody(textPart) : '',
    parts: parts.map(typeOf),
    attachments: parts.filter(isAttachment).length,
    headerNames: top.headerNames,
  };
}

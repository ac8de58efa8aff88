// Invitation links exist in clear only in the answer of the act that made them (create, renew, remind).
// The page that shows them comes after a 303, so they travel there once in a short-lived cookie,
// encrypted and authenticated (AES-256-GCM, key derived from SESSION_SECRET), bound to the staff member
// and the consent, limited to that page's path, and cleared when read. Any instance can read it; nothing
// is stored server-side.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { SignerRole } from '../../domain/roles.ts';

export interface FlashLink {
  role: SignerRole;
  url: string;
  expiresAt: string;
}

/** The act that made the links, so the page says what just happened. */
export type LinksOccasion = 'request' | 'reminder' | 'renewal';

interface Payload {
  consentId: string;
  staffId: string;
  exp: number;
  occasion: LinksOccasion;
  links: FlashLink[];
}

const MAX_AGE_SECONDS = 600;

const cookieName = (config: Config) => (config.production ? '__Secure-samtycke_lankar' : 'samtycke_lankar');
export const linksPath = (consentId: string) => `/samtycken/${consentId}/lankar`;

const keys = new WeakMap<Config, Buffer>();
function keyOf(config: Config): Buffer {
  let key = keys.get(config);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', config.sessionSecret, 'samtycke', 'staff-invitation-links', 32));
    keys.set(config, key);
  }
  return key;
}

function cookieOptions(config: Config, consentId: string, maxAge: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: config.production,
    path: linksPath(consentId),
    maxAge,
  };
}

export function setFlashLinks(
  request: FastifyRequest,
  reply: FastifyReply,
  consentId: string,
  staffId: string,
  links: { role: SignerRole; invitation?: { url: string; expiresAt: Date } }[],
  occasion: LinksOccasion = 'request',
): void {
  const { config, clock } = request.server;
  const payload: Payload = {
    consentId,
    staffId,
    exp: clock.now().getTime() + MAX_AGE_SECONDS * 1000,
    occasion,
    links: links.flatMap((s) =>
      s.invitation
        ? [{ role: s.role, url: s.invitation.url, expiresAt: s.invitation.expiresAt.toISOString() }]
        : [],
    ),
  };
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(config), iv);
  cipher.setAAD(Buffer.from(`${consentId}:${staffId}`));
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  const value = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  reply.setCookie(cookieName(config), value, cookieOptions(config, consentId, MAX_AGE_SECONDS));
}

/** The links for this consent and staff member, once: the cookie is cleared whatever it held. */
export function takeFlashLinks(
  request: FastifyRequest,
  reply: FastifyReply,
  consentId: string,
  staffId: string,
): { occasion: LinksOccasion; links: FlashLink[] } | null {
  const { config, clock } = request.server;
  const value = request.cookies[cookieName(config)];
  if (!value) return null;
  reply.clearCookie(cookieName(config), cookieOptions(config, consentId, 0));
  try {
    const raw = Buffer.from(value, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', keyOf(config), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    decipher.setAAD(Buffer.from(`${consentId}:${staffId}`));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const payload = JSON.parse(text) as Payload;
    if (payload.consentId !== consentId || payload.staffId !== staffId) return null;
    if (payload.exp < clock.now().getTime()) return null;
    return { occasion: payload.occasion ?? 'request', links: payload.links };
  } catch {
    return null;
  }
}

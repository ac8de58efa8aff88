// How one setting's text is read: the value types of the environment schema (config.ts), each with the
// message a bad value gets (never the value itself: it may be a secret).
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEV_BLIND_INDEX_KEY, DEV_ENCRYPTION_KEYS, KeyRingError, parseKeys } from './db/encryption.ts';

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
export const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
export const list = z.string().transform((v) =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean),
);
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
/** A key ring setting, checked as the key ring reads it; the message never shows a key. */
export const keySetting = (name: string, options: { single?: boolean } = {}) =>
  z.string().superRefine((value, ctx) => {
    try {
      parseKeys(value, name, options);
    } catch (e) {
      if (!(e instanceof KeyRingError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message.replace(`${name}: `, '') });
    }
  });
const DEV_KEY_MATERIAL = new Set(
  [DEV_ENCRYPTION_KEYS, DEV_BLIND_INDEX_KEY].map((k) =>
    parseKeys(k, 'development key')[0]!.key.toString('hex'),
  ),
);
/** Whether a key ring setting holds a development key (by its id or its bytes), current or older. */
export const isDevKey = (setting: string, options: { single?: boolean } = {}) =>
  parseKeys(setting, 'key', options).some(
    (k) => k.id === 'dev-not-secret' || DEV_KEY_MATERIAL.has(k.key.toString('hex')),
  );
export const dayList = list.pipe(z.array(z.string().regex(/^\d+$/).transform(Number)).min(1));
/** Requests per minute; 0: no limit. */
export const perMinute = (fallback: number) => optional(int(0, 1_000_000)).default(fallback);

/** proxy-addr's names for address ranges, allowed in TRUST_PROXY besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const isAddressOrCidr = (v: string) => {
  const [address = '', prefix, ...rest] = v.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
};
/**
 * Whose X-Forwarded-For / -Proto / -Host to believe: `false` (nobody: the peer's address is the client's),
 * a number of proxy hops in front of us, or the proxies' addresses and CIDRs. `true` (everyone) is refused:
 * any caller could then choose its own address and walk past the per-address rate limits.
 */
export const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    if (/^(false|no|off|0)$/i.test(v)) return false;
    if (/^\d+$/.test(v)) {
      const hops = Number(v);
      if (hops <= 10) return hops;
    } else if (!/^(true|yes|on)$/i.test(v)) {
      const entries = v.split(/[\s,]+/).filter(Boolean);
      if (entries.length > 0 && entries.every((e) => PROXY_RANGE_NAMES.includes(e) || isAddressOrCidr(e)))
        return entries;
    }
    ctx.addIssue({
      code: 'custom',
      message:
        "must be false, a number of proxy hops (1–10), or the proxies' addresses/CIDRs (true would trust anyone)",
    });
    return z.NEVER;
  });

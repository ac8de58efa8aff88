// What the staff pages share: the page frame (nav, logout), Swedish labels, dates in Swedish local time,
// field errors from `validation_failed`, and QR codes for invitation links.
import type { FastifyRequest } from 'fastify';
import type { FieldError } from '../../consents/validation.ts';
import { type ConsentStatus, STATUS_LABELS_SV, type StatusReason } from '../../domain/consent.ts';
import { addDays, lastDayBefore, localDateOf, TIME_ZONE } from '../../domain/dates.ts';
import { type AppError, isAppError } from '../../errors.ts';
import { csrfToken } from '../../identity/csrf.ts';
import type { PageData } from '../views.ts';

export { ROLE_LABELS_SV as ROLE_LABELS } from '../../domain/roles.ts';

export const SIGNER_STATE_LABELS = {
  signed: 'Har signerat',
  pending: 'Har inte signerat än',
  declined: 'Har avböjt',
} as const;

/** "Gällande", "Avböjt", …: the domain's adjectives, as a badge. */
export const statusLabel = (status: ConsentStatus): string => {
  const s = STATUS_LABELS_SV[status];
  return s.charAt(0).toUpperCase() + s.slice(1);
};

export const REASON_LABELS: Record<StatusReason, string> = {
  awaiting_signatures: 'Väntar på underskrifter.',
  all_signed: 'Alla har signerat.',
  declined: 'En av de tillfrågade avböjde.',
  cancelled: 'Förfrågan avbröts av verksamheten.',
  request_lifetime_passed: 'Förfrågan förföll innan alla hade signerat.',
  withdrawn: 'Samtycket återkallades.',
  support_ended: 'De samordnade insatserna avslutades.',
  one_year_passed: 'Ett år har gått sedan första underskriften.',
  child_turned_18: 'Barnet har fyllt 18 år.',
};

export const CHANNEL_LABELS = {
  service: 'i tjänsten',
  phone: 'per telefon',
  in_person: 'vid besök',
  letter: 'per brev',
} as const;

const dateTime = new Intl.DateTimeFormat('sv-SE', {
  timeZone: TIME_ZONE,
  dateStyle: 'short',
  timeStyle: 'short',
});

/** "2026-11-23 14:05", Europe/Stockholm. */
export const fmtDateTime = (d: Date | null | undefined): string => (d ? dateTime.format(d) : '');
/** "2026-11-23", Europe/Stockholm. */
export const fmtDate = (d: Date | null | undefined): string => (d ? localDateOf(d) : '');
/** The last day an exclusive end instant still covers ("gäller t.o.m."). */
export const lastDay = (until: Date | null | undefined): string => (until ? lastDayBefore(until) : '');
/** Today in Swedish local time, for date inputs. */
export const today = (now: Date): string => localDateOf(now);
export const yesterday = (now: Date): string => addDays(localDateOf(now), -1);

/** The layout's data for a logged-in staff page. */
export function staffFrame(
  request: FastifyRequest,
  title: string,
  current?: '/personal' | '/samtycken/ny',
): PageData {
  const nav = [
    { href: '/personal', label: 'Samtycken', current: current === '/personal' },
    { href: '/samtycken/ny', label: 'Ny förfrågan', current: current === '/samtycken/ny' },
  ];
  return {
    title,
    area: 'staff',
    homeHref: '/personal',
    nav,
    ...(request.session ? { logoutCsrf: csrfToken(request) } : {}),
  };
}

/** The field errors of a `validation_failed`, as field → message (the first per field), and all of them. */
export function fieldErrors(error: AppError): { byField: Record<string, string>; list: FieldError[] } {
  const raw = Array.isArray(error.extra?.errors) ? (error.extra.errors as FieldError[]) : [];
  const list = raw.filter((e) => typeof e.field === 'string' && typeof e.message === 'string');
  const byField: Record<string, string> = {};
  for (const e of list) byField[e.field] ??= e.message;
  return { byField, list };
}

export const isValidationError = (e: unknown): e is AppError =>
  isAppError(e) && e.code === 'validation_failed';
export const isStateConflict = (e: unknown): e is AppError =>
  isAppError(e) && e.code === 'consent_state_conflict';

/** An HTML id for a field path (`guardians.0.name` → `guardians-0-name`). */
export const fieldId = (field: string): string => field.replace(/[^A-Za-z0-9_-]/g, '-');

/** An inline SVG QR code (no image request, so the CSP needs nothing more). */
export async function qrSvg(url: string): Promise<string> {
  // Loaded at the first links page, not at start.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  // Screen readers: the link is also given as text next to it.
  return svg.replace('<svg ', '<svg role="img" aria-label="QR-kod med länken" focusable="false" ');
}

/** A string from a form body or query (first value, trimmed), '' when absent. */
export function text(source: unknown, name: string): string {
  if (!source || typeof source !== 'object') return '';
  const v = (source as Record<string, unknown>)[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first.trim() : '';
}

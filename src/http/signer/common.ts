// What the signer pages share: who the signer is (from the session), the way back through the login, the
// signer's own consent, the PDF answer, and Swedish dates.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoadedConsent, SignerRecord } from '../../consents/consent.repository.ts';
import { consentContext, type SignerActor } from '../../consents/index.ts';
import { findOwnConsent, type SignerConsentItem } from '../../consents/list-consents.ts';
import { lastDayBefore, localDateOf, swedishDate, TIME_ZONE } from '../../domain/dates.ts';
import type { SignerRole } from '../../domain/roles.ts';
import { AppError } from '../../errors.ts';
import { getOrganisation } from '../../identity/organisations.ts';
import type { SessionData } from '../../identity/plugin.ts';
import type { Identity } from '../../identity/claims.ts';

/** The signer session of the request, or null (none, of staff, or without a personal number). */
export function signerSession(request: FastifyRequest): (SessionData & { personalNumber: string }) | null {
  const s = request.session;
  return s && s.audience === 'signer' && s.personalNumber ? { ...s, personalNumber: s.personalNumber } : null;
}

/** Sends the browser through the signer login and back to `returnTo` (a path of ours). */
export function toLogin(reply: FastifyReply, returnTo: string) {
  return reply
    .header('cache-control', 'no-store')
    .redirect(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`, 303);
}

/**
 * The signer acting in `role`, as the e-identification said. `formName` is only a fallback for a provider
 * that gives no name; the use cases check the number against the form before anything is done.
 */
export function signerActorOf(
  session: SessionData & { personalNumber: string },
  role: SignerRole,
  formName: string,
): SignerActor {
  return {
    type: 'signer',
    role,
    identity: {
      personalNumber: session.personalNumber,
      name: session.name ?? formName,
      issuer: session.issuer,
      acr: session.acr ?? undefined,
      authTime: session.authTime ?? undefined,
    },
  };
}

/** The person's own consent, as a signer: their list item, the whole consent, and who asked for it. */
export interface OwnConsent {
  session: SessionData & { personalNumber: string };
  item: SignerConsentItem;
  loaded: LoadedConsent;
  signer: SignerRecord;
  organisationName: string;
  actor: SignerActor;
}

/**
 * The consent `id` of the logged-in signer (null: sent through the login, back to `returnTo`). One they
 * are not a signer of is `not_found`, whoever asks.
 */
export async function ownConsent(
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  returnTo: string,
): Promise<OwnConsent | null> {
  const session = signerSession(request);
  if (!session) {
    await toLogin(reply, returnTo);
    return null;
  }
  const app = request.server;
  const own = await findOwnConsent(consentContext(app), session.personalNumber, id);
  if (!own) throw new AppError('not_found', 'Samtycket finns inte bland dina samtycken.');
  const { item, loaded, signer } = own;
  const organisation = await getOrganisation(app.db, loaded.consent.organisationId);
  return {
    session,
    item,
    loaded,
    signer,
    organisationName: organisation?.name ?? '',
    actor: signerActorOf(session, item.role, signer.name),
  };
}

/** The signer acting in `role` as this act's own identification said (http/auth/begin-login.ts). */
export function actIdentifiedActor(identity: Identity, role: SignerRole, actStartedAt: Date): SignerActor {
  return {
    type: 'signer',
    role,
    identity: {
      personalNumber: identity.personalNumber,
      name: identity.name,
      issuer: identity.issuer,
      acr: identity.acr,
      authTime: identity.authTime,
      actStartedAt,
    },
  };
}

/** A PDF for the signer's own eyes: inline (view) or attachment (download), never cached. */
export function sendPdf(
  reply: FastifyReply,
  doc: { bytes: Uint8Array; fileName: string },
  disposition: 'inline' | 'attachment',
) {
  return reply
    .code(200)
    .header('content-type', 'application/pdf')
    .header('content-disposition', `${disposition}; filename="${doc.fileName}"`)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .header('x-content-type-options', 'nosniff')
    .send(Buffer.from(doc.bytes));
}

const timeFormat = new Intl.DateTimeFormat('sv-SE', {
  timeZone: TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
});

/** "23 november 2026": the Swedish local date of an instant. */
export const swedishDayOf = (d: Date): string => swedishDate(localDateOf(d));

/** "14:05": the Swedish local time of an instant. */
export const swedishTime = (d: Date): string => timeFormat.format(d);

/** "23 november 2026 kl. 14:05". */
export const swedishDateTime = (d: Date): string => `${swedishDayOf(d)} kl. ${swedishTime(d)}`;

/** The last day a consent is in force (its `validUntil` is the exclusive end instant). */
export const lastValidDay = (validUntil: Date): string => swedishDate(lastDayBefore(validUntil));

/** A value from a urlencoded form body. */
export function formValue(request: FastifyRequest, key: string): string {
  const body = request.body;
  if (!body || typeof body !== 'object') return '';
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
}

/** A value from the query string. */
export function queryValue(request: FastifyRequest, key: string): string {
  const query = request.query;
  if (!query || typeof query !== 'object') return '';
  const value = (query as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
}

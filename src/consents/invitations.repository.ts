// Invitation links (/s/{token}): a random token of 256 bits, base64url, given out once and stored only as
// its SHA-256 (hex). Each belongs to one consent and one role, expires with the request, and is revoked
// when a newer link for the same role and channel is issued (a reminder) or used once the role has signed
// or declined. One live link per channel: the one shown to staff (QR / copy), the e-mailed and the SMS one.
import type { KeyRing } from '../db/encryption.ts';
import { createHash, randomBytes } from 'node:crypto';
import type { DbOrTx } from '../db/index.ts';
import { isUuid } from '../db/uuid.ts';
import type { InvitationChannel } from '../db/schema.ts';
import { statusAt } from '../domain/consent.ts';
import type { SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { loadConsent } from './consent.repository.ts';

export const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface IssuedInvitation {
  id: string;
  role: SignerRole;
  channel: InvitationChannel;
  /** The raw token: only here, at issue time. Never log or store it. */
  token: string;
  expiresAt: Date;
}

/** Revokes the live links of these roles (and channels), e.g. before a reminder issues new ones. */
export async function revokeInvitations(
  tx: DbOrTx,
  consentId: string,
  now: Date,
  filter: { roles?: readonly SignerRole[]; channels?: readonly InvitationChannel[] } = {},
): Promise<void> {
  let query = tx
    .updateTable('invitations')
    .set({ revoked_at: now })
    .where('consent_id', '=', consentId)
    .where('revoked_at', 'is', null)
    .where('used_at', 'is', null);
  if (filter.roles) query = query.where('role', 'in', [...filter.roles]);
  if (filter.channels) query = query.where('channel', 'in', [...filter.channels]);
  await query.execute();
}

/** A new link for a role and channel; the earlier live one of the same role and channel is revoked. */
export async function issueInvitation(
  tx: DbOrTx,
  input: { consentId: string; role: SignerRole; channel: InvitationChannel; expiresAt: Date; now: Date },
): Promise<IssuedInvitation> {
  await revokeInvitations(tx, input.consentId, input.now, { roles: [input.role], channels: [input.channel] });
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const row = await tx
    .insertInto('invitations')
    .values({
      consent_id: input.consentId,
      role: input.role,
      channel: input.channel,
      token_hash: hashToken(token),
      created_at: input.now,
      expires_at: input.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, role: input.role, channel: input.channel, token, expiresAt: input.expiresAt };
}

/** The role signed or declined: its links are used up. */
export async function markInvitationsUsed(tx: DbOrTx, consentId: string, role: SignerRole, now: Date) {
  await tx
    .updateTable('invitations')
    .set({ used_at: now })
    .where('consent_id', '=', consentId)
    .where('role', '=', role)
    .where('used_at', 'is', null)
    .execute();
}

interface StoredInvitation {
  id: string;
  consentId: string;
  role: SignerRole;
  expiresAt: Date;
  revokedAt: Date | null;
  usedAt: Date | null;
}

/** The link with this raw token (looked up by its hash), or with this id; undefined when there is none. */
async function findInvitation(
  db: DbOrTx,
  by: { token: string } | { id: string },
): Promise<StoredInvitation | undefined> {
  const query = db
    .selectFrom('invitations')
    .select(['id', 'consent_id', 'role', 'expires_at', 'revoked_at', 'used_at']);
  const row = await (
    'token' in by ? query.where('token_hash', '=', hashToken(by.token)) : query.where('id', '=', by.id)
  ).executeTakeFirst();
  return (
    row && {
      id: row.id,
      consentId: row.consent_id,
      role: row.role,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      usedAt: row.used_at,
    }
  );
}

export interface ResolvedInvitation {
  invitationId: string;
  consentId: string;
  role: SignerRole;
  expiresAt: Date;
}

/**
 * What the holder of a link to a request that no longer waits for signatures is told. The link page is
 * shown before anyone has identified, and a link can be forwarded: it says truthfully that the request is
 * over (not "replaced by a newer link"), and only where to see what happened, under Mina samtycken after
 * the e-identification. Only a request that ran out of time says so, since that is about the link itself.
 */
const ENDED_MESSAGE =
  'Förfrågan är avslutad och kan inte längre besvaras. Vad som har hänt med den ser du under Mina samtycken, när du har legitimerat dig.';
const LIFETIME_PASSED_MESSAGE =
  'Tiden för att svara på förfrågan har gått ut. Kontakta den som bad om samtycket om du vill ha en ny förfrågan.';

/** The consent and role of the link with this id, whatever became of it; undefined when there is none. */
export async function invitationById(
  db: DbOrTx,
  id: string,
): Promise<Pick<ResolvedInvitation, 'consentId' | 'role'> | undefined> {
  const row = isUuid(id) ? await findInvitation(db, { id }) : undefined;
  return row && { consentId: row.consentId, role: row.role };
}

const NOT_FOUND = 'Länken finns inte. Kontrollera att hela länken kom med.';

/**
 * What a link is for. Refuses, without saying anything about the consent: an unknown token
 * (`invitation_not_found`), a role that already signed or declined (`invitation_used`), and a link that
 * was replaced by a newer one, passed its time, or belongs to a request that no longer waits for
 * signatures (`invitation_expired`).
 */
export async function resolveInvitation(
  db: DbOrTx,
  keys: KeyRing,
  token: string,
  now: Date,
): Promise<ResolvedInvitation> {
  if (typeof token !== 'string' || !TOKEN_SHAPE.test(token))
    throw new AppError('invitation_not_found', NOT_FOUND);
  return checkInvitation(db, keys, await findInvitation(db, { token }), now);
}

/**
 * The same, by the link's id: where the browser returns after the login the link sent it through. The id
 * is no secret (it opens nothing without the e-identification of the person the link is for), so it may be
 * stored with the login attempt, where the token must never be (issue 15 §5).
 */
export async function resolveInvitationById(
  db: DbOrTx,
  keys: KeyRing,
  id: string,
  now: Date,
): Promise<ResolvedInvitation> {
  if (!isUuid(id)) throw new AppError('invitation_not_found', NOT_FOUND);
  return checkInvitation(db, keys, await findInvitation(db, { id }), now);
}

async function checkInvitation(
  db: DbOrTx,
  keys: KeyRing,
  row: StoredInvitation | undefined,
  now: Date,
): Promise<ResolvedInvitation> {
  if (!row) throw new AppError('invitation_not_found', NOT_FOUND);
  const loaded = await loadConsent(db, keys, row.consentId);
  const signer = loaded?.signers.find((s) => s.role === row.role);
  if (!loaded || !signer) throw new AppError('invitation_not_found');
  if (row.usedAt || signer.signedAt || signer.declinedAt)
    throw new AppError('invitation_used', 'Du har redan svarat på den här förfrågan.');
  // What happened to the request comes first: its links were revoked when it ended, and "replaced by a
  // newer link" would then be untrue. Said without who did what, since anyone may hold a forwarded link.
  const status = statusAt(loaded.facts, now);
  if (status.status !== 'pending')
    throw new AppError(
      'invitation_expired',
      status.reason === 'request_lifetime_passed' ? LIFETIME_PASSED_MESSAGE : ENDED_MESSAGE,
    );
  if (row.revokedAt)
    throw new AppError(
      'invitation_expired',
      'Länken har ersatts av en nyare. Använd den senaste länken du fått, eller logga in under Mina samtycken.',
    );
  if (row.expiresAt.getTime() <= now.getTime())
    throw new AppError('invitation_expired', LIFETIME_PASSED_MESSAGE);
  return { invitationId: row.id, consentId: row.consentId, role: row.role, expiresAt: row.expiresAt };
}

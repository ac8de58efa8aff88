// "Mina samtycken": every consent the identified person is a signer of, downloads, and withdrawal.
// A consent is found through the person's own signer rows (listConsentsForSigner): one they are not a
// signer of is "not found", whoever asks.
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  consentContext,
  downloadConsentDocument,
  listConsentsForSigner,
  withdrawConsent,
} from '../../consents/index.ts';
import type { SignerConsentItem } from '../../consents/list-consents.ts';
import { canTransition, STATUS_LABELS_SV } from '../../domain/consent.ts';
import { AppError, isAppError } from '../../errors.ts';
import { csrfField, freshAuthForm, requireCsrf, requireFreshAuth } from '../../identity/plugin.ts';
import type { App } from '../types.ts';
import {
  isFresh,
  lastValidDay,
  ROLE_LABELS_SV,
  sendPdf,
  signerActorOf,
  signerSession,
  swedishDate,
  toLogin,
} from './common.ts';

const hidden = { schema: { hide: true }, config: { auth: false as const } };
const MINE = '/mina-samtycken';

interface IdParams {
  id: string;
}

/** A signer may withdraw an active consent, or a pending one they have already signed. */
const mayWithdraw = (c: SignerConsentItem): boolean =>
  canTransition(c.status, 'withdraw') && (c.status === 'active' || c.state === 'signed');

function itemView(c: SignerConsentItem) {
  return {
    id: c.id,
    childName: c.childName,
    role: ROLE_LABELS_SV[c.role],
    status: c.status,
    statusLabel: STATUS_LABELS_SV[c.status],
    requestedAt: swedishDate(c.requestedAt),
    validFrom: c.validFrom ? swedishDate(c.validFrom) : null,
    validUntil: c.validUntil ? lastValidDay(c.validUntil) : null,
    state: c.state,
    receipt: c.validFrom !== null,
    mayWithdraw: mayWithdraw(c),
  };
}

export default async function myConsentsRoutes(app: App) {
  const ctx = () => consentContext(app);

  /** The person's consent `id` (null: redirected to the login); not theirs → `not_found`. */
  async function mine(request: FastifyRequest, reply: FastifyReply, id: string, returnTo: string) {
    const session = signerSession(request);
    if (!session) {
      await toLogin(reply, returnTo);
      return null;
    }
    const item = (await listConsentsForSigner(ctx(), session.personalNumber)).find((c) => c.id === id);
    if (!item) throw new AppError('not_found', 'Samtycket finns inte bland dina samtycken.');
    // The name on the form is the fallback only; the use cases check the number again.
    const actor = signerActorOf(session, item.role, session.name ?? '');
    return { session, item, actor };
  }

  app.get(MINE, hidden, async (request, reply) => {
    const session = signerSession(request);
    if (!session) return toLogin(reply, MINE);
    const items = await listConsentsForSigner(ctx(), session.personalNumber);
    return reply.page('signer/mine', {
      title: 'Mina samtycken',
      logoutCsrf: session.csrfToken,
      name: session.name,
      items: items.map(itemView),
    });
  });

  for (const [path, kind, disposition] of [
    ['dokument', 'form', 'attachment'],
    ['kvittens', 'receipt', 'attachment'],
  ] as const) {
    app.get<{ Params: IdParams }>(`${MINE}/:id/${path}`, hidden, async (request, reply) => {
      const found = await mine(request, reply, request.params.id, MINE);
      if (!found) return reply;
      const doc = await downloadConsentDocument(ctx(), found.actor, {
        consentId: found.item.id,
        kind,
        requestId: request.id,
      });
      return sendPdf(reply, doc, disposition);
    });
  }

  const withdrawPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    found: { session: { csrfToken: string }; item: SignerConsentItem },
  ) =>
    reply.page('signer/withdraw', {
      title: 'Återkalla samtycket',
      logoutCsrf: found.session.csrfToken,
      csrf: csrfField(request),
      item: itemView(found.item),
      fresh: isFresh(request),
    });

  app.get<{ Params: IdParams }>(`${MINE}/:id/aterkalla`, hidden, async (request, reply) => {
    const { id } = request.params;
    const found = await mine(request, reply, id, `${MINE}/${id}/aterkalla`);
    if (!found) return reply;
    if (!mayWithdraw(found.item))
      throw new AppError('consent_state_conflict', 'Det här samtycket går inte att återkalla.');
    return withdrawPage(request, reply, found);
  });

  app.post<{ Params: IdParams }>(
    `${MINE}/:id/aterkalla`,
    { ...hidden, preHandler: requireCsrf },
    async (request, reply) => {
      const { id } = request.params;
      const found = await mine(request, reply, id, `${MINE}/${id}/aterkalla`);
      if (!found) return reply;
      try {
        requireFreshAuth(request);
        const result = await withdrawConsent(ctx(), found.actor, { consentId: id, requestId: request.id });
        return reply.page('signer/withdrawn', {
          title: 'Samtycket är återkallat',
          logoutCsrf: found.session.csrfToken,
          withdrawnAt: swedishDate(result.withdrawnAt),
          childName: found.item.childName,
        });
      } catch (error) {
        if (!isAppError(error) || error.code !== 'fresh_auth_required') throw error;
        return reply.page(
          'signer/fresh',
          {
            title: 'Legitimera dig för att återkalla',
            logoutCsrf: found.session.csrfToken,
            act: 'withdraw',
            freshForm: freshAuthForm(request, `${MINE}/${id}/aterkalla`, 'Legitimera dig och återkalla'),
            backHref: MINE,
          },
          401,
        );
      }
    },
  );
}

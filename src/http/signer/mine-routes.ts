// "Mina samtycken": every consent the identified person is a signer of, downloads, who has read each
// consent (its access log, issue 16 §3), and withdrawal.
// A consent is found through the person's own signer rows (common.ts ownConsent): one they are not a
// signer of is "not found", whoever asks. Withdrawing starts its own identification (prompt=login,
// max_age=0) and completes in the act handler 'withdraw' when the provider answers.
import { z } from 'zod';
import { getAccessLog } from '../../consents/access-log.ts';
import {
  consentContext,
  downloadConsentDocument,
  listConsentsForSigner,
  withdrawConsent,
} from '../../consents/index.ts';
import type { SignerConsentItem } from '../../consents/list-consents.ts';
import { canTransition, STATUS_LABELS_SV } from '../../domain/consent.ts';
import { roleInSentenceSv, SIGNER_ROLES } from '../../domain/roles.ts';
import { AppError } from '../../errors.ts';
import { requireCsrf } from '../../identity/plugin.ts';
import { type IdentifiedAct, startActIdentification } from '../auth/index.ts';
import { csrfField } from '../csrf-field.ts';
import type { App } from '../types.ts';
import { accessLogView } from './access-log-view.ts';
import {
  actIdentifiedActor,
  lastValidDay,
  ownConsent,
  queryValue,
  sendPdf,
  signerSession,
  swedishDayOf,
  toLogin,
} from './common.ts';
import { renderSignerError } from './render-error.ts';

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
    role: roleInSentenceSv(c.role),
    status: c.status,
    statusLabel: STATUS_LABELS_SV[c.status],
    requestedAt: swedishDayOf(c.requestedAt),
    validFrom: c.validFrom ? swedishDayOf(c.validFrom) : null,
    validUntil: c.validUntil ? lastValidDay(c.validUntil) : null,
    state: c.state,
    answerable: c.status === 'pending' && c.state === 'pending',
    receipt: c.validFrom !== null,
    mayWithdraw: mayWithdraw(c),
  };
}

/** What the act 'withdraw' carries through the identification. */
const withdrawAct = z.object({ consentId: z.uuid(), role: z.enum(SIGNER_ROLES) });

const WITHDRAW_MESSAGE = 'Du återkallar ett samtycke i HLT – Hälsa, Lärande, Trygghet.';

export default async function mineRoutes(app: App) {
  const ctx = () => consentContext(app);

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
      const found = await ownConsent(request, reply, request.params.id, MINE);
      if (!found) return reply;
      const doc = await downloadConsentDocument(ctx(), found.actor, {
        consentId: found.item.id,
        kind,
        requestId: request.id,
      });
      return sendPdf(reply, doc, disposition);
    });
  }

  // Who has read the consent: staff and systems, never the signers themselves (consents/access-log.ts).
  app.get<{ Params: IdParams }>(`${MINE}/:id/atkomst`, hidden, async (request, reply) => {
    const { id } = request.params;
    const base = `${MINE}/${id}/atkomst`;
    const found = await ownConsent(request, reply, id, base);
    if (!found) return reply;
    const sida = queryValue(request, 'sida');
    const log = await getAccessLog(ctx(), found.item.id, {
      page: /^[1-9]\d{0,3}$/.test(sida) ? Number(sida) : 1,
    });
    return reply.page('signer/access-log', {
      title: 'Vem har sett samtycket',
      logoutCsrf: found.session.csrfToken,
      childName: found.item.childName,
      organisationName: found.organisationName,
      ...accessLogView(log, base),
    });
  });

  app.get<{ Params: IdParams }>(`${MINE}/:id/aterkalla`, hidden, async (request, reply) => {
    const { id } = request.params;
    const found = await ownConsent(request, reply, id, `${MINE}/${id}/aterkalla`);
    if (!found) return reply;
    if (!mayWithdraw(found.item))
      throw new AppError('consent_state_conflict', 'Det här samtycket går inte att återkalla.');
    return reply.page('signer/withdraw', {
      title: 'Återkalla samtycket',
      logoutCsrf: found.session.csrfToken,
      csrf: csrfField(request),
      item: itemView(found.item),
    });
  });

  app.post<{ Params: IdParams }>(
    `${MINE}/:id/aterkalla`,
    { ...hidden, preHandler: [app.limits.signerActs.hook, requireCsrf] },
    async (request, reply) => {
      const { id } = request.params;
      const found = await ownConsent(request, reply, id, `${MINE}/${id}/aterkalla`);
      if (!found) return reply;
      if (!mayWithdraw(found.item))
        throw new AppError('consent_state_conflict', 'Det här samtycket går inte att återkalla.');
      const act: z.input<typeof withdrawAct> = { consentId: id, role: found.item.role };
      return startActIdentification(request, reply, {
        act: { kind: 'withdraw', data: act },
        returnTo: `${MINE}/${id}/aterkalla`,
        userMessage: WITHDRAW_MESSAGE,
      });
    },
  );

  // The withdrawal's identification came back (auth_time checked against the act's start): withdraw.
  app.acts.set('withdraw', async (request, reply, identified: IdentifiedAct) => {
    const parsed = withdrawAct.safeParse(identified.act.data);
    if (!parsed.success) return renderSignerError(request, reply, new AppError('login_state_invalid'));
    const { consentId, role } = parsed.data;
    try {
      await withdrawConsent(ctx(), actIdentifiedActor(identified.identity, role, identified.actStartedAt), {
        consentId,
        requestId: request.id,
      });
    } catch (error) {
      return renderSignerError(request, reply, error, { href: MINE, label: 'Mina samtycken' });
    }
    return reply.header('cache-control', 'no-store').redirect(`${MINE}/${consentId}/aterkallat`, 303);
  });

  app.get<{ Params: IdParams }>(`${MINE}/:id/aterkallat`, hidden, async (request, reply) => {
    const { id } = request.params;
    const found = await ownConsent(request, reply, id, `${MINE}/${id}/aterkallat`);
    if (!found) return reply;
    const withdrawnAt = found.loaded.consent.withdrawnAt;
    if (!withdrawnAt) return reply.header('cache-control', 'no-store').redirect(MINE, 303);
    return reply.page('signer/withdrawn', {
      title: 'Samtycket är återkallat',
      logoutCsrf: found.session.csrfToken,
      withdrawnAt: swedishDayOf(withdrawnAt),
      childName: found.item.childName,
    });
  });
}

// Reading, signing and declining a request, at the consent's own address under Mina samtycken:
//
//   GET  /mina-samtycken/:id/granska         what consenting means, who signs, the whole form, the sign form
//   POST /mina-samtycken/:id/signera  (CSRF) checks what was entered, then starts the signature's own
//                                            identification (prompt=login, max_age=0); the act — the
//                                            consent, the role, the SHA-256 of the revision reviewed, the
//                                            place — waits in the login attempt, never in a URL
//   (callback)                               act 'sign': signs that revision if it is still the latest
//   GET  /mina-samtycken/:id/underskrivet     the receipt page
//   GET  /mina-samtycken/:id/avboj, POST      decline, with an optional reason (the login suffices)
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consentContext, declineConsent, signConsent } from '../../consents/index.ts';
import { latestFormSha256 } from '../../consents/documents.repository.ts';
import { assertSignEntries } from '../../consents/sign-consent.ts';
import { requiredRoles, roleInSentenceSv, SIGNER_ROLES } from '../../domain/roles.ts';
import { statusAt } from '../../domain/consent.ts';
import { AppError, isAppError } from '../../errors.ts';
import { requireCsrf } from '../../identity/plugin.ts';
import { type IdentifiedAct, startActIdentification } from '../auth/index.ts';
import { csrfField } from '../csrf-field.ts';
import type { App } from '../types.ts';
import {
  actIdentifiedActor,
  formValue,
  lastValidDay,
  type OwnConsent,
  ownConsent,
  swedishDayOf,
  swedishDateTime,
} from './common.ts';
import { formView } from './form-view.ts';
import { renderSignerError } from './render-error.ts';

const hidden = { schema: { hide: true }, config: { auth: false as const } };
const MINE = '/mina-samtycken';

interface IdParams {
  id: string;
}

/** Field names in the page's form, for the use cases' field errors. */
const FIELD_IDS: Record<string, string> = { place: 'ort', confirmSoleGuardian: 'ensam', reason: 'anledning' };

interface FieldProblem {
  field: string;
  id: string;
  message: string;
}

function fieldProblems(error: AppError): FieldProblem[] {
  const errors = (error.extra?.errors ?? []) as { field: string; message: string }[];
  return errors.map((e) => ({ field: e.field, id: FIELD_IDS[e.field] ?? e.field, message: e.message }));
}

/** What the act 'sign' carries through the identification (stored server-side in the login attempt). */
const signAct = z.object({
  consentId: z.uuid(),
  role: z.enum(SIGNER_ROLES),
  reviewedSha256: z.string().regex(/^[0-9a-f]{64}$/),
  place: z.string().max(100),
  confirmSoleGuardian: z.boolean(),
});

/** The text the provider may show during the signature's identification (no personal data). */
const SIGN_MESSAGE = 'Du skriver under ett samtycke i HLT – Hälsa, Lärande, Trygghet.';

/** A request the person can still answer: pending, and this person has neither signed nor declined. */
const answerable = (o: OwnConsent): boolean => o.item.status === 'pending' && o.item.state === 'pending';

export default async function signRoutes(app: App) {
  const ctx = () => consentContext(app);
  // An act's post: counted per person (rate limit), then the CSRF check.
  const posted = { ...hidden, preHandler: [app.limits.signerActs.hook, requireCsrf] };

  function reviewPage(
    request: FastifyRequest,
    reply: FastifyReply,
    o: OwnConsent,
    version: string,
    entered: { place?: string; sole?: boolean; errors?: FieldProblem[]; notice?: string } = {},
    status = 200,
  ) {
    const { consent } = o.loaded;
    const roles = requiredRoles(consent);
    return reply.page(
      'signer/review',
      {
        title: 'Läs och skriv under',
        logoutCsrf: o.session.csrfToken,
        csrf: csrfField(request),
        consentId: consent.id,
        role: roleInSentenceSv(o.item.role),
        organisationName: o.organisationName,
        obtainedBy: consent.obtainedBy,
        signers: roles.map((role) => {
          const s = o.loaded.signers.find((x) => x.role === role);
          return {
            role: roleInSentenceSv(role),
            you: role === o.item.role,
            state: s?.signedAt
              ? `har skrivit under ${swedishDayOf(s.signedAt)}`
              : 'har inte skrivit under än',
          };
        }),
        form: formView(o.loaded, o.organisationName),
        askSoleGuardian: consent.soleGuardian && o.item.role === 'guardian1',
        today: swedishDayOf(app.clock.now()),
        version,
        place: (entered.place ?? '').slice(0, 100),
        soleChecked: entered.sole ?? false,
        errors: entered.errors ?? [],
        notice: entered.notice,
      },
      status,
    );
  }

  app.get<{ Params: IdParams }>(`${MINE}/:id/granska`, hidden, async (request, reply) => {
    const { id } = request.params;
    const o = await ownConsent(request, reply, id, `${MINE}/${id}/granska`);
    if (!o) return reply;
    if (o.item.state === 'signed')
      return reply.header('cache-control', 'no-store').redirect(`${MINE}/${id}/underskrivet`, 303);
    if (!answerable(o)) return reply.header('cache-control', 'no-store').redirect(MINE, 303);
    return reviewPage(request, reply, o, await latestFormSha256(app.db, id));
  });

  app.post<{ Params: IdParams }>(`${MINE}/:id/signera`, posted, async (request, reply) => {
    const { id } = request.params;
    const o = await ownConsent(request, reply, id, `${MINE}/${id}/granska`);
    if (!o) return reply;
    if (!answerable(o))
      throw new AppError('consent_state_conflict', 'Förfrågan går inte längre att skriva under.');
    const place = formValue(request, 'ort').trim();
    const sole = formValue(request, 'ensam') === 'ja';
    const latest = await latestFormSha256(app.db, id);
    if (formValue(request, 'version') !== latest) {
      return reviewPage(
        request,
        reply,
        o,
        latest,
        {
          place,
          sole,
          notice:
            'Blanketten har ändrats sedan du öppnade sidan, till exempel för att någon annan har skrivit under. Läs den igen och skriv sedan under.',
        },
        409,
      );
    }
    try {
      assertSignEntries(o.loaded, o.item.role, { place, confirmSoleGuardian: sole });
    } catch (error) {
      if (!isAppError(error) || error.code !== 'validation_failed') throw error;
      return reviewPage(request, reply, o, latest, { place, sole, errors: fieldProblems(error) }, 400);
    }
    const act: z.input<typeof signAct> = {
      consentId: id,
      role: o.item.role,
      reviewedSha256: latest,
      place,
      confirmSoleGuardian: sole,
    };
    return startActIdentification(request, reply, {
      act: { kind: 'sign', data: act },
      returnTo: `${MINE}/${id}/granska`,
      userMessage: SIGN_MESSAGE,
    });
  });

  // The signature's identification came back (auth_time checked against the act's start): sign.
  app.acts.set('sign', async (request, reply, identified: IdentifiedAct) => {
    const parsed = signAct.safeParse(identified.act.data);
    if (!parsed.success) return renderSignerError(request, reply, new AppError('login_state_invalid'));
    const data = parsed.data;
    const back = { href: `${MINE}/${data.consentId}/granska`, label: 'Läs blanketten igen' };
    try {
      await signConsent(ctx(), actIdentifiedActor(identified.identity, data.role, identified.actStartedAt), {
        consentId: data.consentId,
        place: data.place,
        confirmSoleGuardian: data.confirmSoleGuardian,
        reviewedSha256: data.reviewedSha256,
        requestId: request.id,
      });
    } catch (error) {
      return renderSignerError(request, reply, error, back);
    }
    return reply.header('cache-control', 'no-store').redirect(`${MINE}/${data.consentId}/underskrivet`, 303);
  });

  app.get<{ Params: IdParams }>(`${MINE}/:id/underskrivet`, hidden, async (request, reply) => {
    const { id } = request.params;
    const o = await ownConsent(request, reply, id, `${MINE}/${id}/underskrivet`);
    if (!o) return reply;
    if (!o.signer.signedAt)
      return reply.header('cache-control', 'no-store').redirect(`${MINE}/${id}/granska`, 303);
    const { consent } = o.loaded;
    const remaining = requiredRoles(consent).filter(
      (role) => !o.loaded.signers.find((s) => s.role === role)?.signedAt,
    );
    const status = statusAt(o.loaded.facts, app.clock.now());
    return reply.page('signer/signed', {
      title: 'Du har skrivit under',
      logoutCsrf: o.session.csrfToken,
      consentId: id,
      signedAt: swedishDateTime(o.signer.signedAt),
      completed: consent.validFrom !== null,
      inForce: status.status === 'active',
      statusLabel: status.status,
      validFrom: consent.validFrom ? swedishDayOf(consent.validFrom) : null,
      validUntil: consent.validUntil ? lastValidDay(consent.validUntil) : null,
      remaining: remaining.map((r) => roleInSentenceSv(r)),
      organisationName: o.organisationName,
    });
  });

  function declinePage(
    request: FastifyRequest,
    reply: FastifyReply,
    o: OwnConsent,
    reason = '',
    errors: FieldProblem[] = [],
    status = 200,
  ) {
    return reply.page(
      'signer/decline',
      {
        title: 'Avböj förfrågan',
        consentId: o.loaded.consent.id,
        logoutCsrf: o.session.csrfToken,
        csrf: csrfField(request),
        organisationName: o.organisationName,
        reason: reason.slice(0, 2000),
        errors,
      },
      status,
    );
  }

  app.get<{ Params: IdParams }>(`${MINE}/:id/avboj`, hidden, async (request, reply) => {
    const { id } = request.params;
    const o = await ownConsent(request, reply, id, `${MINE}/${id}/avboj`);
    if (!o) return reply;
    if (!answerable(o)) return reply.header('cache-control', 'no-store').redirect(MINE, 303);
    return declinePage(request, reply, o);
  });

  app.post<{ Params: IdParams }>(`${MINE}/:id/avboj`, posted, async (request, reply) => {
    const { id } = request.params;
    const o = await ownConsent(request, reply, id, `${MINE}/${id}/avboj`);
    if (!o) return reply;
    const reason = formValue(request, 'anledning');
    try {
      await declineConsent(ctx(), o.actor, { consentId: id, reason, requestId: request.id });
    } catch (error) {
      if (!isAppError(error) || error.code !== 'validation_failed') throw error;
      return declinePage(request, reply, o, reason, fieldProblems(error), 400);
    }
    return reply.page('signer/declined', {
      title: 'Du har avböjt',
      logoutCsrf: o.session.csrfToken,
      organisationName: o.organisationName,
    });
  });
}

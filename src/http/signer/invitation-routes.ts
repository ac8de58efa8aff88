// The invitation link and what follows it: /s/:token → login → review → sign or decline.
// The token is never logged (logging.ts masks /s/…); it travels only in our own relative URLs.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoadedConsent, SignerRecord } from '../../consents/consent.repository.ts';
import { getLoadedConsent } from '../../consents/consent.repository.ts';
import {
  consentContext,
  declineConsent,
  downloadConsentDocument,
  resolveInvitation,
  type SignerActor,
  signConsent,
} from '../../consents/index.ts';
import type { ResolvedInvitation } from '../../consents/invitations.ts';
import { assertSignerIsOnForm } from '../../consents/signer-check.ts';
import { AppError, isAppError } from '../../errors.ts';
import { csrfField, freshAuthForm, requireCsrf } from '../../identity/plugin.ts';
import type { App } from '../types.ts';
import {
  formValue,
  isFresh,
  lastValidDay,
  queryValue,
  ROLE_LABELS_SV,
  sendPdf,
  signerActorOf,
  signerSession,
  swedishDate,
  toLogin,
} from './common.ts';
import { formView } from './form-view.ts';

const hidden = { schema: { hide: true }, config: { auth: false as const } };
const posted = { ...hidden, preHandler: requireCsrf };

interface TokenParams {
  token: string;
}

/** The invitation, the identified signer and the consent: the signer is the one on the form. */
interface Opened {
  invitation: ResolvedInvitation;
  loaded: LoadedConsent;
  signer: SignerRecord;
  actor: SignerActor;
  organisationName: string;
  logoutCsrf: string;
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

export default async function invitationRoutes(app: App) {
  const { db, clock } = app;
  const ctx = () => consentContext(app);

  /**
   * Resolves the token (unknown/used/expired: an error page), then the login (null: redirected there),
   * then the identified number against the form (`wrong_person`: the "someone else" page and an audit
   * event, by signer-check.ts).
   */
  async function open(
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    act: 'sign' | 'decline',
    returnTo: string,
  ): Promise<Opened | null> {
    const invitation = await resolveInvitation(db, token, clock.now());
    const session = signerSession(request);
    if (!session) {
      await toLogin(reply, returnTo);
      return null;
    }
    const loaded = await getLoadedConsent(db, invitation.consentId);
    const formSigner = loaded.signers.find((s) => s.role === invitation.role);
    if (!formSigner) throw new AppError('invitation_not_found');
    const actor = signerActorOf(session, invitation.role, formSigner.name);
    const signer = await assertSignerIsOnForm(ctx(), loaded, actor, act, request.id);
    const org = await db
      .selectFrom('organisations')
      .select('name')
      .where('id', '=', loaded.consent.organisationId)
      .executeTakeFirstOrThrow();
    return { invitation, loaded, signer, actor, organisationName: org.name, logoutCsrf: session.csrfToken };
  }

  /** What the review and the sign page both show around the sign form. */
  function signPageData(request: FastifyRequest, token: string, o: Opened) {
    const { consent } = o.loaded;
    return {
      token,
      logoutCsrf: o.logoutCsrf,
      csrf: csrfField(request),
      role: ROLE_LABELS_SV[o.invitation.role],
      organisationName: o.organisationName,
      obtainedBy: consent.obtainedBy,
      askSoleGuardian: consent.soleGuardian && o.invitation.role === 'guardian1',
      today: swedishDate(clock.now()),
      place: '',
      soleChecked: false,
      errors: [] as FieldProblem[],
    };
  }

  // 1. The invitation: nothing about the consent or the people, only what happens next.
  app.get<{ Params: TokenParams }>('/s/:token', hidden, async (request, reply) => {
    const { token } = request.params;
    await resolveInvitation(db, token, clock.now());
    return reply.page('signer/invitation', {
      title: 'En förfrågan om samtycke väntar på dig',
      loginHref: `/auth/login?returnTo=${encodeURIComponent(`/s/${token}/granska`)}`,
    });
  });

  // 2. Review: the form as HTML, what consenting means, and the sign form.
  app.get<{ Params: TokenParams }>('/s/:token/granska', hidden, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'sign', `/s/${token}/granska`);
    if (!o) return reply;
    return reply.page('signer/review', {
      title: 'Läs och skriv under',
      form: formView(o.loaded, o.organisationName, o.invitation.role),
      ...signPageData(request, token, o),
    });
  });

  // The form as it stands (its latest revision), to read in the phone's PDF viewer.
  app.get<{ Params: TokenParams }>('/s/:token/dokument', hidden, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'sign', `/s/${token}/granska`);
    if (!o) return reply;
    const doc = await downloadConsentDocument(ctx(), o.actor, {
      consentId: o.invitation.consentId,
      kind: 'form',
      requestId: request.id,
    });
    return sendPdf(reply, doc, 'inline');
  });

  // 3. The sign form on its own: where a fresh identification comes back to, with what was entered.
  app.get<{ Params: TokenParams }>('/s/:token/signera', hidden, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'sign', `/s/${token}/signera`);
    if (!o) return reply;
    return reply.page('signer/sign', {
      title: 'Skriv under',
      ...signPageData(request, token, o),
      place: queryValue(request, 'ort').slice(0, 100),
      soleChecked: queryValue(request, 'ensam') === 'ja',
      fresh: isFresh(request),
    });
  });

  app.post<{ Params: TokenParams }>('/s/:token/signera', posted, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'sign', `/s/${token}/granska`);
    if (!o) return reply;
    const place = formValue(request, 'ort');
    const sole = formValue(request, 'ensam') === 'ja';
    const askSoleGuardian = o.loaded.consent.soleGuardian && o.invitation.role === 'guardian1';
    try {
      const result = await signConsent(ctx(), o.actor, {
        consentId: o.invitation.consentId,
        place,
        ...(askSoleGuardian ? { confirmSoleGuardian: sole } : {}),
        requestId: request.id,
      });
      return reply.page('signer/signed', {
        title: 'Du har skrivit under',
        logoutCsrf: o.logoutCsrf,
        consentId: result.consentId,
        completed: result.completed,
        validFrom: result.validFrom ? swedishDate(result.validFrom) : null,
        validUntil: result.validUntil ? lastValidDay(result.validUntil) : null,
        signedAt: swedishDate(result.signedAt),
        organisationName: o.organisationName,
      });
    } catch (error) {
      if (!isAppError(error)) throw error;
      if (error.code === 'validation_failed') {
        return reply.page(
          'signer/review',
          {
            title: 'Läs och skriv under',
            form: formView(o.loaded, o.organisationName, o.invitation.role),
            ...signPageData(request, token, o),
            place: place.slice(0, 100),
            soleChecked: sole,
            errors: fieldProblems(error),
          },
          400,
        );
      }
      if (error.code === 'fresh_auth_required') {
        // Back to the sign form with what was entered: the place is masked in our logs like any query.
        const query = new URLSearchParams({ ort: place.trim().slice(0, 100) });
        if (sole) query.set('ensam', 'ja');
        return reply.page(
          'signer/fresh',
          {
            title: 'Legitimera dig för att skriva under',
            logoutCsrf: o.logoutCsrf,
            act: 'sign',
            freshForm: freshAuthForm(request, `/s/${token}/signera?${query}`, 'Legitimera dig och signera'),
            backHref: `/s/${token}/granska`,
          },
          401,
        );
      }
      throw error;
    }
  });

  // 4. Decline, with an optional reason.
  app.get<{ Params: TokenParams }>('/s/:token/avboj', hidden, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'decline', `/s/${token}/avboj`);
    if (!o) return reply;
    return reply.page('signer/decline', {
      title: 'Avböj förfrågan',
      token,
      logoutCsrf: o.logoutCsrf,
      csrf: csrfField(request),
      organisationName: o.organisationName,
      reason: '',
      errors: [],
    });
  });

  app.post<{ Params: TokenParams }>('/s/:token/avboj', posted, async (request, reply) => {
    const { token } = request.params;
    const o = await open(request, reply, token, 'decline', `/s/${token}/avboj`);
    if (!o) return reply;
    const reason = formValue(request, 'anledning');
    try {
      await declineConsent(ctx(), o.actor, {
        consentId: o.invitation.consentId,
        reason,
        requestId: request.id,
      });
    } catch (error) {
      if (!isAppError(error) || error.code !== 'validation_failed') throw error;
      return reply.page(
        'signer/decline',
        {
          title: 'Avböj förfrågan',
          token,
          logoutCsrf: o.logoutCsrf,
          csrf: csrfField(request),
          organisationName: o.organisationName,
          reason: reason.slice(0, 2000),
          errors: fieldProblems(error),
        },
        400,
      );
    }
    return reply.page('signer/declined', {
      title: 'Du har avböjt',
      logoutCsrf: o.logoutCsrf,
      organisationName: o.organisationName,
    });
  });
}

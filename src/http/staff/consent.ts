// GET /samtycken/:id — the consent page (staff links in notifications point here, src/notify/links.ts):
// status with reason, validity, signers' state (never their numbers), timeline, and the acts as
// CSRF-protected forms. The requesting organisation sees and may do everything; another organisation of
// the consent's HLT team sees the status, and the content and document only while the consent is active;
// anyone else gets the 404 page (policy.ts). Each opening is an audit event the guardians see in their
// access log (issue 16 §3).
// GET  /samtycken/:id/{avbryt,aterkalla,avsluta} — the step before an act that cannot be undone: a page that
// says what will happen, with the final button (no JavaScript, so no dialog: a page of its own).
// POST /samtycken/:id/{paminn,avbryt,aterkalla,avsluta,fornya} — the acts; then 303 (PRG).
// POST /samtycken/:id/skyddad — mark a guardian or the child as having skyddade personuppgifter (issue 16
// §5), in any state; the notice says when the form, rendered before the mark, prints the person's phone.
// GET /samtycken/:id/dokument and /kvitto — the signed form and the receipt, as attachments, no-store.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  cancelConsent,
  consentContext,
  downloadConsentDocument,
  endConsent,
  remindSigners,
  renewConsent,
  withdrawConsent,
} from '../../consents/index.ts';
import { type ConsentDetails, recordConsentView } from '../../consents/get-consent.ts';
import { markProtectedIdentityAct } from '../../consents/mark-protected-identity.ts';
import { canTransition } from '../../domain/consent.ts';
import { type StaffCaller } from '../../identity/caller.ts';
import { requireCsrf } from '../../identity/csrf.ts';
import { authorize, type ConsentAction, decide } from '../../identity/policy.ts';
import type { App } from '../types.ts';
import { fieldErrors, isStateConflict, isValidationError, text } from './common.ts';
import {
  actorFor,
  CONFIRM,
  type Confirmable,
  confirmPage,
  consentPage,
  DONE,
  type FormName,
  load,
} from './consent-page.ts';
import { linksPath, setFlashLinks } from './flash-links.ts';

const STAFF_ONLY = { auth: { staff: true } } as const;
const params = z.object({ id: z.string() });

export default async function consentRoutes(app: App) {
  const ctx = consentContext(app);
  const route = { schema: { hide: true, params }, config: STAFF_ONLY };
  const post = { ...route, preHandler: requireCsrf };

  app.get('/samtycken/:id', route, async (request, reply) => {
    const { caller, consent } = await load(app, request);
    // Opening the page is a read the guardians see in their access log (issue 16 §3).
    await recordConsentView(ctx, actorFor(caller, consent), {
      consentId: consent.id,
      scope: decide(caller, 'read', consent) === 'allow' ? 'content' : 'status',
      via: 'page',
      requestId: request.id,
    });
    const done = text(request.query, 'klart');
    return consentPage(app, request, reply, caller, consent, {
      ...(DONE[done] ? { notice: { kind: 'ok' as const, text: DONE[done] } } : {}),
    });
  });

  /** The consent page again, with why the act could not be done (409: the state moved on). */
  const refused = (
    request: FastifyRequest,
    reply: FastifyReply,
    caller: StaffCaller,
    consent: ConsentDetails,
    text: string,
  ) => consentPage(app, request, reply, caller, consent, { notice: { kind: 'bad', text } }, 409);

  for (const kind of Object.keys(CONFIRM) as Confirmable[]) {
    const c = CONFIRM[kind];
    app.get(`/samtycken/:id/${c.path}`, route, async (request, reply) => {
      const { caller, consent } = await load(app, request);
      authorize(caller, c.action, consent);
      // Reached from an old page or a bookmark after the state moved on: say so on the consent page.
      if (!canTransition(consent.status, c.act))
        return refused(
          request,
          reply,
          caller,
          consent,
          'Det går inte längre: samtycket har ändrats sedan sidan visades.',
        );
      return confirmPage(app, request, reply, consent, kind);
    });
  }

  /** Runs an act; a refusal by the state rules or the form's validation re-renders the page with it. */
  async function act(
    request: FastifyRequest,
    reply: FastifyReply,
    action: ConsentAction,
    run: (caller: StaffCaller, consent: ConsentDetails) => Promise<FastifyReply>,
    formName?: FormName,
  ) {
    const { caller, consent } = await load(app, request);
    authorize(caller, action, consent);
    try {
      return await run(caller, consent);
    } catch (e) {
      if (isStateConflict(e)) return refused(request, reply, caller, consent, e.message);
      if (isValidationError(e) && formName) {
        const values: Record<string, string> = {};
        for (const f of ['role', 'channel', 'date', 'note']) values[f] = text(request.body, f);
        const { byField } = fieldErrors(e);
        return confirmPage(app, request, reply, consent, formName, { errors: byField, values }, 400);
      }
      throw e;
    }
  }

  app.post('/samtycken/:id/paminn', post, async (request, reply) =>
    act(request, reply, 'remind', async (caller, consent) => {
      const result = await remindSigners(ctx, actorFor(caller, consent), {
        consentId: consent.id,
        requestId: request.id,
      });
      setFlashLinks(request, reply, consent.id, caller.staffId, result.signers, 'reminder');
      return reply.redirect(linksPath(consent.id), 303);
    }),
  );

  app.post('/samtycken/:id/skyddad', post, async (request, reply) =>
    act(request, reply, 'remind', async (caller, consent) => {
      try {
        const result = await markProtectedIdentityAct(ctx, actorFor(caller, consent), {
          consentId: consent.id,
          person: text(request.body, 'person') as never,
          requestId: request.id,
        });
        const done = result.formShowsPhone ? 'skyddad-blankett' : 'skyddad';
        return reply.redirect(`/samtycken/${consent.id}?klart=${done}`, 303);
      } catch (e) {
        if (!isValidationError(e)) throw e;
        return consentPage(
          app,
          request,
          reply,
          caller,
          consent,
          { notice: { kind: 'bad', text: 'Välj vem som har skyddade personuppgifter.' } },
          400,
        );
      }
    }),
  );

  app.post('/samtycken/:id/avbryt', post, async (request, reply) =>
    act(request, reply, 'cancel', async (caller, consent) => {
      await cancelConsent(ctx, actorFor(caller, consent), { consentId: consent.id, requestId: request.id });
      return reply.redirect(`/samtycken/${consent.id}?klart=avbruten`, 303);
    }),
  );

  app.post('/samtycken/:id/aterkalla', post, async (request, reply) =>
    act(
      request,
      reply,
      'register_withdrawal',
      async (caller, consent) => {
        const body = request.body;
        await withdrawConsent(ctx, actorFor(caller, consent), {
          consentId: consent.id,
          role: text(body, 'role') as never,
          channel: text(body, 'channel') as never,
          date: text(body, 'date'),
          note: text(body, 'note'),
          requestId: request.id,
        });
        return reply.redirect(`/samtycken/${consent.id}?klart=aterkallad`, 303);
      },
      'withdraw',
    ),
  );

  app.post('/samtycken/:id/avsluta', post, async (request, reply) =>
    act(
      request,
      reply,
      'end',
      async (caller, consent) => {
        await endConsent(ctx, actorFor(caller, consent), {
          consentId: consent.id,
          date: text(request.body, 'date'),
          note: text(request.body, 'note'),
          requestId: request.id,
        });
        return reply.redirect(`/samtycken/${consent.id}?klart=avslutad`, 303);
      },
      'end',
    ),
  );

  app.post('/samtycken/:id/fornya', post, async (request, reply) =>
    act(request, reply, 'renew', async (caller, consent) => {
      const result = await renewConsent(ctx, actorFor(caller, consent), {
        consentId: consent.id,
        requestId: request.id,
      });
      setFlashLinks(request, reply, result.id, caller.staffId, result.signers, 'renewal');
      return reply.redirect(linksPath(result.id), 303);
    }),
  );

  for (const [path, kind] of [
    ['dokument', 'form'],
    ['kvitto', 'receipt'],
  ] as const) {
    app.get(`/samtycken/:id/${path}`, route, async (request, reply) => {
      const { caller, consent } = await load(app, request);
      authorize(caller, 'document', consent);
      const doc = await downloadConsentDocument(ctx, actorFor(caller, consent), {
        consentId: consent.id,
        kind,
        requestId: request.id,
      });
      return reply
        .header('content-type', doc.contentType)
        .header('content-disposition', `attachment; filename="${doc.fileName}"`)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(doc.bytes));
    });
  }
}

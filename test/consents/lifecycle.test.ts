import { placeOf } from '../../src/db/encrypted-columns.ts';
import t from 'tap';
import { listAuditEvents } from '../../src/consents/audit.repository.ts';
import { cancelConsent } from '../../src/consents/cancel-consent.ts';
import { getConsentStatus } from '../../src/consents/consent-status.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { declineConsent } from '../../src/consents/decline-consent.ts';
import { latestDocument } from '../../src/consents/documents.repository.ts';
import { endConsent } from '../../src/consents/end-consent.ts';
import { getConsent } from '../../src/consents/get-consent.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import { withdrawConsent } from '../../src/consents/withdraw-consent.ts';
import { addYears, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import type { SignerRole } from '../../src/domain/roles.ts';
import { verifyPdf } from '../../src/pdf/verify/index.ts';
import {
  assertRevisionChain,
  familyRequest,
  nguyenRequest,
  type Setup,
  setup,
  signerActor,
} from '../fixtures/consents.ts';
import { personalDataIn, personalNumberForms } from '../fixtures/people.ts';

const MINUTE = 60_000;

async function signAs(s: Setup, consentId: string, role: SignerRole, key: string, place = 'Norrby') {
  s.clock.advance(MINUTE);
  return signConsent(s.ctx, signerActor(role, s.person(key), s.clock), {
    consentId,
    place,
    ...(role === 'guardian1' && key === 'mai-nguyen' ? { confirmSoleGuardian: true } : {}),
  });
}

const LINDQVIST: [SignerRole, string][] = [
  ['guardian1', 'anna-lindqvist'],
  ['guardian2', 'erik-lindqvist'],
  ['youth', 'saga-lindqvist'],
];

for (const order of [
  [0, 1, 2],
  [2, 0, 1],
  [1, 2, 0],
]) {
  const roles = order.map((i) => LINDQVIST[i]!);
  t.test(
    `two guardians and the youth sign in the order ${roles.map((r) => r[0]).join(', ')} → active`,
    async (t) => {
      const s = await setup(t);
      const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
      t.equal(created.status, 'pending');
      t.same(
        created.signers.map((x) => x.role),
        ['guardian1', 'guardian2', 'youth'],
      );
      t.ok(
        created.signers.every((x) => x.invitation?.url.startsWith('http://localhost:3000/s/')),
        'links for staff',
      );

      for (const [i, [role, key]] of roles.entries()) {
        const result = await signAs(s, created.id, role, key);
        t.equal(result.revision, i + 1);
        t.equal(result.completed, i === roles.length - 1, `completed only by the last signature (${role})`);
        const status = await getConsentStatus(s.ctx, created.id);
        t.equal(status.status, i === roles.length - 1 ? 'active' : 'pending');
      }
      const status = await getConsentStatus(s.ctx, created.id);
      const firstSignedAt = new Date(created.requestedAt.getTime() + MINUTE);
      t.equal(status.reason, 'all_signed');
      t.same(
        status.validFrom,
        new Date(created.requestedAt.getTime() + 3 * MINUTE),
        'in force from the last signature',
      );
      t.same(
        status.validUntil,
        startOfLocalDay(addYears(localDateOf(firstSignedAt), 1)),
        'a year from the earliest signature, 00:00 Stockholm',
      );

      t.equal(await assertRevisionChain(t, s.app, created.id), 4, 'revision 0 + three signatures');
      const form = await latestDocument(s.db, s.app.keys, created.id, 'form');
      // As of the test's clock: the signatures carry its time (the development TSA keeps the app's clock).
      const report = await verifyPdf(form!.bytes, { trust: s.ctx.trust, at: s.clock.now() });
      t.equal(report.verdict, 'valid', 'the stored PDF verifies');
      t.equal(report.signatures.length, 3);
      const receipt = await latestDocument(s.db, s.app.keys, created.id, 'receipt');
      t.ok(receipt && Buffer.from(receipt.bytes.subarray(0, 5)).toString() === '%PDF-', 'receipt stored');

      const details = await getConsent(s.ctx, created.id);
      t.equal(details.status, 'active');
      t.same(
        details.signers.map((x) => x.state),
        ['signed', 'signed', 'signed'],
      );
      t.same(
        personalNumberForms(s.people).filter((n) => JSON.stringify(details).includes(n)),
        [],
        'no personal numbers in the details',
      );
      const actions = details.timeline.map((e) => e.action);
      t.same(actions, ['consent_requested', 'signed', 'signed', 'signed', 'completed']);
      const signed = details.timeline.filter((e) => e.action === 'signed');
      t.same(
        signed.map((e) => e.actor.role),
        roles.map((r) => r[0]),
      );
      t.ok(
        signed.every(
          (e) => e.actor.issuer === 'http://localhost:3000/dev-idp' && e.actor.acr?.includes('loa3'),
        ),
      );
    },
  );
}

t.test('a sole guardian confirms being sole guardian; the youth at 16–17 signs too', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  t.same(
    created.signers.map((x) => x.role),
    ['guardian1', 'youth'],
  );
  const mai = s.person('mai-nguyen');
  await t.rejects(
    signConsent(s.ctx, signerActor('guardian1', mai, s.clock), { consentId: created.id, place: 'Norrby' }),
    { code: 'validation_failed', extra: { errors: [{ field: 'confirmSoleGuardian' }] } },
  );
  await t.rejects(
    signConsent(s.ctx, signerActor('guardian2', mai, s.clock), {
      consentId: created.id,
      place: 'Norrby',
    }),
    { code: 'wrong_person' },
    'there is no guardian 2',
  );
  await signAs(s, created.id, 'guardian1', 'mai-nguyen');
  const done = await signAs(s, created.id, 'youth', 'minh-nguyen');
  t.equal(done.status, 'active');
  const details = await getConsent(s.ctx, created.id);
  t.equal(details.soleGuardian, true);
  const row = await s.db
    .selectFrom('consent_signers')
    .select('sole_guardian_confirmed')
    .where('consent_id', '=', created.id)
    .where('role', '=', 'guardian1')
    .executeTakeFirstOrThrow();
  t.equal(row.sole_guardian_confirmed, true);
});

t.test('place is required, and signing needs a fresh identification', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  const anna = signerActor('guardian1', s.person('anna-lindqvist'), s.clock);
  await t.rejects(signConsent(s.ctx, anna, { consentId: created.id, place: '  ' }), {
    code: 'validation_failed',
    extra: { errors: [{ field: 'place' }] },
  });
  s.clock.advance(10 * MINUTE);
  await t.rejects(signConsent(s.ctx, anna, { consentId: created.id, place: 'Norrby' }), {
    code: 'fresh_auth_required',
  });
  await t.rejects(
    signConsent(
      s.ctx,
      { ...anna, identity: { ...anna.identity, authTime: undefined } },
      { consentId: created.id, place: 'Norrby' },
    ),
    { code: 'fresh_auth_required' },
  );
});

t.test('a stored revision whose bytes no longer match its SHA-256 is never signed onto', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  await signAs(s, created.id, 'guardian1', 'anna-lindqvist');
  // The bytes of the latest revision are changed behind the service's back (one byte in the middle).
  const latest = await latestDocument(s.db, s.app.keys, created.id, 'form');
  const tampered = Buffer.from(latest!.bytes);
  tampered[Math.floor(tampered.length / 2)]! ^= 0xff;
  await s.db
    .updateTable('consent_documents')
    .set({
      pdf: s.app.keys.encryptBytes(
        tampered,
        placeOf('consent_documents', 'pdf', [created.id, 'form', latest!.revision]),
      ),
    })
    .where('consent_id', '=', created.id)
    .where('kind', '=', 'form')
    .where('revision', '=', latest!.revision)
    .execute();
  await t.rejects(signAs(s, created.id, 'guardian2', 'erik-lindqvist'), { code: 'document_mismatch' });
  const after = await latestDocument(s.db, s.app.keys, created.id, 'form');
  t.equal(after!.revision, latest!.revision, 'nothing was appended');
  const events = await listAuditEvents(s.db, created.id);
  t.equal(events.filter((e) => e.action === 'signed').length, 1, 'and nothing recorded');
});

t.test('the wrong person is refused, revealing nothing, and it is audited', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  const erikAsAnna = signerActor('guardian1', s.person('erik-lindqvist'), s.clock);
  const err = await signConsent(s.ctx, erikAsAnna, { consentId: created.id, place: 'Norrby' }).catch(
    (e) => e,
  );
  t.equal(err.code, 'wrong_person');
  t.notMatch(err.message, /Anna|Lindqvist|\d{6}/);
  await t.rejects(declineConsent(s.ctx, erikAsAnna, { consentId: created.id }), { code: 'wrong_person' });
  await t.rejects(withdrawConsent(s.ctx, erikAsAnna, { consentId: created.id }), { code: 'wrong_person' });
  const events = await listAuditEvents(s.db, created.id);
  const wrong = events.filter((e) => e.action === 'wrong_person');
  t.same(
    wrong.map((e) => e.details.act),
    ['sign', 'decline', 'withdraw'],
  );
  t.ok(wrong.every((e) => e.actor.type === 'signer' && e.actor.role === 'guardian1'));
  t.same(personalDataIn(JSON.stringify(events), s.people), [], 'no personal data in the audit trail');
  t.equal((await getConsentStatus(s.ctx, created.id)).status, 'pending', 'nothing changed');
});

t.test('youth below the threshold signs only when asked; at the threshold always', async (t) => {
  const s = await setup(t);
  const elsa = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  t.same(
    elsa.signers.map((x) => x.role),
    ['guardian1', 'guardian2'],
    'a 6–7-year-old does not sign by default',
  );
  const asked = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s, 'lindqvist-young'),
    youthSigns: true,
    youth: { phone: '070-333 33 33' },
  });
  t.same(
    asked.signers.map((x) => x.role),
    ['guardian1', 'guardian2', 'youth'],
    'staff may ask a younger child',
  );
  const saga = await createConsentRequest(s.ctx, s.staff, { ...familyRequest(s), youthSigns: false });
  t.same(
    saga.signers.map((x) => x.role),
    ['guardian1', 'guardian2', 'youth'],
    'staff cannot drop the youth at 12 or older',
  );
  const err = await createConsentRequest(s.ctx, s.staff, { ...familyRequest(s), youth: undefined }).catch(
    (e) => e,
  );
  t.equal(err.code, 'validation_failed');
  t.same(
    err.extra.errors.map((e: { field: string }) => e.field),
    ['youth.email'],
    'a youth who signs needs a contact',
  );
});

t.test('decline ends the request for everyone; the reason is stored but never audited', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  await signAs(s, created.id, 'guardian1', 'anna-lindqvist');
  await t.rejects(
    declineConsent(s.ctx, signerActor('guardian1', s.person('anna-lindqvist'), s.clock), {
      consentId: created.id,
    }),
    { code: 'consent_state_conflict' },
    'who signed withdraws instead',
  );
  const erik = signerActor('guardian2', s.person('erik-lindqvist'), s.clock);
  const result = await declineConsent(s.ctx, erik, {
    consentId: created.id,
    reason: 'Vi vill inte just nu.',
  });
  t.equal(result.status, 'declined');
  t.equal((await getConsentStatus(s.ctx, created.id)).status, 'declined');
  await t.rejects(signAs(s, created.id, 'youth', 'saga-lindqvist'), { code: 'consent_state_conflict' });
  const details = await getConsent(s.ctx, created.id);
  t.same(details.declined?.reason, 'Vi vill inte just nu.');
  t.equal(details.declined?.role, 'guardian2');
  const event = details.timeline.find((e) => e.action === 'declined');
  t.same(event?.details, { role: 'guardian2', reasonGiven: true });
});

t.test('withdrawal by a signer ends an active consent for all at once', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  await signAs(s, created.id, 'guardian1', 'mai-nguyen');
  await signAs(s, created.id, 'youth', 'minh-nguyen');
  s.clock.advance(24 * 60 * MINUTE);
  const minh = signerActor('youth', s.person('minh-nguyen'), s.clock);
  const result = await withdrawConsent(s.ctx, minh, { consentId: created.id });
  t.equal(result.status, 'withdrawn');
  const status = await getConsentStatus(s.ctx, created.id);
  t.equal(status.status, 'withdrawn', 'the very next status check says withdrawn');
  t.same(status.validUntil, s.clock.now());
  const details = await getConsent(s.ctx, created.id);
  t.same(details.withdrawal?.channel, 'service');
  t.same(details.withdrawal?.role, 'youth');
  await t.rejects(withdrawConsent(s.ctx, minh, { consentId: created.id }), {
    code: 'consent_state_conflict',
  });
  await t.rejects(endConsent(s.ctx, s.staff, { consentId: created.id, date: localDateOf(s.clock.now()) }), {
    code: 'consent_state_conflict',
  });
});

t.test('staff register a withdrawal made by phone; date and channel are checked', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  for (const [role, key] of LINDQVIST) await signAs(s, created.id, role, key);
  const today = localDateOf(s.clock.now());
  await t.rejects(
    withdrawConsent(s.ctx, s.staff, {
      consentId: created.id,
      role: 'guardian2',
      channel: 'phone',
      date: '2999-01-01',
    }),
    { code: 'validation_failed', extra: { errors: [{ field: 'date' }] } },
  );
  await t.rejects(
    withdrawConsent(s.ctx, s.staff, {
      consentId: created.id,
      role: 'guardian2',
      channel: 'phone',
      date: '2000-01-01',
    }),
    { code: 'validation_failed' },
  );
  await t.rejects(
    withdrawConsent(s.ctx, s.staff, {
      consentId: created.id,
      role: 'guardian2',
      channel: 'email' as 'phone',
      date: today,
    }),
    { code: 'validation_failed', extra: { errors: [{ field: 'channel' }] } },
  );
  const result = await withdrawConsent(s.ctx, s.staff, {
    consentId: created.id,
    role: 'guardian2',
    channel: 'phone',
    date: today,
    note: 'Ringde till expeditionen.',
  });
  t.equal(result.status, 'withdrawn');
  const details = await getConsent(s.ctx, created.id);
  t.match(details.withdrawal, {
    role: 'guardian2',
    channel: 'phone',
    date: today,
    note: 'Ringde till expeditionen.',
  });
  const event = details.timeline.find((e) => e.action === 'withdrawn');
  t.match(event, { actor: { type: 'staff', id: s.staffId, organisationId: s.organisationId } });
  t.same(event?.details, {
    role: 'guardian2',
    channel: 'phone',
    date: today,
    noteGiven: true,
    wasInForce: true,
  });
});

t.test('end of support ends the consent; cancel only before completion', async (t) => {
  const s = await setup(t);
  const today = localDateOf(s.clock.now());

  const pending = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const cancelled = await cancelConsent(s.ctx, s.staff, { consentId: pending.id });
  t.equal(cancelled.status, 'cancelled');
  await t.rejects(cancelConsent(s.ctx, s.staff, { consentId: pending.id }), {
    code: 'consent_state_conflict',
  });
  await t.rejects(signAs(s, pending.id, 'guardian1', 'mai-nguyen'), { code: 'consent_state_conflict' });

  const active = await createConsentRequest(s.ctx, s.client, nguyenRequest(s));
  await signAs(s, active.id, 'guardian1', 'mai-nguyen');
  await signAs(s, active.id, 'youth', 'minh-nguyen');
  await t.rejects(cancelConsent(s.ctx, s.staff, { consentId: active.id }), {
    code: 'consent_state_conflict',
  });
  await t.rejects(endConsent(s.ctx, s.staff, { consentId: active.id, date: '2999-12-31' }), {
    code: 'validation_failed',
  });
  await t.rejects(endConsent(s.ctx, s.staff, { consentId: active.id, date: 'igår' }), {
    code: 'validation_failed',
  });
  const ended = await endConsent(s.ctx, s.client, {
    consentId: active.id,
    date: today,
    note: 'Insatserna avslutade.',
  });
  t.equal(ended.status, 'ended');
  const status = await getConsentStatus(s.ctx, active.id);
  t.match(status, { status: 'ended', reason: 'support_ended' });
  const details = await getConsent(s.ctx, active.id);
  t.same(details.requestedBy, { type: 'api_client', clientId: s.client.clientId });
  t.same(details.obtainedBy, { name: 'Kurator Kontakt', email: 'kurator@exempelby.example' });
  t.match(details.ended, { date: today, note: 'Insatserna avslutade.' });

  const moot = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  t.equal(
    (await endConsent(s.ctx, s.staff, { consentId: moot.id, date: today })).status,
    'ended',
    'also while pending',
  );
});

t.test('an unknown consent is not_found for every act', async (t) => {
  const s = await setup(t);
  const id = '6f1c1d44-9c1e-4a55-9c2b-000000000000';
  await t.rejects(getConsent(s.ctx, id), { code: 'not_found' });
  await t.rejects(getConsent(s.ctx, 'not-a-uuid'), { code: 'not_found' });
  await t.rejects(getConsentStatus(s.ctx, id), { code: 'not_found' });
  await t.rejects(cancelConsent(s.ctx, s.staff, { consentId: id }), { code: 'not_found' });
  await t.rejects(signAs(s, id, 'guardian1', 'anna-lindqvist'), { code: 'not_found' });
});

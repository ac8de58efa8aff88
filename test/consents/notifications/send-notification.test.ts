// End to end through the queue: every message the lifecycle sends, as it arrives at the SMTP capture,
// carries a link and nothing else — no names, numbers, organisation names or addresses, no attachment.
import t from 'tap';
import { appendAuditEvent, listAuditEvents } from '../../../src/consents/audit.repository.ts';
import { createConsentRequest } from '../../../src/consents/create-consent-request.ts';
import { declineConsent } from '../../../src/consents/decline-consent.ts';
import { resolveInvitation } from '../../../src/consents/invitations.repository.ts';
import { signConsent } from '../../../src/consents/sign-consent.ts';
import { withdrawConsent } from '../../../src/consents/withdraw-consent.ts';
import { clearCapturedMail, listCapturedMail } from '../../../src/dev/mail-capture.ts';
import type { Notifier } from '../../../src/notify/registry.ts';
import { sendNotification } from '../../../src/consents/notifications/send-notification.ts';
import { clearCapturedSms, listCapturedSms } from '../../../src/dev/sms-capture.ts';
import {
  drainJobs,
  GUARDIAN_EMAIL,
  familyRequest,
  type Setup,
  setup,
  signerActor,
} from '../../fixtures/consents.ts';
import { personalDataIn } from '../../fixtures/people.ts';

/** What `sendNotification` needs, from the test app (its notifier unless a test gives another). */
const sendDeps = (s: Setup, notifier: Notifier = s.app.notify) => ({
  db: s.db,
  keys: s.app.keys,
  clock: s.clock,
  config: s.app.config,
  log: s.app.log,
  notifier,
});

const ORGANISATION_WORDS = [
  'Björkskolan',
  'Hälsocentralen',
  'Norrby',
  'Exempelby',
  'Annanby',
  'Socialtjänst',
  'HLT-team',
];

t.test('invitations, signed by all, withdrawn: links only, each message once', async (t) => {
  clearCapturedMail();
  clearCapturedSms();
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  await drainJobs(s.app);
  let mails = listCapturedMail();
  t.same(
    mails.map((m) => m.to).sort(),
    [GUARDIAN_EMAIL['anna-lindqvist'], GUARDIAN_EMAIL['erik-lindqvist'], 'saga@hem.example'].sort(),
    'one invitation per signer e-mail',
  );
  t.same(
    listCapturedSms().map((m) => m.to),
    ['070-111 11 11'],
    'and one SMS to the phone given',
  );
  for (const mail of mails) {
    const link = /http:\/\/localhost:3000\/s\/([A-Za-z0-9_-]{43})/.exec(mail.text);
    t.ok(link, 'the mail carries an invitation link');
    const resolved = await resolveInvitation(s.db, s.app.keys, link![1]!, s.clock.now());
    t.equal(resolved.consentId, created.id);
  }
  const staffLink = created.signers[0]!.invitation!.url.split('/').at(-1)!;
  t.ok(
    await resolveInvitation(s.db, s.app.keys, staffLink, s.clock.now()),
    "staff's link still works beside the e-mailed one",
  );

  for (const [role, key] of [
    ['guardian1', 'anna-lindqvist'],
    ['guardian2', 'erik-lindqvist'],
    ['youth', 'saga-lindqvist'],
  ] as const) {
    s.clock.advance(60_000);
    await signConsent(s.ctx, signerActor(role, s.person(key), s.clock), {
      consentId: created.id,
      place: 'Norrby',
    });
  }
  await drainJobs(s.app);
  s.clock.advance(60_000);
  await withdrawConsent(s.ctx, signerActor('guardian2', s.person('erik-lindqvist'), s.clock), {
    consentId: created.id,
  });
  const results = await drainJobs(s.app);
  t.ok(
    results.every((r) => (r as { sent: boolean }).sent),
    'every queued message was sent',
  );

  mails = listCapturedMail();
  const sms = listCapturedSms();
  const bySubject = (re: RegExp) =>
    mails
      .filter((m) => re.test(m.subject))
      .map((m) => m.to)
      .sort();
  t.same(bySubject(/^Samtycket är signerat av alla/), [
    'anna@hem.example',
    'erik@hem.example',
    'saga@hem.example',
  ]);
  t.same(
    bySubject(/^Ett samtycke är signerat av alla/),
    ['karin.holm@exempelby.example'],
    'and the requester',
  );
  t.same(bySubject(/^Samtycket har återkallats/), [
    'anna@hem.example',
    'erik@hem.example',
    'saga@hem.example',
  ]);
  t.same(bySubject(/^Ett samtycke har återkallats/), ['karin.holm@exempelby.example']);
  t.equal(mails.length, 3 + 4 + 4);
  t.equal(sms.length, 3, 'Anna by SMS too: invitation, signed, withdrawn');

  const everyAddress = [...Object.values(GUARDIAN_EMAIL), 'saga@hem.example', 'karin.holm@exempelby.example'];
  for (const m of mails) {
    const visible = `${m.subject}\n${m.text}`;
    t.same(personalDataIn(visible, s.people), [], `no names or numbers: ${m.subject}`);
    t.same(
      ORGANISATION_WORDS.filter((w) => visible.includes(w)),
      [],
      'no organisation names',
    );
    t.notOk(
      everyAddress.some((a) => visible.includes(a)),
      'no addresses in subject or body',
    );
    t.equal(m.attachments, 0, 'no attachment');
    t.same(m.parts, ['text/plain']);
    t.equal(m.from, 'Samtycke <no-reply@samtycke.localhost>');
    t.same(m.envelope.to, [m.to], 'one recipient per message');
    t.same(personalDataIn(m.raw, s.people), [], 'nothing in the raw source either');
  }
  for (const m of sms) {
    t.same(personalDataIn(m.text, s.people), [], 'SMS: no names or numbers');
    t.notMatch(m.text, /@/);
  }

  // Sending the same message again is impossible: the ledger has it.
  const again = await sendNotification(sendDeps(s), {
    kind: 'withdrawn',
    consentId: created.id,
    recipient: { type: 'staff', staffId: s.staffId },
    channel: 'email',
    occasion: '',
  });
  t.same(again, { sent: false, reason: 'already_sent' });
  const events = await listAuditEvents(s.db, created.id);
  t.equal(events.filter((e) => e.action === 'notification_sent').length, mails.length + sms.length);
});

t.test(
  'declined: the requester and the other signers are told once, the one who declined is not',
  async (t) => {
    const s = await setup(t);
    const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
    await drainJobs(s.app);
    clearCapturedMail();
    clearCapturedSms();
    await declineConsent(s.ctx, signerActor('guardian2', s.person('erik-lindqvist'), s.clock), {
      consentId: created.id,
      reason: 'Vi vill inte just nu.',
    });
    await drainJobs(s.app);
    const mails = listCapturedMail();
    t.same(
      mails
        .filter((m) => m.subject === 'Förfrågan om samtycke har avböjts')
        .map((m) => m.to)
        .sort(),
      ['anna@hem.example', 'saga@hem.example'],
      'the other signers',
    );
    t.same(
      mails.filter((m) => m.subject === 'En förfrågan om samtycke har avböjts').map((m) => m.to),
      ['karin.holm@exempelby.example'],
      'the requester',
    );
    t.equal(mails.length, 3, 'nothing else, nothing twice, nothing to Erik');
    t.same(
      listCapturedSms().map((m) => m.to),
      ['070-111 11 11'],
      'Anna by SMS too',
    );
    for (const m of mails) {
      const visible = `${m.subject}\n${m.text}`;
      t.same(personalDataIn(m.raw, s.people), [], `no names or numbers: ${m.subject}`);
      t.notMatch(visible, /inte just nu/, 'not the reason given');
      t.equal(m.attachments, 0);
    }
  },
);

t.test(
  'a message that no longer holds is not sent: an invitation to someone who already signed',
  async (t) => {
    clearCapturedMail();
    const s = await setup(t);
    const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
    await signConsent(s.ctx, signerActor('guardian1', s.person('anna-lindqvist'), s.clock), {
      consentId: created.id,
      place: 'Norrby',
    });
    const results = (await drainJobs(s.app)) as { sent: boolean; reason?: string }[];
    t.equal(results.filter((r) => r.reason === 'not_relevant').length, 2, "Anna's e-mail and SMS invitation");
    t.notOk(
      listCapturedMail().some((m) => m.to === 'anna@hem.example'),
      'Anna gets no invitation after signing',
    );
  },
);

t.test('a failed send rolls back: the message can be sent on the retry', async (t) => {
  clearCapturedMail();
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  const failing = {
    mailer: { ...s.app.notify.mailer, send: async () => Promise.reject(new Error('SMTP down')) },
    sms: s.app.notify.sms,
  };
  const payload = {
    kind: 'invitation' as const,
    consentId: created.id,
    recipient: { type: 'signer' as const, role: 'guardian2' as const },
    channel: 'email' as const,
    occasion: '',
  };
  await t.rejects(sendNotification(sendDeps(s, failing), payload), /SMTP down/);
  const ledger = await s.db.selectFrom('notifications_sent').selectAll().execute();
  t.same(ledger, [], 'nothing recorded');
  t.same(await sendNotification(sendDeps(s), payload), { sent: true });
  t.equal(listCapturedMail().length, 1);
});

t.test("a slow mail server holds up no other event of the consent's audit trail", async (t) => {
  clearCapturedMail();
  const s = await setup(t, { jobs: false });
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-young'));
  let inTransport!: () => void;
  const sending = new Promise<void>((resolve) => (inTransport = resolve));
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const slow = {
    mailer: {
      ...s.app.notify.mailer,
      send: async (m: Parameters<Notifier['mailer']['send']>[0]) => {
        inTransport();
        await answered; // the SMTP server has not answered yet
        return s.app.notify.mailer.send(m);
      },
    },
    sms: s.app.notify.sms,
  };
  const sent = sendNotification(sendDeps(s, slow), {
    kind: 'invitation',
    consentId: created.id,
    recipient: { type: 'signer', role: 'guardian2' },
    channel: 'email',
    occasion: '',
  });
  await sending;
  // Meanwhile the school's system checks the consent: its event is written from another connection.
  const check = appendAuditEvent(s.db, {
    consentId: created.id,
    action: 'status_checked',
    actor: s.client,
    at: s.clock.now(),
    details: { status: 'pending' },
  }).then(() => 'written');
  const outcome = await Promise.race([
    check,
    new Promise((resolve) => setTimeout(resolve, 3000, 'waited for the mail server')),
  ]);
  answer();
  t.same(await sent, { sent: true });
  await check;
  t.equal(outcome, 'written', "the check's event is written while the mail is on its way");
  const events = (await listAuditEvents(s.db, created.id)).map((e) => e.action);
  t.same(
    events.slice(-2),
    ['status_checked', 'notification_sent'],
    'and the message is recorded when it has been handed over',
  );
  t.equal(listCapturedMail().length, 1);
});

t.test(
  'without an SMS sender (production, until a provider is chosen) an SMS is not sent and not recorded',
  async (t) => {
    clearCapturedSms();
    const s = await setup(t);
    const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
    const sms = {
      kind: 'invitation' as const,
      consentId: created.id,
      recipient: { type: 'signer' as const, role: 'guardian1' as const },
      channel: 'sms' as const,
      occasion: '',
    };
    t.same(await sendNotification(sendDeps(s, { mailer: s.app.notify.mailer, sms: undefined }), sms), {
      sent: false,
      reason: 'no_sms_sender',
    });
    t.same(
      await s.db.selectFrom('notifications_sent').selectAll().execute(),
      [],
      'the ledger keeps it sendable',
    );
    t.same(await sendNotification(sendDeps(s), sms), { sent: true }, 'a sender sends it');
  },
);

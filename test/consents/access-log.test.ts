// The access log's use case (issue 16 §3) against its SQL: reads by staff and systems grouped per Swedish
// day, newest first, paged; thousands of status checks a day are one entry; signers' own acts and the
// service's are left out; a page view that showed only the status counts as a status check; names come
// from the directory, and an id it no longer knows still gives an entry.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { fixedClock } from '../../src/clock.ts';
import { ACCESS_LOG_PAGE_SIZE, getAccessLog } from '../../src/consents/access-log.ts';
import { appendAuditEvent, type AuditEventInput } from '../../src/consents/audit.repository.ts';
import { SYSTEM } from '../../src/consents/context.ts';
import { recordConsentView } from '../../src/consents/get-consent.ts';
import { createConsentRequest } from '../../src/consents/index.ts';
import { addDays, localDateOf, startOfLocalDay } from '../../src/domain/dates.ts';
import { accessLogView } from '../../src/http/signer/access-log-view.ts';
import { familyRequest, setup, signerActor } from '../fixtures/consents.ts';

const today = localDateOf(new Date());
const at = (daysBack: number, hh: number, mm = 0) =>
  new Date(startOfLocalDay(addDays(today, -daysBack)).getTime() + (hh * 60 + mm) * 60_000);

t.test('per day, newest first, paged; thousands of checks are one entry', async (t) => {
  const s = await setup(t, { jobs: false, clock: fixedClock(at(130, 9)) });
  const { id: consentId } = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-sole'));
  const event = (e: Omit<AuditEventInput, 'consentId'>) => appendAuditEvent(s.db, { consentId, ...e });

  // Karin opens it once a day for 120 days (one of them twice); the school's system checks it 2,000 times
  // yesterday from 00:30 Swedish time (23:30 UTC the day before) and once at 23:30 the day before: each
  // counts on its Swedish day.
  const opened = Array.from({ length: 120 }, (_, i) =>
    event({ action: 'consent_viewed', actor: s.staff, at: at(i + 2, 10), details: { scope: 'content' } }),
  );
  const checks = Array.from({ length: 2000 }, (_, i) =>
    event({
      action: 'status_checked',
      actor: s.client,
      at: at(1, 0, 30 + (i % 600)),
      details: { status: 'pending' },
    }),
  );
  await Promise.all([
    ...opened,
    ...checks,
    event({ action: 'consent_viewed', actor: s.staff, at: at(2, 14), details: { scope: 'content' } }),
    event({ action: 'status_checked', actor: s.client, at: at(2, 23, 30), details: { status: 'pending' } }),
    // Not reads by others: the signer's own download, the service's message, a signature.
    event({
      action: 'document_downloaded',
      actor: signerActor('guardian1', s.person('anna-lindqvist'), s.clock),
      at: at(0, 1),
      details: { kind: 'form', revision: 0 },
    }),
    event({ action: 'notification_sent', actor: SYSTEM, at: at(0, 1), details: { kind: 'invitation' } }),
  ]);

  const first = await getAccessLog(s, consentId);
  t.equal(first.page, 1);
  t.equal(first.pageCount, Math.ceil(122 / ACCESS_LOG_PAGE_SIZE), '122 entries');
  t.equal(first.entries.length, ACCESS_LOG_PAGE_SIZE);
  const [yesterday, dayBefore1, dayBefore2] = first.entries;
  t.match(yesterday, {
    day: addDays(today, -1),
    kind: 'status_checked',
    by: { type: 'api_client', name: 'Elevhälsans system' },
    organisationName: 'Björkskolan',
    count: 2000,
    firstAt: at(1, 0, 30),
    lastAt: at(1, 0, 30 + 599),
  });
  t.match(dayBefore1, { day: addDays(today, -2), kind: 'status_checked', count: 1, lastAt: at(2, 23, 30) });
  t.match(dayBefore2, {
    day: addDays(today, -2),
    kind: 'consent_viewed',
    by: { type: 'staff', name: 'Karin Holm', title: 'Rektor' },
    count: 2,
    firstAt: at(2, 10),
    lastAt: at(2, 14),
  });
  const last = await getAccessLog(s, consentId, { page: first.pageCount });
  t.equal(last.entries.length, 122 - (first.pageCount - 1) * ACCESS_LOG_PAGE_SIZE);
  t.match(last.entries.at(-1), { day: addDays(today, -121), kind: 'consent_viewed', count: 1 });
  const all = [first, await getAccessLog(s, consentId, { page: 2 }), last].flatMap((p) => p.entries);
  t.equal(new Set(all.map((e) => `${e.day} ${e.kind}`)).size, 122, 'no entry twice across the pages');
  t.notOk(
    all.some((e) => e.kind === 'form_downloaded' || e.kind === 'unsigned_form_downloaded'),
    "the signer's own download is not in it",
  );

  const view = accessLogView(last, '/x');
  t.equal(view.older, null);
  t.equal(view.newer, `/x?sida=${last.page - 1}`);
  t.same(accessLogView(first, '/x').older, '/x?sida=2');
  t.same(
    await getAccessLog(s, consentId, { page: 10_000_000 }),
    { entries: [], page: 1000, pageCount: 1 },
    'a huge page number is capped',
  );
  t.same(await getAccessLog(s, 'not-a-uuid'), { entries: [], page: 1, pageCount: 1 });
});

t.test('a status-only view counts as a status check; unknown ids still give an entry', async (t) => {
  const s = await setup(t, { jobs: false });
  const { id: consentId } = await createConsentRequest(s.ctx, s.staff, familyRequest(s, 'lindqvist-sole'));
  await recordConsentView(s.ctx, s.otherStaff, { consentId, scope: 'status', via: 'page' });
  s.clock.advance(60_000);
  await recordConsentView(s.ctx, s.client, { consentId, scope: 'content', via: 'api' });
  s.clock.advance(60_000);
  const gone = { type: 'staff' as const, staffId: randomUUID(), organisationId: randomUUID() };
  await appendAuditEvent(s.db, {
    consentId,
    action: 'document_downloaded',
    actor: gone,
    at: s.clock.now(),
    details: { kind: 'receipt', revision: 1 },
  });
  const log = await getAccessLog(s, consentId);
  t.match(log.entries, [
    { kind: 'receipt_downloaded', by: { type: 'staff', name: null }, organisationName: null },
    { kind: 'consent_viewed', by: { type: 'api_client', name: 'Elevhälsans system' } },
    {
      kind: 'status_checked',
      by: { type: 'staff', name: 'Amira Haddad' },
      organisationName: 'Socialtjänsten Annanby',
    },
  ]);
  t.equal(log.entries.length, 3);
  const lines = accessLogView(log, '/x').lines;
  t.match(lines[0], { who: 'En anställd', about: '', what: 'laddade ner kvittensen' });
  t.match(lines[1], { who: 'Elevhälsans system', about: 'verksamhetssystem, Björkskolan' });
  t.match(lines[2], { who: 'Amira Haddad', about: 'Socialsekreterare, Socialtjänsten Annanby' });
});

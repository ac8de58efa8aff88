// Regression (issue 15 §2) for the staff page's search by child: every search is in the look-up log with
// every organisation the staff member belongs to (the audit event named only the first one, whatever
// consent was found), and a staff member has a quota of searches, refused with a plain Swedish message.
import t from 'tap';
import { csrfOf } from '../../fixtures/app.ts';
import { staffPages } from '../fixtures/staff.ts';

/** Sorts before any random uuid: the first of the staff member's organisations. */
const FIRST_ORGANISATION = '00000000-0000-4000-8000-000000000001';

t.test('the staff search: logged with every organisation, the consent audited as its own', async (t) => {
  const s = await staffPages(t, { env: { CHILD_LOOKUP_QUOTA: '3' } });
  const consent = await s.lindqvist('saga');
  const db = s.running.db;
  await db
    .insertInto('organisations')
    .values({
      id: FIRST_ORGANISATION,
      name: 'Förskolan Lilla Björk',
      type: 'school',
      municipality: 'Exempelby',
      hlt_area: 'Norrby',
    })
    .execute();
  await db
    .insertInto('staff_memberships')
    .values({ staff_id: s.staffId, organisation_id: FIRST_ORGANISATION, role: 'staff' })
    .execute();

  const karin = await s.loggedIn('karin-holm');
  const csrf = csrfOf((await karin.get('/personal/sok')).body);
  const saga = s.person('saga-lindqvist').personalNumber;
  const found = await karin.post('/personal/sok', { _csrf: csrf, personalNumber: saga });
  t.equal(found.status, 200);
  t.match(found.body, `href="/samtycken/${consent.id}"`);

  const audited = await db
    .selectFrom('audit_events')
    .select(['actor_type', 'actor_id', 'organisation_id'])
    .where('consent_id', '=', consent.id)
    .where('action', '=', 'looked_up_by_child')
    .execute();
  t.same(
    audited,
    [{ actor_type: 'staff', actor_id: s.staffId, organisation_id: s.organisationId }],
    'as the organisation that asked for the consent, not the first one',
  );

  const misses = ['anna-lindqvist', 'erik-lindqvist'].map((k) => s.person(k).personalNumber);
  for (const personalNumber of misses) {
    const miss = await karin.post('/personal/sok', { _csrf: csrf, personalNumber });
    t.equal(miss.status, 200);
    t.match(miss.body, 'Inga samtycken hittades för det personnumret.');
  }
  const rows = await db.selectFrom('child_lookups').selectAll().orderBy('id').execute();
  t.same(
    rows.map((r) => [r.actor_type, r.actor_id, [...r.organisation_ids].sort(), r.via, r.found]),
    [1, 0, 0].map((found) => [
      'staff',
      s.staffId,
      [FIRST_ORGANISATION, s.organisationId].sort(),
      'staff_page',
      found,
    ]),
    'hit and misses, with every organisation',
  );

  // The fourth search in the hour: refused, in Swedish, with Retry-After; nothing searched or logged.
  const refused = await karin.post('/personal/sok', { _csrf: csrf, personalNumber: saga });
  t.equal(refused.status, 429);
  t.equal(refused.headers.get('retry-after'), '3600');
  t.match(refused.body, 'Du har sökt på för många personnummer under kort tid. Försök igen om 60 minuter.');
  t.notMatch(refused.body, saga.slice(2, 8), 'the number is not shown back');
  t.notMatch(refused.body, `href="/samtycken/${consent.id}"`);
  t.equal((await db.selectFrom('child_lookups').select('id').execute()).length, 3);

  const warning = s.running.logs.find((l) => l.includes('"child_lookup_quota_reached"'));
  t.ok(warning, 'a warning when the quota was reached');
  t.match(JSON.parse(warning!), {
    level: 'warn',
    callerType: 'staff',
    callerId: s.staffId,
    count: 3,
    windowSeconds: 3600,
  });
  t.same([...JSON.parse(warning!).organisationIds].sort(), [FIRST_ORGANISATION, s.organisationId].sort());
  for (const key of ['saga-lindqvist', 'anna-lindqvist', 'erik-lindqvist'])
    t.notOk(s.running.logs.join('\n').includes(s.person(key).personalNumber.slice(2)), `${key}: not logged`);
  t.equal(s.running.app.metrics.childLookups.value({ via: 'staff_page', outcome: 'refused' }), 1);
});

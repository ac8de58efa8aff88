import t from 'tap';
import { getConsentStatus } from '../../src/consents/consent-status.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { resolveInvitation } from '../../src/consents/invitations.repository.ts';
import { remindSigners } from '../../src/consents/remind-signers.ts';
import { signConsent } from '../../src/consents/sign-consent.ts';
import {
  addDays,
  addYears,
  eighteenthBirthday,
  localDateOf,
  startOfLocalDay,
} from '../../src/domain/dates.ts';
import {
  bornToTurn,
  childBorn,
  familyRequest,
  nguyenRequest,
  setup,
  signerActor,
} from '../fixtures/consents.ts';

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

t.test('a request lapses at 00:00 after its last day; signing and links stop then', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const expected = startOfLocalDay(
    addDays(localDateOf(created.requestedAt), s.ctx.config.rules.requestLifetimeDays + 1),
  );
  t.same(created.requestExpiresAt, expected, 'whole days: 00:00 after the 30th day');
  const token = tokenOf(created.signers[0]!.invitation!.url);

  s.clock.set(new Date(expected.getTime() - 1));
  t.equal((await getConsentStatus(s.ctx, created.id)).status, 'pending', 'one millisecond before');
  t.match(await resolveInvitation(s.db, s.app.keys, token, s.clock.now()), {
    consentId: created.id,
    role: 'guardian1',
  });

  s.clock.set(expected);
  t.match(await getConsentStatus(s.ctx, created.id), {
    status: 'request_expired',
    reason: 'request_lifetime_passed',
  });
  await t.rejects(resolveInvitation(s.db, s.app.keys, token, s.clock.now()), { code: 'invitation_expired' });
  await t.rejects(
    signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
      consentId: created.id,
      place: 'Norrby',
      confirmSoleGuardian: true,
    }),
    { code: 'consent_state_conflict' },
  );
});

t.test('a consent expires at 00:00 on the anniversary of the first signature', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, nguyenRequest(s));
  const first = await signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
    confirmSoleGuardian: true,
  });
  s.clock.advance(5 * 86_400_000);
  const last = await signConsent(s.ctx, signerActor('youth', s.person('minh-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
  });
  const anniversary = startOfLocalDay(addYears(localDateOf(first.signedAt), 1));
  // Minh is 16–17: if he turns 18 first, that is the end instead.
  const adulthood = startOfLocalDay(eighteenthBirthday(s.person('minh-nguyen').birthDate));
  const end = new Date(Math.min(anniversary.getTime(), adulthood.getTime()));
  t.same(last.validUntil, end, 'counted from the earliest signature');

  s.clock.set(new Date(end.getTime() - 1));
  t.match(await getConsentStatus(s.ctx, created.id), { status: 'active', validUntil: end });
  s.clock.set(end);
  t.match(await getConsentStatus(s.ctx, created.id), {
    status: 'expired',
    reason: anniversary < adulthood ? 'one_year_passed' : 'child_turned_18',
    validUntil: end,
  });
});

t.test("a guardians' consent ends at 00:00 on the child's 18th birthday", async (t) => {
  const s = await setup(t);
  const today = localDateOf(s.clock.now());
  const child = childBorn(bornToTurn(today, 18, 100));
  const request = { ...nguyenRequest(s), child };
  const created = await createConsentRequest(s.ctx, s.staff, request);
  const youth = signerActor('youth', child, s.clock);
  await signConsent(s.ctx, signerActor('guardian1', s.person('mai-nguyen'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
    confirmSoleGuardian: true,
  });
  const done = await signConsent(s.ctx, youth, { consentId: created.id, place: 'Norrby' });
  const birthday = startOfLocalDay(eighteenthBirthday(bornToTurn(today, 18, 100)));
  t.same(done.validUntil, birthday);
  s.clock.set(new Date(birthday.getTime() - 1));
  t.equal((await getConsentStatus(s.ctx, created.id)).status, 'active');
  s.clock.set(birthday);
  t.match(await getConsentStatus(s.ctx, created.id), { status: 'expired', reason: 'child_turned_18' });
});

t.test('the youth threshold is counted on the request day: 12 today signs, 12 tomorrow may', async (t) => {
  const s = await setup(t);
  const today = localDateOf(s.clock.now());
  const atThreshold = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s, 'lindqvist-young'),
    child: childBorn(bornToTurn(today, 12, 0), '974'),
    youth: { email: 'barn@hem.example' },
  });
  t.same(
    atThreshold.signers.map((x) => x.role),
    ['guardian1', 'guardian2', 'youth'],
  );
  const below = await createConsentRequest(s.ctx, s.staff, {
    ...familyRequest(s, 'lindqvist-young'),
    child: childBorn(bornToTurn(today, 12, 1), '976'),
  });
  t.same(
    below.signers.map((x) => x.role),
    ['guardian1', 'guardian2'],
  );
});

t.test('invitation links: unknown, used, replaced by a reminder, and for a role that declined', async (t) => {
  const s = await setup(t);
  const created = await createConsentRequest(s.ctx, s.staff, familyRequest(s));
  const [g1, g2] = created.signers;
  const now = () => s.clock.now();
  await t.rejects(resolveInvitation(s.db, s.app.keys, 'A'.repeat(43), now()), {
    code: 'invitation_not_found',
  });
  await t.rejects(resolveInvitation(s.db, s.app.keys, 'kort', now()), { code: 'invitation_not_found' });
  await t.rejects(resolveInvitation(s.db, s.app.keys, `${tokenOf(g1!.invitation!.url)}x`, now()), {
    code: 'invitation_not_found',
  });
  t.ok(tokenOf(g1!.invitation!.url).length >= 43, '256 bits, base64url');
  const stored = await s.db.selectFrom('invitations').select(['token_hash']).execute();
  t.ok(
    stored.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)),
    'only hashes stored',
  );
  t.notOk(
    stored.some((r) => r.token_hash === tokenOf(g1!.invitation!.url)),
    'never the token itself',
  );

  await signConsent(s.ctx, signerActor('guardian1', s.person('anna-lindqvist'), s.clock), {
    consentId: created.id,
    place: 'Norrby',
  });
  await t.rejects(resolveInvitation(s.db, s.app.keys, tokenOf(g1!.invitation!.url), now()), {
    code: 'invitation_used',
  });

  const reminded = await remindSigners(s.ctx, s.staff, { consentId: created.id });
  const newG2 = reminded.signers.find((x) => x.role === 'guardian2')!;
  t.ok(newG2.invitation, 'a new link for a signer who has not answered');
  t.notOk(reminded.signers.find((x) => x.role === 'guardian1')!.invitation, 'none for who signed');
  await t.rejects(resolveInvitation(s.db, s.app.keys, tokenOf(g2!.invitation!.url), now()), {
    code: 'invitation_expired',
  });
  t.match(await resolveInvitation(s.db, s.app.keys, tokenOf(newG2.invitation!.url), now()), {
    role: 'guardian2',
  });
});

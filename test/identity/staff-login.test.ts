// A newcomer who logs in as staff before `npm run seed:dev` must be told what to run, not to ask an
// administrator; production (any provider but the development IdP) keeps its text.
import tap from 'tap';
import { seedDevelopment } from '../../src/dev/seed.ts';
import { isAppError } from '../../src/errors.ts';
import { resolveStaffLogin } from '../../src/identity/staff-login.ts';
import { build } from '../helper.ts';
import { Browser, startApp } from '../fixtures/app.ts';

const PRODUCTION_TEXT =
  'Du har inget konto i Samtycke med den här inloggningen. Be din organisations administratör om en inbjudan.';

tap.test('development IdP, before seeding: the page says to run npm run seed:dev', async (t) => {
  const app = await startApp(t);
  const before = await new Browser(app.base).login('/auth/staff/login', { person: 'karin-holm' });
  t.equal(before.status, 403);
  t.match(before.body, /Du har inget konto i tjänsten/);
  t.match(before.body, /npm run seed:dev/);
  t.match(before.body, /inga personalkonton/);
  t.notMatch(before.body, /administratör/, 'no administrator to ask in a fresh development database');

  await seedDevelopment(app.db, new Date());
  // A test person who is not staff (a guardian has no e-mail address at the provider).
  const guardian = await new Browser(app.base).login('/auth/staff/login', { person: 'anna-lindqvist' });
  t.equal(guardian.status, 403);
  t.match(guardian.body, /Den här testpersonen har inget personalkonto/);
  t.match(guardian.body, /rubriken Personal/);

  const after = await new Browser(app.base).login('/auth/staff/login', { person: 'karin-holm' });
  t.equal(after.status, 303, 'after seeding the same person logs in');
});

tap.test('another provider: the production text, unchanged', async (t) => {
  const { db } = await build(t);
  for (const issuer of ['https://idp.kommun.example/oidc', 'https://idp.example/not-dev-idp/x']) {
    const err = await resolveStaffLogin(
      db,
      { issuer, subject: 's-1', email: 'vem@kommun.example', emailVerified: true },
      new Date(),
    ).catch((e: unknown) => e);
    t.ok(isAppError(err) && err.code === 'staff_unknown', issuer);
    t.equal((err as Error).message, PRODUCTION_TEXT, issuer);
  }
});

import t from 'tap';
import { ACT_CLOCK_SKEW_SECONDS, actIdentificationProblem } from '../../src/domain/identification.ts';

const start = new Date('2026-12-06T10:00:00.400Z');
const at = (iso: string) => new Date(iso);

t.test('an identification made after the act started counts', async (t) => {
  t.equal(actIdentificationProblem(at('2026-12-06T10:00:05Z'), start, at('2026-12-06T10:00:06Z'), 600), null);
  // auth_time has whole seconds: a login in the act's own second reads as that second.
  t.equal(actIdentificationProblem(at('2026-12-06T10:00:00Z'), start, at('2026-12-06T10:00:01Z'), 600), null);
});

t.test('the provider clock may be behind ours by the allowed skew, and no more', async (t) => {
  const skewed = new Date(Date.parse('2026-12-06T10:00:00Z') - ACT_CLOCK_SKEW_SECONDS * 1000);
  t.equal(actIdentificationProblem(skewed, start, at('2026-12-06T10:00:02Z'), 600), null);
  const older = new Date(skewed.getTime() - 1000);
  t.equal(actIdentificationProblem(older, start, at('2026-12-06T10:00:02Z'), 600), 'before_act');
});

t.test(
  'regression: a single-sign-on answer with the old auth_time is not an identification for the act',
  async (t) => {
    // The broker answered the act's request from the session made when the invitation was opened.
    const openedInvitation = at('2026-12-06T09:58:12Z');
    t.equal(actIdentificationProblem(openedInvitation, start, at('2026-12-06T10:00:03Z'), 600), 'before_act');
  },
);

t.test('no auth_time, an unreadable one, or one far in the future is refused', async (t) => {
  t.equal(actIdentificationProblem(undefined, start, start, 600), 'no_auth_time');
  t.equal(actIdentificationProblem(null, start, start, 600), 'no_auth_time');
  t.equal(actIdentificationProblem(new Date(Number.NaN), start, start, 600), 'no_auth_time');
  t.equal(
    actIdentificationProblem(at('2026-12-06T10:05:00Z'), start, at('2026-12-06T10:00:10Z'), 600),
    'in_future',
  );
});

t.test('an act that took longer than allowed from its start is refused', async (t) => {
  t.equal(
    actIdentificationProblem(at('2026-12-06T10:00:05Z'), start, at('2026-12-06T10:10:00.401Z'), 600),
    'act_too_old',
  );
  t.equal(
    actIdentificationProblem(at('2026-12-06T10:00:05Z'), start, at('2026-12-06T10:10:00.400Z'), 600),
    null,
  );
});

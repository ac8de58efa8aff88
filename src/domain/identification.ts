// When an e-identification counts as made for an act (signing, withdrawing).
//
// Each act starts its own authorization request with `prompt=login` and `max_age=0` (OpenID Connect Core
// 1.0 §3.1.2.1), so the provider must authenticate the person again and report `auth_time`. A provider
// that keeps a single-sign-on session may still answer from that session with the *old* `auth_time`; the
// only proof that the person identified for this act is an `auth_time` not before the act started.
// `auth_time` has whole seconds, so the act's start is compared at second precision, with a small
// allowance for the provider's clock being behind ours.

/** How far behind our clock the provider's may be, in seconds (NTP-synchronised servers: well under 1 s). */
export const ACT_CLOCK_SKEW_SECONDS = 1;

export type ActIdentificationProblem = 'no_auth_time' | 'before_act' | 'act_too_old' | 'in_future';

/**
 * Why an identification with `authTime` does not count for an act started at `actStartedAt` and completed
 * `now`, or null when it does. `maxActSeconds` bounds how long the act may take from its start to its
 * completion (the login attempt's lifetime, at most).
 */
export function actIdentificationProblem(
  authTime: Date | undefined | null,
  actStartedAt: Date,
  now: Date,
  maxActSeconds: number,
): ActIdentificationProblem | null {
  if (!(authTime instanceof Date) || Number.isNaN(authTime.getTime())) return 'no_auth_time';
  const startSecond = Math.floor(actStartedAt.getTime() / 1000);
  const authSecond = Math.floor(authTime.getTime() / 1000);
  if (authSecond < startSecond - ACT_CLOCK_SKEW_SECONDS) return 'before_act';
  // A provider clock far ahead of ours, or a forged time: not an identification we can place.
  if (authTime.getTime() > now.getTime() + 60_000) return 'in_future';
  if (now.getTime() - actStartedAt.getTime() > maxActSeconds * 1000) return 'act_too_old';
  return null;
}

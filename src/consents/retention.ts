// Retention and deletion (gallring, issue 16 §4). A consent that ended is kept for its organisation's
// retention time (src/domain/retention.ts says when it is due); then its documents and personal data are
// deleted and a tombstone without personal data stays for statistics, with an audit event by the system.
// The audit trail is not touched (its rows hold no personal data), so it stays verifiable.
//
// `deleteDueConsents` (the daily job, `npm run retention`) works in batches, one transaction each, with the
// candidates locked and rows another instance holds skipped: two instances never delete the same consent.
// `listDueConsents` (`npm run retention -- --dry-run`) says what would go, and changes nothing.
import type { KeyRing } from '../db/encryption.ts';
import type { Tx } from '../db/index.ts';
import { statusAt, type TerminalStatus } from '../domain/consent.ts';
import { localDateOf } from '../domain/dates.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import { ageGroup, retentionDecision, yearMonthOf } from '../domain/retention.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { loadConsent } from './consent.repository.ts';
import { type ConsentContext, SYSTEM } from './context.ts';
import {
  findRetentionCandidates,
  type RetentionCandidate,
  replaceWithTombstone,
} from './retention.repository.ts';

type RetentionContext = Pick<ConsentContext, 'db' | 'keys' | 'clock' | 'config'>;

/** One consent due for deletion, as the dry run lists it: ids, outcome and dates only. */
export interface DueConsent {
  consentId: string;
  organisationId: string;
  outcome: TerminalStatus;
  endedAt: Date;
  dueAt: Date;
  retentionMonths: number;
}

export interface RetentionRun {
  deleted: number;
  byOutcome: Partial<Record<TerminalStatus, number>>;
}

const BATCH = 50;

/** Deletes every consent due at the clock's now; answers how many went, by outcome. */
export async function deleteDueConsents(
  ctx: RetentionContext,
  options: { batch?: number } = {},
): Promise<RetentionRun> {
  const batch = options.batch ?? BATCH;
  const run: RetentionRun = { deleted: 0, byOutcome: {} };
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    const now = ctx.clock.now();
    const { candidates, deleted } = await ctx.db.transaction().execute(async (tx) => {
      const found = await findRetentionCandidates(tx, {
        now,
        defaultMonths: ctx.config.retention.defaultMonths,
        limit: batch,
        after,
        lock: true,
      });
      const gone: TerminalStatus[] = [];
      for (const candidate of found) {
        const outcome = await deleteIfDue(tx, ctx.keys, candidate, now);
        if (outcome) gone.push(outcome);
      }
      return { candidates: found, deleted: gone };
    });
    for (const outcome of deleted) {
      run.deleted++;
      run.byOutcome[outcome] = (run.byOutcome[outcome] ?? 0) + 1;
    }
    if (candidates.length < batch) return run;
    // Candidates that were not due yet (the pre-filter's margin) are passed, not read again.
    const last = candidates.at(-1)!;
    after = { at: last.earliestEnd, id: last.id };
  }
}

/** What would be deleted at the clock's now (nothing changes), oldest end first, at most `limit`. */
export async function listDueConsents(ctx: RetentionContext, limit = 10_000): Promise<DueConsent[]> {
  const now = ctx.clock.now();
  const due: DueConsent[] = [];
  let after: { at: Date; id: string } | undefined;
  while (due.length < limit) {
    const found = await findRetentionCandidates(ctx.db, {
      now,
      defaultMonths: ctx.config.retention.defaultMonths,
      limit: BATCH,
      after,
    });
    for (const candidate of found) {
      const loaded = await loadConsent(ctx.db, ctx.keys, candidate.id);
      if (!loaded) continue;
      const decision = retentionDecision(statusAt(loaded.facts, now), candidate.retentionMonths, now);
      if (decision?.due)
        due.push({
          consentId: candidate.id,
          organisationId: candidate.organisationId,
          outcome: decision.outcome,
          endedAt: decision.endedAt,
          dueAt: decision.dueAt,
          retentionMonths: candidate.retentionMonths,
        });
    }
    if (found.length < BATCH) break;
    const last = found.at(-1)!;
    after = { at: last.earliestEnd, id: last.id };
  }
  return due.slice(0, limit);
}

/** Under the candidate's row lock: checks it with the domain rules and, when due, deletes it. */
async function deleteIfDue(
  tx: Tx,
  keys: KeyRing,
  candidate: RetentionCandidate,
  now: Date,
): Promise<TerminalStatus | undefined> {
  const loaded = await loadConsent(tx, keys, candidate.id);
  if (!loaded) return undefined;
  const status = statusAt(loaded.facts, now);
  const decision = retentionDecision(status, candidate.retentionMonths, now);
  if (!decision?.due) return undefined;
  const { consent } = loaded;
  // The event first: it is checked against the consent, which is gone a statement later.
  await appendAuditEvent(tx, {
    consentId: consent.id,
    action: 'personal_data_deleted',
    actor: SYSTEM,
    at: now,
    details: {
      outcome: decision.outcome,
      endedMonth: yearMonthOf(decision.endedAt),
      retentionMonths: candidate.retentionMonths,
    },
  });
  await replaceWithTombstone(tx, {
    consent_id: consent.id,
    deleted_at: now,
    retention_months: candidate.retentionMonths,
    requested_month: yearMonthOf(consent.requestedAt),
    ended_month: yearMonthOf(decision.endedAt),
    outcome: decision.outcome,
    reason: status.reason,
    area: consent.area,
    municipality: candidate.municipality,
    organisation_id: candidate.organisationId,
    organisation_type: candidate.organisationType,
    team_id: consent.teamId,
    child_age_group: ageGroup(consent.child.birthDate, localDateOf(consent.requestedAt)),
    child_legal_sex: PersonalNumber.fromDigits(consent.child.personalNumber).legalSex,
  });
  return decision.outcome;
}

// Read: the consents for one child that the caller's organisation may know of (the policy gives the
// scope: its own organisation's consents and those of its teams), with status computed now. The number
// comes in a body, never a URL.
//
// No enumeration through it (issue 15 §2): every search is recorded in the look-up log, hit or miss (who,
// every organisation they act for, when, from where, how many consents were shown; never the number), each
// consent shown gets an audit event on its own timeline, and a caller gets at most CHILD_LOOKUP_QUOTA
// searches in the sliding window (CHILD_LOOKUP_QUOTA_WINDOW_MINUTES), counted in that log. One transaction
// with an advisory lock per caller: parallel searches are counted one after the other, on every instance,
// and the answer goes out only once its rows are committed.

import { statusAt } from '../domain/consent.ts';
import { localDateOf } from '../domain/dates.ts';
import { isUuid } from '../db/uuid.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import { appendAuditEvent } from './audit.repository.ts';
import {
  appendChildLookup,
  type ChildLookupActor,
  childLookupsSince,
  inChildLookupLock,
} from './child-lookups.repository.ts';
import { consentsOfChild } from './consent-lists.repository.ts';
import { consentFacts, signaturesByConsent } from './consent.repository.ts';
import { type ConsentStatusResult, statusResult } from './consent-status.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import type { ConsentScope } from './list-consents.ts';
import { validationFailed } from './validation.ts';

/** Who searches, as the look-up log records it. */
export interface ChildSearcher {
  actor: ChildLookupActor;
  /** Every organisation the caller acts for (a staff member may belong to several). */
  organisationIds: readonly string[];
  via: 'api' | 'staff_page';
}

export interface FindByChildInput {
  childPersonalNumber: string;
  scope: ConsentScope;
  /**
   * The policy's word on a consent found: the actor the caller acts as on it (with the organisation it
   * acts for there), or undefined when the caller may not see it (then it is neither shown nor recorded).
   */
  shownAs(consent: ConsentStatusResult): OrganisationActor | undefined;
  requestId?: string;
  /** Include the child's name (the caller still shows it only where the policy lets it read). */
  includeNames?: boolean;
}

export interface ChildConsent extends ConsentStatusResult {
  requestedAt: Date;
  childName?: string;
}

/** The caller's searches in the window, this one included when it was made. */
export interface QuotaUse {
  used: number;
  quota: number;
  windowSeconds: number;
}

export type FindByChildResult =
  | { refused: false; checkedAt: Date; consents: ChildConsent[]; quota: QuotaUse }
  /** Over the quota: nothing was searched; one more search is allowed after `retryAfterSeconds`. */
  | { refused: true; retryAfterSeconds: number; quota: QuotaUse };

const LIMIT = 100;

export async function findConsentsByChild(
  ctx: Pick<ConsentContext, 'db' | 'keys' | 'clock' | 'config'>,
  searcher: ChildSearcher,
  input: FindByChildInput,
): Promise<FindByChildResult> {
  const now = ctx.clock.now();
  const parsed = PersonalNumber.parse(String(input.childPersonalNumber ?? ''), {
    referenceDate: localDateOf(now),
  });
  if (!parsed.ok)
    throw validationFailed([{ field: 'childPersonalNumber', message: 'Ogiltigt personnummer.' }]);
  const { quota, windowSeconds } = ctx.config.childLookups;
  const organisationIds = (input.scope.organisationIds ?? []).filter(isUuid);
  const teamIds = (input.scope.teamIds ?? []).filter(isUuid);

  return inChildLookupLock(ctx.db, searcher.actor, async (tx): Promise<FindByChildResult> => {
    const before = await childLookupsSince(
      tx,
      searcher.actor,
      new Date(now.getTime() - windowSeconds * 1000),
      quota,
    );
    if (before.count >= quota) {
      const freedAt = (before.quotaOldest ?? now).getTime() + windowSeconds * 1000;
      return {
        refused: true,
        retryAfterSeconds: Math.max(1, Math.ceil((freedAt - now.getTime()) / 1000)),
        quota: { used: before.count, quota, windowSeconds },
      };
    }

    const found =
      organisationIds.length === 0 && teamIds.length === 0
        ? []
        : await consentsOfChild(tx, ctx.keys, parsed.value.digits, { organisationIds, teamIds }, LIMIT);
    const signatures = await signaturesByConsent(
      tx,
      found.map((c) => c.id),
    );
    const shown: { consent: ChildConsent; actor: OrganisationActor }[] = [];
    for (const record of found) {
      const status = statusAt(consentFacts(record, signatures.get(record.id) ?? []), now);
      const consent: ChildConsent = {
        ...statusResult(record, status, now),
        requestedAt: record.requestedAt,
        ...(input.includeNames ? { childName: record.child.name } : {}),
      };
      const actor = input.shownAs(consent);
      if (actor) shown.push({ consent, actor });
    }

    await appendChildLookup(tx, {
      at: now,
      actor: searcher.actor,
      organisationIds: searcher.organisationIds,
      via: searcher.via,
      requestId: input.requestId,
      found: shown.length,
    });
    for (const { consent, actor } of shown) {
      await appendAuditEvent(tx, {
        consentId: consent.id,
        action: 'looked_up_by_child',
        actor,
        at: now,
        requestId: input.requestId,
        details: { status: consent.status },
      });
    }
    return {
      refused: false,
      checkedAt: now,
      consents: shown.map((s) => s.consent),
      quota: { used: before.count + 1, quota, windowSeconds },
    };
  });
}

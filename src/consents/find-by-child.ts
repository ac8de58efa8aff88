// Read: the consents for one child that the caller's organisation may know of (the policy gives the
// scope: its own organisation's consents and those of its teams), with status computed now. The number
// comes in a body, never a URL; every consent found gets an audit event (who asked, when).

import { statusAt } from '../domain/consent.ts';
import { localDateOf } from '../domain/dates.ts';
import { isUuid } from '../db/uuid.ts';
import { PersonalNumber } from '../domain/personal-number.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { consentsOfChild } from './consent-lists.repository.ts';
import { consentFacts, signaturesByConsent } from './consent.repository.ts';
import { type ConsentStatusResult, statusResult } from './consent-status.ts';
import type { ConsentContext, OrganisationActor } from './context.ts';
import type { ConsentScope } from './list-consents.ts';
import { validationFailed } from './validation.ts';

export interface FindByChildInput {
  childPersonalNumber: string;
  scope: ConsentScope;
  requestId?: string;
  /** Include the child's name (the caller still shows it only where the policy lets it read). */
  includeNames?: boolean;
}

export interface ChildConsent extends ConsentStatusResult {
  requestedAt: Date;
  childName?: string;
}

const LIMIT = 100;

export async function findConsentsByChild(
  ctx: Pick<ConsentContext, 'db' | 'clock'>,
  actor: OrganisationActor,
  input: FindByChildInput,
): Promise<{ checkedAt: Date; consents: ChildConsent[] }> {
  const now = ctx.clock.now();
  const parsed = PersonalNumber.parse(String(input.childPersonalNumber ?? ''), {
    referenceDate: localDateOf(now),
  });
  if (!parsed.ok)
    throw validationFailed([{ field: 'childPersonalNumber', message: 'Ogiltigt personnummer.' }]);
  const organisationIds = (input.scope.organisationIds ?? []).filter(isUuid);
  const teamIds = (input.scope.teamIds ?? []).filter(isUuid);
  if (organisationIds.length === 0 && teamIds.length === 0) return { checkedAt: now, consents: [] };

  const found = await consentsOfChild(ctx.db, parsed.value.digits, { organisationIds, teamIds }, LIMIT);
  const signatures = await signaturesByConsent(
    ctx.db,
    found.map((c) => c.id),
  );
  const consents = found.map((consent): ChildConsent => {
    const status = statusAt(consentFacts(consent, signatures.get(consent.id) ?? []), now);
    return {
      ...statusResult(consent, status, now),
      requestedAt: consent.requestedAt,
      ...(input.includeNames ? { childName: consent.child.name } : {}),
    };
  });
  for (const c of consents) {
    await appendAuditEvent(ctx.db, {
      consentId: c.id,
      action: 'looked_up_by_child',
      actor,
      at: now,
      requestId: input.requestId,
      details: { status: c.status },
    });
  }
  return { checkedAt: now, consents };
}

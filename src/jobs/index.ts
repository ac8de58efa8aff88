import { auditCheckpoint } from './audit-checkpoint.ts';
import { consentEndingSoon } from './consent-ending-soon.ts';
import { consentLapse } from './consent-lapse.ts';
import { consentReminders } from './consent-reminders.ts';
import { consentTimeEvents } from './consent-time-events.ts';
import type { JobDefinition } from './define.ts';
import { housekeeping } from './housekeeping.ts';
import { identityCleanup } from './identity-cleanup.ts';
import { notify } from './notify.ts';
import { retention } from './retention.ts';

/** Every job the service knows. Workers run them all; any instance may queue them. */
export const jobs: JobDefinition[] = [
  housekeeping,
  identityCleanup,
  notify,
  consentReminders,
  consentTimeEvents,
  consentLapse,
  consentEndingSoon,
  auditCheckpoint,
  retention,
] as unknown as JobDefinition[];

// One consent whose request lapsed or whose time ran out (src/consents/record-lapse.ts). Queued by the
// time-events sweep (consent-time-events.ts) with the singleton key `lapse:{consentId}`.
import { recordConsentLapse } from '../consents/record-lapse.ts';
import { consentItemPayload, defineJob } from './define.ts';

export const consentLapse = defineJob({
  name: 'consent-lapse',
  payload: consentItemPayload,
  handler: ({ consentId }, ctx) => recordConsentLapse(ctx, consentId),
});

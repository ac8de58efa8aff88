// One consent ending within `endingSoonDays` (src/consents/notice-ending-soon.ts). Queued by the
// time-events sweep (consent-time-events.ts) with the singleton key `ending-soon:{consentId}`.
import { noticeConsentEndingSoon } from '../consents/notice-ending-soon.ts';
import { consentItemPayload, defineJob } from './define.ts';

export const consentEndingSoon = defineJob({
  name: 'consent-ending-soon',
  payload: consentItemPayload,
  handler: ({ consentId }, ctx) => noticeConsentEndingSoon(ctx, consentId),
});

// The consent lifecycle: one function per use case, and the reads. Routes call these with
// `consentContext(app)`, an actor, and input; authorisation is the policy module's (identity issue).
export { cancelConsent } from './cancel-consent.ts';
export { getConsentStatus, recordStatusCheck } from './consent-status.ts';
export { type Actor, consentContext, type SignerActor, type SigningContext, SYSTEM } from './context.ts';
export { createConsentRequest } from './create-consent-request.ts';
export { declineConsent } from './decline-consent.ts';
export { downloadConsentDocument } from './download-document.ts';
export { endConsent } from './end-consent.ts';
export { findConsentsByChild } from './find-by-child.ts';
export { getConsent } from './get-consent.ts';
export { resolveInvitation, resolveInvitationById } from './invitations.repository.ts';
export { listConsents, listConsentsForSigner } from './list-consents.ts';
export { remindSigners } from './remind-signers.ts';
export { renewConsent } from './renew-consent.ts';
export { signConsent } from './sign-consent.ts';
export { withdrawConsent } from './withdraw-consent.ts';

// The consent API (/api/v1, issue 6 "Staff API", "Status for other HLT systems"): thin routes over the
// consent use cases (src/consents/). Each route declares who may call it (`config.auth`, see
// src/identity/caller.ts), loads what the policy needs, asks `authorize` (src/identity/policy.ts) before
// acting — unrelated callers get 404 as if the consent did not exist — and maps the answer to the
// documented schema (./schemas.ts). No personal number ever leaves here; names and free text only where
// the policy lets the caller see them.
//
// The routes, in the order the OpenAPI document lists them: asking for consent (consent-acts.ts), reads
// (consent-reads.ts), the other acts (consent-acts.ts), status (consent-status.ts). access.ts holds what
// they share; presenters.ts maps results to the schemas.
import type { App } from '../types.ts';
import { consentAccess } from './access.ts';
import { consentActRoutes, createRoutes, requestActRoutes } from './consent-acts.ts';
import { documentRoutes, readRoutes } from './consent-reads.ts';
import { statusRoutes } from './consent-status.ts';

export default async function consentRoutes(app: App) {
  const access = consentAccess(app);
  createRoutes(app);
  readRoutes(app, access);
  documentRoutes(app, access);
  requestActRoutes(app, access);
  consentActRoutes(app, access);
  statusRoutes(app, access);
}

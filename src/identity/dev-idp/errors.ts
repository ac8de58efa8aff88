// Kept apart from index.ts: code that only needs to refuse the development IdP (the identity plugin in
// production) must not load oidc-provider to do so.
export class DevIdpProductionError extends Error {
  constructor() {
    super('The development IdP must never run in production: configure OIDC_ISSUER for a real provider.');
    this.name = 'DevIdpProductionError';
  }
}

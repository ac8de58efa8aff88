// The refusal of the development IdP (src/dev/idp/) in production. It lives here, with the production
// code that refuses it (the identity plugin), so that refusing never loads anything from src/dev/;
// createDevIdp throws the same error.
export class DevIdpProductionError extends Error {
  constructor() {
    super('The development IdP must never run in production: configure OIDC_ISSUER for a real provider.');
    this.name = 'DevIdpProductionError';
  }
}

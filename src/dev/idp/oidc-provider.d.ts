// Minimal local types for oidc-provider v9 (it ships none; @types/oidc-provider is not installed).
// Only what src/dev/idp uses. Kept as an ambient script: no top-level import or export.

declare module 'oidc-provider' {
  type IncomingMessage = import('node:http').IncomingMessage;
  type ServerResponse = import('node:http').ServerResponse;

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(
      use: 'id_token' | 'userinfo',
      scope: string,
      claims: unknown,
      rejected: string[],
    ): AccountClaims | Promise<AccountClaims>;
  }

  export interface Grant {
    readonly jti: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { clientId: string; accountId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface OidcContext {
    readonly client?: { readonly clientId: string; readonly clientName?: string };
    readonly session?: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined };
    readonly result?: { consent?: { grantId?: string } };
    readonly requestParamScopes: Set<string>;
    readonly requestParamClaims: Set<string>;
    readonly provider: Provider;
  }

  export interface KoaContextWithOIDC {
    oidc: OidcContext;
    body: unknown;
    type: string;
    status: number;
    set(field: string, value: string): void;
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { accountId?: string };
    readonly grantId?: string;
  }

  export type InteractionResults =
    | {
        login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
        consent?: { grantId?: string };
      }
    | { error: string; error_description?: string };

  export interface ErrorOut {
    error: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export type Configuration = Record<string, unknown>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Grant: GrantConstructor;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export default Provider;
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  /** A per-instance in-memory adapter factory (the default one shares module-level storage). */
  export function createMemoryAdapter(clockTolerance?: number): (model: string) => unknown;
}

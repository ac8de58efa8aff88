// What every consent use case needs, passed explicitly (no globals), and who is acting.
// Authorisation (who may act on which consent) is the policy module's job (identity issue): these use
// cases assume the caller was authorised, except the signing rule that a signer's identified personal
// number must be the one on the form for that role (sign-consent.ts, signer-check.ts).
import type PgBoss from 'pg-boss';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { KeyRing } from '../db/encryption.ts';
import type { PoolShare } from '../db/pool-share.ts';
import type { SignerRole } from '../domain/roles.ts';
import type { SigningService } from '../pdf/signing-service.ts';
import type { Trust } from '../pdf/trust.ts';
import type { Timestamper } from '../pdf/tsa.ts';

/** The job queue: notifications are queued with `boss.send` inside the use case's transaction. */
export interface JobQueue {
  boss: Pick<PgBoss, 'send'>;
}

export interface ConsentContext {
  db: Db;
  /** Personal data is stored encrypted under these keys (src/db/encrypted-columns.ts). */
  keys: KeyRing;
  clock: Clock;
  config: Config;
  /** Without a queue nothing is sent (tools, tests of the state rules alone). */
  jobs?: JobQueue | undefined;
}

/**
 * Signing also needs the signing service, the time-stamping authority every signature is stamped by, and
 * the trust anchors the earlier signatures (and their timestamps) must chain to.
 */
export interface SigningContext extends ConsentContext {
  signing: SigningService;
  timestamper: Timestamper;
  trust: Trust;
  tsaTrust?: Trust | undefined;
  /** The part of the pool signatures may hold at once; without it (tools) they take what they need. */
  signingShare?: PoolShare | undefined;
}

export interface StaffActor {
  type: 'staff';
  staffId: string;
  /** The organisation the staff member acts for (they may belong to several). */
  organisationId: string;
}

export interface ApiClientActor {
  type: 'api_client';
  /** api_clients.id (the row id, not the OAuth client_id). */
  clientId: string;
  organisationId: string;
  /** The named contact person at the organisation ("Samtycke inhämtat av"). */
  contactName: string;
}

/** A person identified by e-identification (identity issue: `Identity`). */
export interface SignerIdentity {
  /** 12 digits. Never log it. */
  personalNumber: string;
  name: string;
  issuer: string;
  acr?: string | undefined;
  authTime?: Date | undefined;
  /**
   * When the act this identification was made for started (its authorization request with prompt=login
   * and max_age=0). Signing and withdrawing need it, and `authTime` after it (domain/identification.ts).
   */
  actStartedAt?: Date | undefined;
}

export interface SignerActor {
  type: 'signer';
  /** The role the signer acts in (from the invitation, or found in "Mina samtycken"). */
  role: SignerRole;
  identity: SignerIdentity;
}

export interface SystemActor {
  type: 'system';
}

export type OrganisationActor = StaffActor | ApiClientActor;
export type Actor = OrganisationActor | SignerActor | SystemActor;

export const SYSTEM: SystemActor = { type: 'system' };

/** The context from a built app (routes): `consentContext(app)`. */
export function consentContext(app: {
  db: Db;
  keys: KeyRing;
  clock: Clock;
  config: Config;
  jobs?: JobQueue;
  signing: { service: SigningService; trust: Trust; tsaTrust: Trust; timestamper: Timestamper };
  signingShare?: PoolShare;
}): SigningContext {
  return {
    db: app.db,
    keys: app.keys,
    clock: app.clock,
    config: app.config,
    jobs: app.jobs,
    signing: app.signing.service,
    trust: app.signing.trust,
    timestamper: app.signing.timestamper,
    tsaTrust: app.signing.tsaTrust,
    signingShare: app.signingShare,
  };
}

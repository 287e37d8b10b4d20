import type { ScramVerifier } from '../../core/secret.js';

/**
 * What the Postgres gateway needs from the control plane. The gateway never
 * reaches into the store or lifecycle directly: this port is its whole reach,
 * and `src/gateway/postgres/control-plane-backend.ts` adapts the core to it.
 */

export type StatementClass = 'read' | 'write' | 'ddl' | 'admin';

/** The scope a SQL role grants (DESIGN.md "Role"). Patterns are `schema.table` with `*` wildcards. */
export interface SqlScope {
  readonly resource: string;
  readonly role: string;
  readonly allow: readonly StatementClass[];
  readonly tables?: readonly string[];
  readonly denyTables?: readonly string[];
}

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Never logged, never echoed in an error, never put in an audit record. */
  readonly password?: string;
  readonly tls?: false | { readonly rejectUnauthorized: boolean; readonly ca?: string };
}

export interface GatewayGrant {
  readonly grantId: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly expiresAt: Date;
  readonly verifier: ScramVerifier;
}

export type SessionEndReason = 'client' | 'expired' | 'released' | 'revoked' | 'violation' | 'upstream' | 'error' | 'shutdown';

export interface SessionStart {
  readonly grantId: string;
  readonly clientAddress: string;
  readonly applicationName?: string;
}

export interface StatementRecord {
  readonly sessionId: string;
  readonly text: string;
  readonly outcome: 'ok' | 'error' | 'refused';
  readonly commandTag?: string;
  readonly rows?: number;
  readonly sqlstate?: string;
  readonly reason?: string;
  readonly durationMs: number;
}

export interface SessionEnd {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  readonly detail?: string;
  readonly statements: number;
  readonly refused: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Why a grant stopped being usable, written for the person whose connection is cut. */
export interface GrantEnded {
  readonly grantId: string;
  readonly reason: 'expired' | 'released' | 'revoked';
  /** e.g. `airlock: access to orders-db expired at 14:32:05Z` */
  readonly message: string;
}

export interface GatewayBackend {
  /** The salt and iteration count to offer in SCRAM for this user and resource (same shape for unknown users). */
  scramParameters(user: string, resource: string): { salt: Buffer; iterations: number };
  /** Active grants of `user` on `resource`; all share the salt from `scramParameters`. */
  activeGrants(user: string, resource: string): Promise<GatewayGrant[]>;
  /** Upstream connection and scope for a grant's role. */
  upstreamFor(grantId: string): Promise<{ target: UpstreamTarget; scope: SqlScope }>;
  authFailed(user: string, resource: string, clientAddress: string, why: string): Promise<void>;
  sessionStarted(start: SessionStart): Promise<{ sessionId: string }>;
  /**
   * Records one statement. May return without a promise when it only queues
   * the record (the hot path); throws or rejects when the audit log cannot
   * take it, and the gateway then cuts the session (fail closed).
   */
  statement(record: StatementRecord): void | Promise<void>;
  sessionEnded(end: SessionEnd): Promise<void>;
  /**
   * A promise while too many statements wait to be written to the audit log:
   * sessions hold their next message until it resolves. Undefined (the usual
   * answer, given without a promise) lets them go on.
   */
  auditBackpressure?(): Promise<void> | undefined;
  /** Subscribe to grants ending; returns an unsubscribe function. */
  onGrantEnded(listener: (ended: GrantEnded) => void): () => void;
  /** Subscribe to grants getting a later end (an approved extension); returns an unsubscribe function. */
  onGrantExtended?(listener: (extended: { readonly grantId: string; readonly expiresAt: Date }) => void): () => void;
}

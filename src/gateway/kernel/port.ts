import type { Resource, Role } from '../../core/model.js';
import type { MysqlVerifiers } from '../../core/mysql-verifiers.js';
import type { ScramVerifier } from '../../core/secret.js';

/**
 * What every gateway needs from the control plane, whatever its protocol. A
 * gateway never reaches into the store or the lifecycle directly: this port is
 * its whole reach (`control-plane-port.ts` adapts the core to it), so a gateway
 * could run on a node of its own.
 */

export type GatewayKind = Resource['kind'];

export interface GatewayGrant {
  readonly grantId: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly expiresAt: Date;
  readonly verifier: ScramVerifier;
  /** The grant secret's MySQL verifiers (mysql_native_password, caching_sha2_password's fast path), when it was issued with them. */
  readonly mysql?: MysqlVerifiers;
}

/** A grant's role as configured, with the upstream credential the gateway logs in with. */
export interface GrantAccess {
  readonly resource: Resource;
  readonly role: Role;
  /** The upstream login: the role's credential user, or the Airlock user when the role names none. */
  readonly login: string;
  /** Never logged, never echoed in an error, never put in an audit record. */
  readonly password?: string;
}

export type SessionEndReason = 'client' | 'expired' | 'released' | 'revoked' | 'violation' | 'upstream' | 'error' | 'shutdown';

export interface SessionStart {
  readonly grantId: string;
  readonly clientAddress: string;
  readonly applicationName?: string;
}

export interface StatementRecord {
  readonly sessionId: string;
  /** What the audit keeps of the statement (already capped or redacted by the session). */
  readonly text: string | undefined;
  /** `unknown`: forwarded, never answered (the upstream or the gateway went away); it may or may not have run. */
  readonly outcome: 'ok' | 'error' | 'refused' | 'unknown';
  readonly commandTag?: string;
  readonly rows?: number;
  /** The upstream's error code (SQLSTATE, MySQL error number, HTTP status …). */
  readonly sqlstate?: string;
  readonly reason?: string;
  readonly durationMs: number;
  /** The write-ahead intent this outcome closes (statements that reached the upstream). */
  readonly intent?: string;
  /** Protocol-specific fields kept in the audit as they are (HTTP status, bytes, bound parameters …). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface SessionEnd {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  readonly detail?: string;
  readonly statements: number;
  readonly refused: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** When the session ended (not when the record could be written). */
  readonly at: Date;
}

/** Why a grant stopped being usable, written for the person whose connection is cut. */
export interface GrantEnded {
  readonly grantId: string;
  readonly reason: 'expired' | 'released' | 'revoked';
  /** e.g. `airlock: access to orders-db expired at 14:32:05Z` */
  readonly message: string;
}

/** A statement about to be forwarded, put on record before it can run. */
export interface StatementIntent {
  readonly sessionId: string;
  readonly text: string | undefined;
  /**
   * The caller forwards the statement only after `intentsWritten` said yes:
   * the intent may wait in memory until then, so the intents of one
   * event-loop turn reach the OS in one write.
   */
  readonly deferred?: boolean;
}

export interface ControlPlanePort {
  /** The salt and iteration count to offer in SCRAM for this user and resource (same shape for unknown users). */
  scramParameters(user: string, resource: string): { salt: Buffer; iterations: number };
  /** Active grants of `user` on `resource`; all share the salt from `scramParameters`. */
  activeGrants(user: string, resource: string): Promise<GatewayGrant[]>;
  /** The grant's role and the upstream credential behind it. */
  access(grantId: string): Promise<GrantAccess>;
  authFailed(user: string, resource: string, clientAddress: string, why: string): Promise<void>;
  /** Whether this gateway serves a resource of that name: a sign-in hint names only resources that exist. */
  resourceExists?(resource: string): boolean;
  /**
   * The upstream refused the gateway's own login (or could not be reached):
   * its own words go to the audit and the server log, never to the user, and
   * never with the credential.
   */
  upstreamFailed?(failure: { readonly grantId: string; readonly resource: string; readonly role: string; readonly login: string; readonly detail: string }): Promise<void>;
  sessionStarted(start: SessionStart): Promise<{ sessionId: string }>;
  /**
   * Puts a statement on record before it is forwarded, so a crash of this
   * process cannot lose it; returns the intent's id, which the outcome
   * record then names. Synchronous and cheap (an append to a file the OS
   * holds). Throws when it cannot be recorded: the statement must then not
   * be forwarded.
   */
  intend?(intent: StatementIntent): string | undefined;
  /**
   * Writes the deferred intents (every session's) and tells whether the one
   * named is in the OS's hands; false when it could not be written (the
   * statement must then not be forwarded). Never throws.
   */
  intentsWritten?(lastId: string): boolean;
  /**
   * Records one statement's outcome. May return without a promise when it
   * only queues the record (the hot path); throws or rejects when the audit
   * log cannot take it, and the gateway then cuts the session (fail closed).
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
  /**
   * Subscribe to the store being unreachable for longer than the grace (a
   * node of a fleet): every session is then cut with `message`, since the
   * node can no longer learn of revocations.
   */
  onStoreLost?(listener: (message: string) => void): () => void;
}

/** The product's nouns, as the domain sees them (DESIGN.md "Domain"). */

export type StatementClass = 'read' | 'write' | 'ddl' | 'admin';

export interface User {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface Credential {
  readonly user: string;
  /** Name of the environment variable holding the password; the value is read only by the gateway. */
  readonly passwordEnv?: string;
}

/** One HTTP allow or deny rule, as written: `GET,HEAD /api/**`. */
export interface HttpRule {
  /** Upper-case methods; `*` stands for any method, `WEBSOCKET` for an upgrade to a WebSocket. */
  readonly methods: readonly string[];
  /** A path pattern: literal segments, `*` for one segment, `**` for any number of segments. */
  readonly path: string;
}

/** How the gateway presents itself to an HTTP upstream; the value is read from the environment only by the gateway. */
export type HttpCredential =
  | { readonly kind: 'basic'; readonly user: string; readonly passwordEnv: string }
  | { readonly kind: 'bearer'; readonly tokenEnv: string }
  | { readonly kind: 'header'; readonly header: string; readonly valueEnv: string };

/** What an HTTP role allows and records (the HTTP counterpart of allow/tables for SQL). */
export interface HttpScope {
  readonly allow: readonly HttpRule[];
  /** Deny rules win over allow rules. */
  readonly deny: readonly HttpRule[];
  readonly credential?: HttpCredential;
  /** Largest request body accepted, in bytes (no limit when absent). */
  readonly maxBodyBytes?: number;
  /** Media types a request body may have (`application/json`); any when absent. */
  readonly contentTypes?: readonly string[];
  /** Query parameters whose values the audit keeps; every other value is recorded as redacted. */
  readonly auditQueryValues: readonly string[];
  /** Request bodies are recorded up to this many bytes; not at all when absent. */
  readonly recordBodyBytes?: number;
}

export interface Role {
  readonly name: string;
  readonly credential?: Credential;
  readonly allow: readonly StatementClass[];
  readonly tables?: readonly string[];
  readonly denyTables?: readonly string[];
  readonly http?: HttpScope;
  readonly maxDurationSeconds?: number;
  readonly limits?: SqlLimits;
}

/** What protects a SQL upstream from one session of a role. */
export interface SqlLimits {
  /** Largest statement text a session may send (UTF-8 bytes). */
  readonly maxStatementBytes?: number;
  /** Forced upstream as `statement_timeout`. */
  readonly statementTimeoutSeconds?: number;
  /** Forced upstream as `idle_in_transaction_session_timeout`: an idle open transaction cannot hold locks for a grant's whole life. */
  readonly idleInTransactionTimeoutSeconds?: number;
}

export interface Upstream {
  readonly host: string;
  readonly port: number;
  readonly database?: string;
  readonly tls?: boolean;
  /** PEM of the CA that signed the upstream's certificate (system CAs when absent). */
  readonly tlsCa?: string;
  /** false only by explicit choice: an unverified upstream could be anyone on the path. */
  readonly tlsVerify?: boolean;
  /** HTTP only: the base URL requests are forwarded under (host, port and tls are derived from it). */
  readonly url?: string;
  /**
   * HTTP only: what an encoded slash (`%2F`) in a path means to this upstream. `segment` (RFC 3986,
   * RabbitMQ): data inside one segment, forwarded as sent. `refuse`: the upstream decodes it into a
   * separator, so the gateway refuses it rather than judge a path the upstream reads differently.
   */
  readonly encodedSlash?: 'segment' | 'refuse';
  /** HTTP only: what `airlock resources check` GETs with each role's credential (default `/`). */
  readonly checkPath?: string;
}

export interface Resource {
  readonly name: string;
  readonly kind: 'postgres' | 'mysql' | 'http';
  readonly upstream: Upstream;
  readonly labels: Readonly<Record<string, string>>;
  readonly maxDurationSeconds?: number;
  readonly roles: ReadonlyMap<string, Role>;
}

export interface Selector {
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
}

export interface Approval {
  readonly count: number;
  readonly from: Selector;
}

export interface Policy {
  readonly name: string;
  readonly who: Selector;
  readonly resources: { readonly names?: readonly string[]; readonly labels?: Readonly<Record<string, string>> };
  readonly roles: readonly string[];
  readonly maxDurationSeconds?: number;
  /** null when the policy grants at once. */
  readonly approval: Approval | null;
  readonly require: { readonly reason: boolean; readonly ticket?: RegExp };
}

export interface Directory {
  readonly users: ReadonlyMap<string, User>;
  readonly admins: Selector;
  readonly resources: ReadonlyMap<string, Resource>;
  readonly policies: readonly Policy[];
  readonly reviewTimeoutSeconds: number;
}

export type RequestState = 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';
export type GrantState = 'active' | 'expired' | 'released' | 'revoked';

export interface AccessRequest {
  readonly id: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason: string | null;
  readonly ticket: string | null;
  readonly policy: string;
  readonly approvalsNeeded: number;
  readonly state: RequestState;
  readonly createdAt: Date;
  readonly reviewDeadline: Date;
  readonly decidedAt: Date | null;
  /** Set when this request asks to extend an existing grant. */
  readonly extendsGrantId: string | null;
  readonly grantId: string | null;
}

export interface Review {
  readonly requestId: string;
  readonly reviewer: string;
  readonly decision: 'approve' | 'deny';
  readonly comment: string | null;
  readonly at: Date;
}

export interface Grant {
  readonly id: string;
  readonly requestId: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly policy: string;
  readonly reason: string | null;
  readonly ticket: string | null;
  readonly approvedBy: readonly string[];
  readonly startsAt: Date;
  readonly expiresAt: Date;
  readonly state: GrantState;
  readonly endedAt: Date | null;
  readonly endedBy: string | null;
  readonly endReason: string | null;
}

export function isMember(user: User, selector: Selector): boolean {
  return (
    (selector.users?.includes(user.name) ?? false) || (selector.groups?.some((g) => user.groups.includes(g)) ?? false)
  );
}

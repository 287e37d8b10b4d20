/** Messages between the bench and the gateway process it runs (over Node's IPC channel). */

export interface GatewayStart {
  readonly configYaml: string;
  /** Folder for the gateway's SQLite store. */
  readonly dir: string;
  /** false: the bench's "audit off" variant — statements are not written to the audit chain (session counts still are). */
  readonly statementAudit: boolean;
  /** Write-ahead intents before each statement (default strict); off only to measure their cost. */
  readonly intents?: 'strict' | 'off';
  readonly env: Record<string, string>;
}

export type GatewayRequest =
  | { readonly op: 'start'; readonly start: GatewayStart }
  | { readonly op: 'grant'; readonly user: string; readonly resource: string; readonly role: string; readonly seconds: number }
  | { readonly op: 'revoke'; readonly admin: string; readonly grantIds: readonly string[] }
  | { readonly op: 'memory' }
  | { readonly op: 'stop' };

export interface GrantIssued {
  readonly grantId: string;
  readonly secret: string;
  readonly expiresAtMs: number;
}

export interface MemoryReport {
  /** After a full GC, so the number is what the sessions hold, not garbage. */
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly sessions: number;
}

export interface GatewayReplies {
  start: { readonly port: number; readonly pid: number };
  grant: GrantIssued;
  /** When the revocation started, in wall-clock ms with sub-ms precision. */
  revoke: { readonly startedAtMs: number };
  memory: MemoryReport;
  stop: Record<string, never>;
}

export type Envelope<T> = { readonly id: number } & T;
export type Reply = Envelope<{ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string }>;

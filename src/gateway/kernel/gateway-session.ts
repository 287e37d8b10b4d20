import type { Clock } from '../../core/clock.js';
import { expiredMessage } from '../../core/grant-messages.js';
import type { AuditedText, AuditText } from './audit-text.js';
import type { ControlPlanePort, GatewayGrant, SessionEndReason, StatementRecord } from './port.js';
import type { SessionRegistry } from './session-registry.js';

/**
 * One client connection as the kernel sees it, whatever its protocol: the
 * grant it runs under, its counts, its expiry timer, the order and safety of
 * its audit records, and exactly one end with its record. The adapter owns
 * the wire; it tells the kernel what happened and is told when to cut.
 */

/** What an adapter gives the kernel for one connection. */
export interface SessionWire {
  /**
   * Close the connection because the kernel says so (the grant ended, the
   * audit log failed, the gateway stops), telling the client `message` in the
   * protocol's own words, and stop the upstream's work. Called at most once.
   */
  cut(reason: SessionEndReason, message: string): void;
  /**
   * Resolves once nothing forwarded can still be answered (the upstream
   * connection is closed, or what it owed was given up). The end record
   * waits for it, so outcomes that arrive during the close are recorded.
   */
  settled(): Promise<void>;
}

/** What the adapter reports for one statement or request. */
export interface Outcome {
  /** The statement as the client sent it (the kernel decides what the audit keeps of it). */
  readonly text: string;
  readonly outcome: StatementRecord['outcome'];
  readonly commandTag?: string;
  readonly rows?: number;
  readonly sqlstate?: string;
  readonly reason?: string;
  readonly durationMs: number;
  readonly extra?: StatementRecord['extra'];
}

/** A statement put on record before it was forwarded; its outcome names it. */
export interface Intent {
  readonly id: string | undefined;
  readonly text: AuditedText | undefined;
}

export interface SessionSummary {
  readonly sessionId: string;
  readonly grantId: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly clientAddress: string;
  readonly applicationName?: string;
  readonly startedAt: Date;
  readonly statements: number;
  readonly refused: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface SessionContext {
  readonly port: ControlPlanePort;
  readonly clock: Clock;
  readonly registry: SessionRegistry;
  readonly auditText: AuditText;
  /** How long a session may be held while the audit log is behind before it is closed (default 30 s). */
  readonly auditWaitMs?: number;
  /** An end record the store could not take is written later, with its real time and reason. */
  retryEnd(write: () => Promise<void>, cause: unknown): void;
}

interface Live {
  readonly sessionId: string;
  grant: GatewayGrant;
  readonly applicationName?: string;
  readonly startedAt: Date;
}

export const AUDIT_FAILED = 'airlock: the audit log cannot be written, so the session was closed';

export class GatewaySession {
  private live: Live | null = null;
  private ending = false;
  private starting: Promise<void> = Promise.resolve();
  private stopExpiryTimer: (() => void) | null = null;
  private audit: Promise<void> = Promise.resolve();
  private statements = 0;
  private refused = 0;
  /** The last intent put on record with `deferred` and not yet known to be written. */
  private unwrittenIntent: string | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private resolveDone!: () => void;
  /** Resolves once the session is closed and its end (if it went live) has been recorded or handed to retry. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly ctx: SessionContext,
    private readonly wire: SessionWire,
    readonly clientAddress: string,
  ) {
    ctx.registry.accepted(this);
  }

  get grant(): GatewayGrant | undefined {
    return this.live?.grant;
  }

  get sessionId(): string | undefined {
    return this.live?.sessionId;
  }

  /** True once the session has begun to end, for whatever reason: nothing more is forwarded. */
  get isEnding(): boolean {
    return this.ending;
  }

  summary(): SessionSummary | null {
    const live = this.live;
    if (!live) return null;
    const g = live.grant;
    return {
      sessionId: live.sessionId,
      grantId: g.grantId,
      user: g.user,
      resource: g.resource,
      role: g.role,
      clientAddress: this.clientAddress,
      applicationName: live.applicationName,
      startedAt: live.startedAt,
      statements: this.statements,
      refused: this.refused,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }

  /**
   * The client proved it holds `grant`: record the session's start and run
   * it under the grant. False when the session was cut meanwhile (the caller
   * stops); throws what sessionStarted throws (e.g. the grant ended while
   * signing in).
   */
  async begin(grant: GatewayGrant, applicationName?: string): Promise<boolean> {
    const started = this.ctx.port.sessionStarted({ grantId: grant.grantId, clientAddress: this.clientAddress, applicationName }).then(({ sessionId }) => {
      this.live = { sessionId, grant, applicationName, startedAt: this.ctx.clock.now() };
    });
    this.starting = started.catch(() => undefined);
    await started;
    // Cut while the control plane was recording the start: the end path closes the record just opened.
    if (this.ending) return false;
    this.ctx.registry.live(this, grant.grantId);
    // Second line behind onGrantEnded: a connection opened late only ever gets the time left.
    this.armExpiry(grant);
    return true;
  }

  private armExpiry(grant: GatewayGrant): void {
    this.stopExpiryTimer?.();
    this.stopExpiryTimer = this.ctx.clock.at(grant.expiresAt, () => this.cut('expired', expiredMessage(grant.resource, grant.expiresAt)));
  }

  /** The grant now ends later (an approved extension): the session's own timer follows. */
  extendTo(expiresAt: Date): void {
    const live = this.live;
    if (!live || this.ending || expiresAt <= live.grant.expiresAt) return;
    live.grant = { ...live.grant, expiresAt };
    this.armExpiry(live.grant);
  }

  countIn(bytes: number): void {
    this.bytesIn += bytes;
  }

  countOut(bytes: number): void {
    this.bytesOut += bytes;
  }

  /**
   * Puts a statement on record before the adapter forwards it. Null when it
   * cannot be recorded: the session is then cut and the statement must not
   * be forwarded.
   */
  intend(text: string, deferred = false): Intent | null {
    const live = this.live;
    if (!live || this.ending) return null;
    const auditText = this.ctx.auditText(text);
    let id: string | undefined;
    try {
      id = this.ctx.port.intend?.({ sessionId: live.sessionId, text: auditText?.text, deferred });
    } catch {
      this.cut('error', AUDIT_FAILED);
      return null;
    }
    if (deferred && id !== undefined) this.unwrittenIntent = id;
    return { id, text: auditText };
  }

  /**
   * Called before forwarding statements intended with `deferred`: writes
   * the intents still in memory (those of every session this turn, in one
   * write). False when they could not be written: the session is cut and
   * nothing may be forwarded.
   */
  intentsOut(): boolean {
    const last = this.unwrittenIntent;
    if (last === undefined) return true;
    this.unwrittenIntent = undefined;
    if (this.ctx.port.intentsWritten?.(last) ?? true) return true;
    this.cut('error', AUDIT_FAILED);
    return false;
  }

  /**
   * Records an outcome. Writes are not awaited on the hot path (the recorder
   * only queues), but stay in order and are all settled before the end
   * record. A record the audit log cannot take closes the session: fail closed.
   */
  record(outcome: Outcome, intent?: Intent | null): void {
    const live = this.live;
    if (!live) return;
    this.statements++;
    if (outcome.outcome === 'refused') this.refused++;
    const text = intent ? intent.text : this.ctx.auditText(outcome.text);
    const record: StatementRecord = {
      sessionId: live.sessionId,
      text: text?.text,
      outcome: outcome.outcome,
      commandTag: outcome.commandTag,
      rows: outcome.rows,
      sqlstate: outcome.sqlstate,
      reason: outcome.reason,
      durationMs: outcome.durationMs,
      intent: intent?.id,
      extra: text?.whole ? { ...outcome.extra, text_bytes: text.whole.bytes, text_sha256: text.whole.sha256, text_truncated: true } : outcome.extra,
    };
    let queued: void | Promise<void>;
    try {
      queued = this.ctx.port.statement(record);
    } catch {
      return this.cut('error', AUDIT_FAILED);
    }
    if (queued) {
      // A port that answers with a promise: each record is started at once (so in order); one that fails is retried once, after the records before it have settled.
      const wrote = queued.then(
        () => true,
        () => false,
      );
      this.audit = this.audit
        .then(async () => {
          if (!(await wrote)) await this.ctx.port.statement(record);
        })
        .catch(() => this.cut('error', AUDIT_FAILED));
    }
  }

  /**
   * The audit log is behind (or has a gap not yet on record): the session's
   * next message waits, but not forever — a session held longer than
   * `auditWaitMs` is closed, so a stuck audit store ends in an error the
   * user can read instead of a hang.
   */
  holdForAudit(): Promise<void> | undefined {
    const behind = this.ctx.port.auditBackpressure?.();
    if (!behind) return undefined;
    const waitMs = this.ctx.auditWaitMs ?? 30_000;
    const stop = this.ctx.clock.after(waitMs, () =>
      this.cut('error', `airlock: the audit log has been unavailable for ${Math.round(waitMs / 1000)} s, so the session was closed`),
    );
    return behind.finally(stop);
  }

  /** The kernel ends the session: the adapter closes it with `message` in the protocol's words. */
  cut(reason: SessionEndReason, message: string): void {
    if (this.ending) return;
    this.ending = true;
    this.wire.cut(reason, message);
    void this.finish(reason, message);
  }

  /**
   * The adapter ends the session (the client left, the upstream went away, a
   * protocol violation). False when it is already ending: the caller then
   * does nothing more.
   */
  end(reason: SessionEndReason, detail?: string): boolean {
    if (this.ending) return false;
    this.ending = true;
    void this.finish(reason, detail);
    return true;
  }

  private async finish(reason: SessionEndReason, detail?: string): Promise<void> {
    const at = this.ctx.clock.now();
    await this.starting;
    this.stopExpiryTimer?.();
    const live = this.live;
    if (live) {
      this.ctx.registry.ended(this, live.grant.grantId);
      // What was forwarded before the end may still be answered (and may have run): its outcome is recorded, not dropped.
      await this.wire.settled();
      await this.audit;
      const write = () =>
        this.ctx.port.sessionEnded({
          sessionId: live.sessionId,
          reason,
          detail,
          at,
          statements: this.statements,
          refused: this.refused,
          bytesIn: this.bytesIn,
          bytesOut: this.bytesOut,
        });
      await write().catch((err: unknown) => this.ctx.retryEnd(write, err));
    }
    this.resolveDone();
  }
}

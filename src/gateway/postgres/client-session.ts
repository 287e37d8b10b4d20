import { expiredMessage } from '../../core/grant-messages.js';
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import type { GatewayGrant, SessionEndReason, SqlScope, UpstreamTarget } from './backend.js';
import type { CancelKey } from './cancel-keys.js';
import { runClientStartup, type StartupDeps } from './client-startup.js';
import { PgGatewayError } from './errors.js';
import { SqlState } from './protocol/codes.js';
import * as msg from './protocol/messages.js';
import { QueryRelay } from './query-relay.js';
import type { StatementOutcome } from './response-tracker.js';
import { StatementCheck, scopeIsReadOnly, type CheckSql, type CheckSqlNow } from './statement-check.js';
import { cancelUpstream, openUpstream, type UpstreamConnection } from './upstream.js';

/**
 * One client connection from accept to close: startup and authentication,
 * the upstream connection, the live relay, and exactly one end — whether
 * the client leaves, the upstream fails, the grant ends or the gateway stops.
 */

export interface SessionDeps extends StartupDeps {
  readonly checkSql: CheckSql;
  readonly checkSqlNow?: CheckSqlNow;
  readonly clock: Clock;
  /** How long a session may be held while the audit log is behind before it is closed (default 30 s). */
  readonly auditWaitMs?: number;
  readonly startupTimeoutMs: number;
  /** How long a cut waits for the upstream to finish the message in flight before dropping it mid-message. */
  readonly cutGraceMs: number;
  register(session: ClientSession): void;
  unregister(session: ClientSession): void;
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

interface Live {
  readonly sessionId: string;
  grant: GatewayGrant;
  readonly user: string;
  readonly applicationName?: string;
  readonly startedAt: Date;
}

export class ClientSession {
  private client: net.Socket;
  private readonly clientAddress: string;
  private live: Live | null = null;
  private upstream: UpstreamConnection | null = null;
  private target: UpstreamTarget | null = null;
  private relay: QueryRelay | null = null;
  private cancelKey: CancelKey | null = null;
  private stopExpiryTimer: (() => void) | null = null;
  private readonly holds = new Set<string>();
  private audit: Promise<void> = Promise.resolve();
  private ending = false;
  private endReason: SessionEndReason = 'client';
  private statements = 0;
  private refused = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Resolves once the session is fully closed and sessionEnded (if due) has been called. */
  readonly done: Promise<void>;
  private resolveEnded!: () => void;
  private resolveStartSettled!: () => void;

  constructor(socket: net.Socket, private readonly deps: SessionDeps) {
    this.client = socket;
    this.clientAddress = socket.remoteAddress ?? 'unknown';
    const ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));
    const startSettled = new Promise<void>((resolve) => (this.resolveStartSettled = resolve));
    this.done = Promise.all([ended, startSettled]).then(() => undefined);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }

  get grantId(): string | undefined {
    return this.live?.grant.grantId;
  }

  summary(): SessionSummary | null {
    const live = this.live;
    if (!live) return null;
    return {
      sessionId: live.sessionId,
      grantId: live.grant.grantId,
      user: live.user,
      resource: live.grant.resource,
      role: live.grant.role,
      clientAddress: this.clientAddress,
      applicationName: live.applicationName,
      startedAt: live.startedAt,
      statements: this.statements,
      refused: this.refused,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }

  async run(): Promise<void> {
    try {
      await this.start();
    } catch (err) {
      // A failure of our own (e.g. the control plane is unreachable) must not leak its text to the client.
      const e = err instanceof PgGatewayError ? err : new PgGatewayError('internal', 'airlock: the gateway could not open this session; try again shortly');
      const reason: SessionEndReason = e.code.startsWith('upstream') ? 'upstream' : e.code === 'protocol_violation' || e.code === 'message_too_large' ? 'violation' : 'error';
      this.fail(reason, e);
    }
    this.resolveStartSettled();
  }

  private armExpiry(grant: GatewayGrant): void {
    this.stopExpiryTimer?.();
    this.stopExpiryTimer = this.deps.clock.at(grant.expiresAt, () => this.cut('expired', expiredMessage(grant.resource, grant.expiresAt)));
  }

  /** The grant now ends later (an approved extension): the session's own timer follows. */
  extendTo(expiresAt: Date): void {
    const live = this.live;
    if (!live || this.ending || expiresAt <= live.grant.expiresAt) return;
    live.grant = { ...live.grant, expiresAt };
    this.armExpiry(live.grant);
  }

  private async start(): Promise<void> {
    const startupTimer = setTimeout(() => this.client.destroy(), this.deps.startupTimeoutMs);
    let started;
    try {
      started = await runClientStartup(this.client, this.clientAddress, this.deps, (s) => (this.client = s));
    } finally {
      clearTimeout(startupTimer);
    }
    if (started.kind === 'cancel') return this.finish();
    if (this.ending) return;
    const { grant } = started;
    const { sessionId } = await this.deps.backend.sessionStarted({ grantId: grant.grantId, clientAddress: this.clientAddress, applicationName: started.applicationName });
    if (this.ending) {
      // Cut while the control plane was recording the start: close the record we just opened.
      await this.deps.backend.sessionEnded({ sessionId, reason: this.endReason, statements: 0, refused: 0, bytesIn: 0, bytesOut: 0 }).catch(() => undefined);
      return;
    }
    this.live = { sessionId, grant, user: started.user, applicationName: started.applicationName, startedAt: this.deps.clock.now() };
    this.deps.register(this);
    // Second line behind onGrantEnded: a connection opened late only ever gets the time left.
    this.armExpiry(grant);

    const { target, scope } = await this.deps.backend.upstreamFor(grant.grantId);
    this.target = target;
    const upstream = await openUpstream(target, {
      resource: grant.resource,
      role: grant.role,
      applicationName: `airlock:${started.user}${started.applicationName ? `:${started.applicationName}` : ''}`,
      readOnly: scopeIsReadOnly(scope),
    });
    this.upstream = upstream;
    upstream.socket.on('error', () => undefined);
    if (this.ending) {
      upstream.socket.destroy();
      return;
    }
    this.beginRelay(started.socket, started.rest, upstream, scope, started);
  }

  private beginRelay(client: net.Socket, rest: Buffer, upstream: UpstreamConnection, scope: SqlScope, greet: { saslFinal: Buffer; negotiate?: Buffer }): void {
    this.cancelKey = this.deps.cancelKeys.issue(() => this.cancelQuery());
    const relay = new QueryRelay({
      upstream: upstream.socket,
      check: new StatementCheck(this.deps.checkSql, scope, upstream, this.deps.checkSqlNow),
      txStatus: upstream.txStatus,
      toClient: (bytes) => this.toClient(bytes),
      record: (outcome) => this.record(outcome),
      holdClient: (why, hold) => this.holdClient(why, hold),
      terminate: () => this.end('client'),
      violation: (err) => this.fail('violation', err),
      auditBackpressure: () => this.holdForAudit(),
    });
    this.relay = relay;

    const greeting = [greet.saslFinal, msg.authenticationOk()];
    if (greet.negotiate) greeting.push(greet.negotiate);
    greeting.push(...upstream.parameterStatus, msg.backendKeyData(this.cancelKey.pid, this.cancelKey.secret), msg.readyForQuery(upstream.txStatus));
    this.toClient(Buffer.concat(greeting));

    upstream.socket.on('data', (chunk: Buffer) => relay.onUpstreamData(chunk));
    upstream.socket.on('close', () => this.upstreamLost());
    if (upstream.rest.length > 0) relay.onUpstreamData(upstream.rest);
    upstream.socket.resume();

    client.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      relay.onClientData(chunk);
    });
    client.on('close', () => this.end('client'));
    client.on('end', () => this.end('client'));
    if (rest.length > 0) {
      this.bytesIn += rest.length;
      relay.onClientData(rest);
    }
    client.resume();
  }

  private toClient(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    if (!this.client.write(bytes) && this.upstream && !this.ending && !this.holds.has('client-full')) {
      // The client reads slower than the upstream answers: stop reading the upstream until it drains.
      this.holds.add('client-full');
      this.upstream.socket.pause();
      this.client.once('drain', () => {
        this.holds.delete('client-full');
        this.upstream?.socket.resume();
      });
    }
  }

  private holdClient(why: 'check' | 'upstream', hold: boolean): void {
    if (hold) this.holds.add(why);
    else this.holds.delete(why);
    if (this.holds.has('check') || this.holds.has('upstream')) this.client.pause();
    else if (!this.ending) this.client.resume();
  }

  /**
   * Audit writes are not awaited on the hot path (the recorder only queues),
   * but stay in order and are all flushed before sessionEnded. A record the
   * audit log cannot take closes the session: fail closed.
   */
  private record(outcome: StatementOutcome): void {
    const live = this.live;
    if (!live) return;
    this.statements++;
    if (outcome.outcome === 'refused') this.refused++;
    const record = { ...outcome, sessionId: live.sessionId };
    let queued: void | Promise<void>;
    try {
      queued = this.deps.backend.statement(record);
    } catch {
      return this.auditFailed();
    }
    if (queued) {
      // A backend that answers with a promise: each record is started at once (so in order); one that fails is retried once, after the records before it have settled.
      const wrote = queued.then(
        () => true,
        () => false,
      );
      this.audit = this.audit
        .then(async () => {
          if (!(await wrote)) await this.deps.backend.statement(record);
        })
        .catch(() => this.auditFailed());
    }
  }

  private auditFailed(): void {
    this.cut('error', 'airlock: the audit log cannot be written, so the session was closed');
  }

  /**
   * The audit log is behind (or has a gap not yet on record): the session's
   * next message waits, but not forever — a session held longer than
   * `auditWaitMs` is closed, so a stuck audit store ends in an error the
   * user can read instead of a hang.
   */
  private holdForAudit(): Promise<void> | undefined {
    const behind = this.deps.backend.auditBackpressure?.();
    if (!behind) return undefined;
    const waitMs = this.deps.auditWaitMs ?? 30_000;
    const stop = this.deps.clock.at(new Date(this.deps.clock.now().getTime() + waitMs), () =>
      this.cut('error', `airlock: the audit log has been unavailable for ${Math.round(waitMs / 1000)} s, so the session was closed`),
    );
    return behind.finally(stop);
  }

  private cancelQuery(): void {
    const up = this.upstream;
    const live = this.live;
    if (up && this.target && live) void cancelUpstream(this.target, up.key, live.grant.resource);
  }

  private upstreamLost(): void {
    if (this.ending) return;
    const resource = this.live?.grant.resource ?? 'the resource';
    this.closeWith('upstream', `the ${resource} upstream closed the connection`, {
      severity: 'FATAL',
      sqlstate: SqlState.ConnectionFailure,
      message: `airlock: the ${resource} upstream closed the connection`,
    });
  }

  /**
   * Ends the session because its grant ended (or the gateway stops): the
   * client is told why in a FATAL error, the upstream query is cancelled and
   * both sockets close, within `cutGraceMs` even mid-query or mid-COPY.
   */
  cut(reason: SessionEndReason, message: string): void {
    if (this.ending) return;
    this.cancelQuery();
    this.closeWith(reason, message, { severity: 'FATAL', sqlstate: SqlState.AdminShutdown, message });
  }

  private fail(reason: SessionEndReason, err: PgGatewayError): void {
    if (this.ending) return;
    this.closeWith(reason, err.message, { severity: 'FATAL', sqlstate: err.sqlstate, message: err.message });
  }

  private closeWith(reason: SessionEndReason, detail: string, error: msg.ErrorFields): void {
    if (this.ending) return;
    this.ending = true;
    this.endReason = reason;
    this.relay?.close();
    this.client.pause();
    const finalWords = () => {
      if (!this.client.destroyed && this.client.writable) {
        this.client.end(msg.errorResponse(error));
        // A client that stops reading must not hold the connection open past the cut.
        const client = this.client;
        setTimeout(() => client.destroy(), 1_000).unref();
      } else {
        this.client.destroy();
      }
      this.closeUpstream();
    };
    // The rest of the message in flight must arrive for the cut to land on a boundary.
    this.upstream?.socket.resume();
    const tracker = this.relay?.tracker;
    if (tracker) {
      const grace = setTimeout(() => {
        this.client.destroy();
        this.closeUpstream();
      }, this.deps.cutGraceMs);
      tracker.stopAtNextBoundary(() => {
        clearTimeout(grace);
        finalWords();
      });
    } else {
      finalWords();
    }
    void this.finishSession(reason, detail);
  }

  private end(reason: SessionEndReason): void {
    if (this.ending) return;
    this.ending = true;
    this.endReason = reason;
    this.relay?.close();
    this.client.end();
    this.closeUpstream();
    void this.finishSession(reason);
  }

  private upstreamClosed(): Promise<void> {
    const socket = this.upstream?.socket;
    if (!socket || socket.closed) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  private closeUpstream(): void {
    const socket = this.upstream?.socket;
    if (!socket || socket.destroyed) return;
    socket.end(msg.TERMINATE);
    // A backend busy with a query reads the Terminate late; the cancel (if any) and this destroy make sure it goes.
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  private async finishSession(reason: SessionEndReason, detail?: string): Promise<void> {
    this.stopExpiryTimer?.();
    if (this.cancelKey) this.deps.cancelKeys.release(this.cancelKey);
    const live = this.live;
    if (live) {
      this.deps.unregister(this);
      // What was forwarded before the end may still be answered (and may have run): wait for the
      // upstream to close (closeUpstream bounds it) so its outcome is recorded, not dropped.
      await this.upstreamClosed();
      this.relay?.tracker.abandon();
      await this.audit;
      await this.deps.backend
        .sessionEnded({ sessionId: live.sessionId, reason, detail, statements: this.statements, refused: this.refused, bytesIn: this.bytesIn, bytesOut: this.bytesOut })
        .catch(() => undefined);
    }
    this.finish();
  }

  private finish(): void {
    this.resolveEnded();
  }
}

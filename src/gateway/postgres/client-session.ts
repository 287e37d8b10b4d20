import type net from 'node:net';
import { GatewayError } from '../kernel/errors.js';
import type { GatewayKernel } from '../kernel/kernel.js';
import type { GatewaySession } from '../kernel/gateway-session.js';
import type { GatewayGrant, SessionEndReason } from '../kernel/port.js';
import { postgresTarget, type SqlScope, type UpstreamTarget } from './backend.js';
import type { CancelKey } from './cancel-keys.js';
import { runClientStartup, type StartupDeps } from './client-startup.js';
import { PgGatewayError } from './errors.js';
import { SqlState, TxStatus } from './protocol/codes.js';
import * as msg from './protocol/messages.js';
import { QueryRelay } from './query-relay.js';
import { StatementCheck, scopeIsReadOnly, type CheckSql, type CheckSqlNow } from './statement-check.js';
import { cancelUpstream, ignoreSocketErrors, terminateUpstream, type UpstreamConnection, type UpstreamOptions } from './upstream.js';
import type { UpstreamPool } from './upstream-pool.js';

/**
 * The Postgres wiring of one client connection: startup and authentication,
 * the upstream connection, the live relay, and the protocol's own words when
 * the session ends. What does not depend on the protocol (the grant, the
 * expiry timer, audit ordering, the one end record) is the kernel's
 * GatewaySession.
 */

export interface SessionDeps extends StartupDeps {
  readonly kernel: GatewayKernel;
  readonly checkSql: CheckSql;
  readonly checkSqlNow?: CheckSqlNow;
  /** The real classifier's literal shapes (statement-check.ts `shapeOf`); absent with an injected classifier. */
  readonly sqlShape?: (sql: string) => string | null;
  readonly startupTimeoutMs: number;
  /** How long a cut waits for the upstream to finish the message in flight before dropping it mid-message. */
  readonly cutGraceMs: number;
  /** Warm upstream connections: a session takes one, and gives it back if it ends cleanly. */
  readonly pool: UpstreamPool;
}

/** How long a cut client has to read what was queued before the final error, after which its socket is destroyed. */
const FINAL_WORDS_MS = 5_000;

export class ClientSession {
  private client: net.Socket;
  private readonly session: GatewaySession;
  private upstream: UpstreamConnection | null = null;
  private target: UpstreamTarget | null = null;
  private relay: QueryRelay | null = null;
  private cancelKey: CancelKey | null = null;
  /** Why the client's socket is not read: a check pending, the upstream saturated, or the client not reading its answers. */
  private readonly holds = new Set<'check' | 'upstream' | 'output'>();
  private clientFull = false;
  private maxStatementBytes: number | undefined;
  private upstreamOptions: UpstreamOptions | null = null;
  /** Set by a cut: the upstream backend is terminated, so nothing the client pipelined runs on after it. */
  private terminateUpstream = false;
  /** The upstream connection going back to the pool (reset first): settled once it is out of this session's hands. */
  private released: Promise<void> | null = null;
  private readonly upstreamListeners = {
    data: (chunk: Buffer) => this.relay?.onUpstreamData(chunk),
    close: () => this.upstreamLost(),
  };
  /** Resolves once the connection is closed and its end (if due) recorded. */
  readonly done: Promise<void>;
  /** Resolves once sign-in is over, whichever way it went (the listener counts connections still signing in). */
  readonly signedIn: Promise<void>;
  private signInOver!: () => void;

  constructor(socket: net.Socket, private readonly deps: SessionDeps) {
    this.client = socket;
    this.session = deps.kernel.session({ cut: (_reason, message) => this.cutWire(message), settled: () => this.settled() }, socket.remoteAddress ?? 'unknown');
    this.done = this.session.done.then(() => {
      if (this.cancelKey) this.deps.cancelKeys.release(this.cancelKey);
    });
    this.signedIn = new Promise((resolve) => (this.signInOver = resolve));
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }

  async run(): Promise<void> {
    try {
      await this.start();
    } catch (err) {
      // A failure of our own (e.g. the control plane is unreachable) must not leak its text to the client.
      const e =
        err instanceof PgGatewayError
          ? err
          : err instanceof GatewayError && (err.code === 'auth_failed' || err.code === 'store_unavailable')
            ? new PgGatewayError(err.code, err.message)
            : new PgGatewayError('internal', 'airlock: the gateway could not open this session; try again shortly');
      const reason: SessionEndReason = e.code.startsWith('upstream') ? 'upstream' : e.code === 'protocol_violation' || e.code === 'message_too_large' ? 'violation' : 'error';
      this.fail(reason, e);
    }
    this.signInOver();
  }

  private async start(): Promise<void> {
    const startupTimer = setTimeout(() => this.client.destroy(), this.deps.startupTimeoutMs);
    let started;
    try {
      started = await runClientStartup(this.client, this.session.clientAddress, this.deps, (s) => (this.client = s));
    } finally {
      clearTimeout(startupTimer);
      this.signInOver();
    }
    if (started.kind === 'cancel') {
      this.session.end('client');
      return;
    }
    if (this.session.isEnding) return;
    const { grant } = started;
    // Recording the session's start (a store commit) and readying its upstream connection (a round trip) wait on
    // different things, so they run at once; nothing reaches the client or the upstream before both are done.
    const begun = this.session.begin(grant, started.applicationName);
    const acquired = this.acquireUpstream(grant, started.user, started.applicationName);
    // Its failure is thrown below once the start is settled; until then it must not count as unhandled.
    acquired.catch(() => undefined);
    let live: boolean;
    try {
      live = await begun;
    } catch (err) {
      this.giveBack(acquired);
      throw err;
    }
    if (!live) return this.giveBack(acquired);
    const { upstream, scope } = await acquired;
    this.upstream = upstream;
    ignoreSocketErrors(upstream.socket);
    if (this.session.isEnding) {
      upstream.socket.destroy();
      return;
    }
    this.beginRelay(started.socket, started.rest, upstream, scope, started);
  }

  private async acquireUpstream(grant: GatewayGrant, user: string, applicationName: string | undefined): Promise<{ upstream: UpstreamConnection; scope: SqlScope }> {
    const access = await this.deps.backend.access(grant.grantId);
    const { target, scope, limits } = postgresTarget(access);
    this.maxStatementBytes = limits.maxStatementBytes;
    this.target = target;
    this.upstreamOptions = {
      resource: grant.resource,
      role: grant.role,
      applicationName: `airlock:${user}${applicationName ? `:${applicationName}` : ''}`,
      readOnly: scopeIsReadOnly(scope),
      statementTimeoutSeconds: limits.statementTimeoutSeconds,
      idleInTransactionTimeoutSeconds: limits.idleInTransactionTimeoutSeconds,
    };
    const upstream = await this.deps.pool.acquire(target, this.upstreamOptions).catch((err: unknown) => {
      if (err instanceof PgGatewayError && err.code.startsWith('upstream') && err.upstreamDetail) {
        void this.deps.backend
          .upstreamFailed?.({ grantId: grant.grantId, resource: grant.resource, role: grant.role, login: target.user, detail: err.upstreamDetail })
          .catch(() => undefined);
      }
      throw err;
    });
    return { upstream, scope };
  }

  /** The session never went live: a connection readied for it goes back to the pool unused. */
  private giveBack(acquired: Promise<{ upstream: UpstreamConnection }>): void {
    void acquired.then(
      ({ upstream }) => this.deps.pool.release(upstream, this.target!, this.upstreamOptions!),
      () => undefined,
    );
  }

  private beginRelay(client: net.Socket, rest: Buffer, upstream: UpstreamConnection, scope: SqlScope, greet: { saslFinal: Buffer; negotiate?: Buffer }): void {
    this.cancelKey = this.deps.cancelKeys.issue(() => this.cancelQuery());
    const session = this.session;
    const relay = new QueryRelay({
      upstream: upstream.socket,
      check: new StatementCheck(this.deps.checkSql, scope, upstream, this.deps.checkSqlNow, {
        maxStatementBytes: this.maxStatementBytes,
        shapeOf: this.deps.sqlShape,
      }),
      txStatus: upstream.txStatus,
      toClient: (bytes) => this.toClient(bytes),
      record: (outcome) => session.record(outcome, outcome.intent),
      intend: (text) => session.intend(text, true),
      intentsOut: () => session.intentsOut(),
      holdClient: (why, hold) => this.holdClient(why, hold),
      clientFull: () => this.clientFull,
      terminate: () => this.end('client'),
      violation: (err) => this.fail('violation', err),
      auditBackpressure: () => session.holdForAudit(),
    });
    this.relay = relay;

    const greeting = [greet.saslFinal, msg.authenticationOk()];
    if (greet.negotiate) greeting.push(greet.negotiate);
    greeting.push(...upstream.parameterStatus, msg.backendKeyData(this.cancelKey.pid, this.cancelKey.secret), msg.readyForQuery(upstream.txStatus));
    this.toClient(Buffer.concat(greeting));

    upstream.socket.on('data', this.upstreamListeners.data);
    upstream.socket.on('close', this.upstreamListeners.close);
    if (upstream.rest.length > 0) relay.onUpstreamData(upstream.rest);
    upstream.socket.resume();

    client.on('data', (chunk: Buffer) => {
      session.countIn(chunk.length);
      relay.onClientData(chunk);
    });
    client.on('close', () => this.end('client'));
    client.on('end', () => this.end('client'));
    if (rest.length > 0) {
      session.countIn(rest.length);
      relay.onClientData(rest);
    }
    client.resume();
  }

  /**
   * A client that does not read what it is sent holds the session: the
   * upstream is not read (its answers stay in PostgreSQL and the kernel) and
   * the client's own messages wait unread, so neither direction queues more
   * than a socket buffer in the gateway. Both resume once the client drains.
   */
  private toClient(bytes: Buffer): void {
    this.session.countOut(bytes.length);
    if (!this.client.write(bytes) && !this.clientFull && !this.session.isEnding) {
      this.clientFull = true;
      this.upstream?.socket.pause();
      this.client.once('drain', () => {
        this.clientFull = false;
        if (this.session.isEnding) return;
        this.upstream?.socket.resume();
        this.relay?.resume();
      });
    }
  }

  private holdClient(why: 'check' | 'upstream' | 'output', hold: boolean): void {
    if (hold) this.holds.add(why);
    else this.holds.delete(why);
    if (this.holds.size > 0) this.client.pause();
    else if (!this.session.isEnding) this.client.resume();
  }

  private cancelQuery(): void {
    const up = this.upstream;
    const grant = this.session.grant;
    if (up && this.target && grant) void cancelUpstream(this.target, up.key, grant.resource);
  }

  private upstreamLost(): void {
    const resource = this.session.grant?.resource ?? 'the resource';
    const message = `airlock: the ${resource} upstream closed the connection`;
    if (!this.session.end('upstream', message.slice('airlock: '.length))) return;
    this.closeWire({ severity: 'FATAL', sqlstate: SqlState.ConnectionFailure, message });
  }

  /**
   * The kernel ends the session (its grant ended, the audit failed, the
   * gateway stops): the client is told why in a FATAL error, the upstream
   * query is cancelled and both sockets close, within `cutGraceMs` even
   * mid-query or mid-COPY.
   */
  private cutWire(message: string): void {
    this.cancelQuery();
    this.terminateUpstream = true;
    this.closeWire({ severity: 'FATAL', sqlstate: SqlState.AdminShutdown, message });
  }

  private fail(reason: SessionEndReason, err: PgGatewayError): void {
    if (!this.session.end(reason, err.message)) return;
    this.closeWire({ severity: 'FATAL', sqlstate: err.sqlstate, message: err.message });
  }

  private closeWire(error: msg.ErrorFields): void {
    this.relay?.close();
    this.client.pause();
    const finalWords = () => {
      if (!this.client.destroyed && this.client.writable) {
        this.client.end(msg.errorResponse(error));
        // A client that stops reading must not hold the connection open past the cut; one still reading what was
        // queued before the cut (a large COPY, a slow link) gets a few seconds to reach the reason at its end.
        const client = this.client;
        setTimeout(() => client.destroy(), FINAL_WORDS_MS).unref();
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
  }

  private end(reason: SessionEndReason): void {
    if (!this.session.end(reason)) return;
    this.relay?.close();
    this.client.end();
    if (reason === 'client' && this.upstreamReusable()) this.releaseUpstream();
    else this.closeUpstream();
  }

  /**
   * The client left on its own, between statements, outside a transaction,
   * with nothing forwarded still unanswered: the upstream connection holds
   * nothing of this session that `DISCARD ALL` does not clear.
   */
  private upstreamReusable(): boolean {
    const up = this.upstream;
    const tracker = this.relay?.tracker;
    return !!up && !!tracker && !this.terminateUpstream && !up.socket.destroyed && tracker.quiet() && tracker.txStatus === TxStatus.Idle;
  }

  private releaseUpstream(): void {
    const up = this.upstream!;
    // From here no cancel or terminate of this session can reach the connection another session may get.
    this.upstream = null;
    up.socket.off('data', this.upstreamListeners.data);
    up.socket.off('close', this.upstreamListeners.close);
    this.released = this.deps.pool.release(up, this.target!, this.upstreamOptions!);
  }

  /** What was forwarded may still be answered (and may have run): wait for the upstream to close (closeUpstream bounds it), then give up the rest. */
  private async settled(): Promise<void> {
    if (this.released) await this.released;
    const socket = this.upstream?.socket;
    if (socket && !socket.closed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.relay?.tracker.abandon();
  }

  private closeUpstream(): void {
    const socket = this.upstream?.socket;
    if (!socket || socket.destroyed) return;
    if (this.terminateUpstream && this.target && this.upstreamOptions && this.upstream) {
      this.terminateUpstream = false;
      void terminateUpstream(this.target, this.upstream.key.pid, this.upstreamOptions);
    }
    socket.end(msg.TERMINATE);
    // A backend busy with a query reads the Terminate late; the cancel (if any) and this destroy make sure it goes.
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  summary() {
    return this.session.summary();
  }
}

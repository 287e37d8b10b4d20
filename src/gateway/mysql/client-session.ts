import type net from 'node:net';
import type { AuthThrottle } from '../../core/auth-throttle.js';
import { holdFailure } from '../kernel/hold-failure.js';
import type { GatewayKernel } from '../kernel/kernel.js';
import type { GatewaySession } from '../kernel/gateway-session.js';
import type { ControlPlanePort, SessionEndReason } from '../kernel/port.js';
import { AuthFailure, runClientLogin, safeCollation, type ClientLoginDeps, type MysqlGrant } from './client-login.js';
import { CommandRelay } from './command-relay.js';
import { MysqlGatewayError } from './errors.js';
import { GatewayError } from '../kernel/errors.js';
import { encodePacket } from './protocol/framer.js';
import { encodeErr, encodeOk, errorPacket } from './protocol/messages.js';
import { ErrorCode, ServerStatus } from './protocol/codes.js';
import type { MysqlDecision } from './sql/check.js';
import { VIEWS_QUERY, viewCatalog, type ViewCatalog } from './sql/views.js';
import { scopeIsReadOnly, type SqlScope } from './sql/scope.js';
import type { PacketChannel } from './protocol/packet-channel.js';
import { mysqlTarget, sessionPinning } from './upstream-target.js';
import { killQuery } from './kill-query.js';
import { loginUpstream, type MysqlUpstreamTarget, type UpstreamConnection } from './upstream-login.js';
import { upstreamQuery } from './upstream-query.js';

/**
 * The MySQL wiring of one client connection: handshake and authentication,
 * the upstream login and session pinning, the live relay, and the
 * protocol's own words when the session ends. What does not depend on the
 * protocol (the grant, the expiry timer, audit ordering, the end record) is
 * the kernel's GatewaySession.
 */

export interface SessionDeps {
  readonly kernel: GatewayKernel;
  readonly port: ControlPlanePort;
  readonly login: Omit<ClientLoginDeps, 'activeGrants' | 'connectionId'>;
  /** The grants of a user on a resource, with their MySQL verifiers. */
  activeGrants(user: string, resource: string): Promise<MysqlGrant[]>;
  decide(text: string, scope: SqlScope, database: string, views: ViewCatalog): MysqlDecision;
  /** What the upstream's views read, per upstream login (cached briefly: a burst of sessions reads it once). */
  views(target: MysqlUpstreamTarget, read: () => Promise<ViewCatalog>): Promise<ViewCatalog>;
  nextConnectionId(): number;
  readonly startupTimeoutMs: number;
  /** Failed sign-ins per (address, user): each further failure is answered later; a right secret never waits. */
  readonly throttle: AuthThrottle;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ClientSession {
  private client: net.Socket;
  private readonly session: GatewaySession;
  private upstream: UpstreamConnection | null = null;
  private target: MysqlUpstreamTarget | null = null;
  private relay: CommandRelay | null = null;
  private charset = 'utf8mb4';
  private clientFull = false;
  /** The handshake's channel: its sequence id is what an error packet during sign-in carries. */
  private loginChannel: PacketChannel | null = null;

  constructor(
    socket: net.Socket,
    private readonly deps: SessionDeps,
  ) {
    this.client = socket;
    this.session = deps.kernel.session({ cut: (_reason, message) => this.cutWire(message), settled: () => this.settled() }, socket.remoteAddress ?? 'unknown');
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }

  get done(): Promise<void> {
    return this.session.done;
  }

  // Declared first: a field declared after the promise would be defined (as undefined) after its executor ran.
  private signInOver!: () => void;
  /** Resolves once sign-in is over, whichever way it went (the listener counts connections still signing in). */
  readonly signedIn = new Promise<void>((resolve) => (this.signInOver = resolve));

  async run(): Promise<void> {
    try {
      await this.start();
    } catch (err) {
      if (err instanceof AuthFailure) {
        void this.deps.port.authFailed(err.user, err.resource, this.session.clientAddress, err.why).catch(() => undefined);
      }
      // A failure of our own (e.g. the control plane is unreachable) must not leak its text to the client.
      const e =
        err instanceof MysqlGatewayError
          ? err
          : err instanceof GatewayError && err.code === 'store_unavailable'
            ? new MysqlGatewayError('store_unavailable', err.message)
            : new MysqlGatewayError('internal', 'airlock: the gateway could not open this session; try again shortly');
      const reason: SessionEndReason = e.code.startsWith('upstream') ? 'upstream' : e.code === 'protocol_violation' || e.code === 'packet_too_large' ? 'violation' : 'error';
      this.fail(reason, e, this.loginChannel?.seq ?? 0);
    }
    this.signInOver();
  }

  private async start(): Promise<void> {
    const timer = setTimeout(() => this.client.destroy(), this.deps.startupTimeoutMs);
    let login;
    try {
      login = await runClientLogin(
        this.client,
        { ...this.deps.login, activeGrants: (u, r) => this.deps.activeGrants(u, r), connectionId: this.deps.nextConnectionId() },
        (s) => (this.client = s),
        (c) => (this.loginChannel = c),
      );
    } catch (err) {
      // The secret was checked first: only a failure waits, inside the sign-in window (it counts as signing in).
      if (err instanceof AuthFailure) await this.throttleFailure(err);
      throw err;
    } finally {
      clearTimeout(timer);
      this.signInOver();
    }
    if (this.session.isEnding) return;
    const { grant } = login;
    this.charset = safeCollation(login.collation).charset;
    if (!(await this.session.begin(grant, login.attributes.get('program_name') ?? login.attributes.get('_client_name')))) return;
    const access = await this.deps.port.access(grant.grantId);
    const { target, scope, limits } = mysqlTarget(access);
    this.target = target;
    const upstream = await loginUpstream(target, { clientCapabilities: login.capabilities, collation: login.collation, maxPayload: this.deps.login.maxPayload }).catch((err: unknown) => {
      if (err instanceof MysqlGatewayError && err.code.startsWith('upstream')) {
        void this.deps.port
          .upstreamFailed?.({ grantId: grant.grantId, resource: grant.resource, role: grant.role, login: target.user, detail: err.message })
          .catch(() => undefined);
        throw new MysqlGatewayError(err.code, `airlock: could not log in to the ${grant.resource} upstream; the gateway's operators have the details`);
      }
      throw err;
    });
    this.upstream = upstream;
    upstream.socket.on('error', () => undefined);
    const pinning = () => sessionPinning(this.charset, scopeIsReadOnly(scope), limits, upstream.serverVersion);
    for (const sql of pinning()) await upstreamQuery(upstream.channel, upstream.capabilities, sql);
    const views = await this.deps.views(target, async () => {
      const rows = (await upstreamQuery(upstream.channel, upstream.capabilities, VIEWS_QUERY)).rows;
      return viewCatalog(rows.map(([database, name, definition]) => ({ database: database ?? '', name: name ?? '', definition: definition ?? null })));
    });
    if (this.session.isEnding) {
      upstream.socket.destroy();
      return;
    }
    upstream.channel.detach();
    login.channel.detach();
    const session = this.session;
    const relay = new CommandRelay({
      upstream: upstream.socket,
      capabilities: upstream.capabilities,
      maxPayload: this.deps.login.maxPayload,
      database: target.database,
      maxStatementBytes: limits.maxStatementBytes,
      decide: (text) => this.deps.decide(text, scope, target.database, views),
      toClient: (bytes) => this.toClient(bytes),
      intend: (text) => session.intend(text),
      record: (outcome, intent) => session.record(outcome, intent),
      holdForAudit: () => session.holdForAudit(),
      pinning,
      charsetChanged: (charset) => (this.charset = charset),
      decodeText: (bytes) => this.decodeText(bytes),
      quit: () => this.end('client'),
      holdClient: (hold) => (hold ? this.client.pause() : this.session.isEnding || this.client.resume()),
      violation: (err) => this.fail(err.code.startsWith('upstream') ? 'upstream' : 'violation', err, this.relay?.nextClientSeq || 1),
    });
    this.relay = relay;
    this.toClient(encodePacket(encodeOk({ status: ServerStatus.Autocommit }), login.channel.seq).bytes);
    upstream.socket.on('data', (chunk: Buffer) => relay.onUpstreamData(chunk));
    upstream.socket.on('close', () => this.upstreamLost());
    upstream.socket.resume();
    const client = login.socket;
    client.on('data', (chunk: Buffer) => {
      session.countIn(chunk.length);
      relay.onClientData(chunk);
    });
    client.on('close', () => this.end('client'));
    client.on('end', () => this.end('client'));
    client.resume();
  }

  private async throttleFailure(err: AuthFailure): Promise<void> {
    const { throttle, port } = this.deps;
    const address = this.session.clientAddress;
    if (throttle.failed(address, err.user)) {
      const why = 'slowed: too many failures from this address; each further failure is answered after a growing delay';
      void port.authFailed(err.user, err.resource, address, why).catch(() => undefined);
    }
    await holdFailure(this.client, throttle.failureDelayMs(address, err.user));
  }

  /** Text in the connection's character set; null when the bytes are not valid in it (refused, never guessed). */
  private decodeText(bytes: Buffer): string | null {
    if (this.charset === 'latin1' || this.charset === 'ascii' || this.charset === 'binary') return bytes.toString('latin1');
    try {
      return utf8.decode(bytes);
    } catch {
      return null;
    }
  }

  private toClient(bytes: Buffer): void {
    this.session.countOut(bytes.length);
    if (!this.client.write(bytes) && this.upstream && !this.clientFull) {
      // The client reads slower than the upstream answers: stop reading the upstream until it drains.
      this.clientFull = true;
      this.upstream.socket.pause();
      this.client.once('drain', () => {
        this.clientFull = false;
        this.upstream?.socket.resume();
      });
    }
  }

  private upstreamLost(): void {
    const resource = this.session.grant?.resource ?? 'the resource';
    const message = `airlock: the ${resource} upstream closed the connection`;
    if (!this.session.end('upstream', message.slice('airlock: '.length))) return;
    this.closeWire(errorPacket('ServerShutdown', message), this.relay?.nextClientSeq || 1);
  }

  /**
   * The kernel ends the session (its grant ended, the audit failed, the
   * gateway stops): the upstream's running query is killed on a side
   * connection, the client is told why in an error packet, and both sockets close.
   */
  private cutWire(message: string): void {
    this.killRunningQuery();
    const relay = this.relay;
    const packet = encodeErr({ ...ErrorCode.ConnectionKilled, message });
    // Mid-packet, an error packet would corrupt the stream: the client then only sees the connection close.
    if (relay && !relay.atBoundary) return this.closeWire(null, 1);
    this.closeWire(packet, relay?.nextClientSeq ?? 1);
  }

  private killRunningQuery(): void {
    const up = this.upstream;
    if (up && this.target) void killQuery(this.target, up.threadId).catch(() => undefined);
  }

  private fail(reason: SessionEndReason, err: MysqlGatewayError, seq: number): void {
    if (!this.session.end(reason, err.message)) return;
    this.closeWire(encodeErr({ code: err.errno, sqlstate: err.sqlstate, message: err.message }), seq);
  }

  private closeWire(errorPayload: Buffer | null, seq: number): void {
    this.relay?.close();
    this.client.pause();
    if (errorPayload && !this.client.destroyed && this.client.writable) {
      this.client.end(encodePacket(errorPayload, seq).bytes);
      const client = this.client;
      setTimeout(() => client.destroy(), 1_000).unref();
    } else {
      this.client.destroy();
    }
    this.closeUpstream();
  }

  private end(reason: SessionEndReason): void {
    if (!this.session.end(reason)) return;
    this.relay?.close();
    this.client.end();
    this.closeUpstream();
  }

  /** What was forwarded may still be answered: wait for the upstream to close, then record what never was. */
  private async settled(): Promise<void> {
    const socket = this.upstream?.socket;
    if (socket && !socket.closed) await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.relay?.abandon();
  }

  private closeUpstream(): void {
    const socket = this.upstream?.socket;
    if (!socket || socket.destroyed) return;
    // COM_QUIT, then the socket goes: a busy server reads it late, the KILL QUERY (if any) and this destroy make sure.
    socket.end(encodePacket(Buffer.from([0x01]), 0).bytes);
    setTimeout(() => socket.destroy(), 1_000).unref();
  }
}

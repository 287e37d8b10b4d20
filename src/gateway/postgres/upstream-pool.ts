import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { UpstreamTarget } from './backend.js';
import { PgGatewayError } from './errors.js';
import { Backend, Limits, TxStatus } from './protocol/codes.js';
import * as msg from './protocol/messages.js';
import { FrameReader } from './protocol/reader.js';
import { SocketPuller } from './protocol/socket-puller.js';
import { ignoreSocketErrors, noteParameterStatus, openUpstream, reuseUpstream, type UpstreamConnection, type UpstreamOptions } from './upstream.js';

/**
 * Warm upstream connections per role credential. Signing in upstream (TCP,
 * SCRAM with its PBKDF2, the backend's own start) is most of what a new
 * session costs; a connection a session ended cleanly is kept for the next
 * session of the same login with the same pinned settings.
 *
 * What keeps users apart:
 * - a connection serves one session at a time; only idle ones are here;
 * - it comes back only from a session that ended by the client's own
 *   Terminate or close, outside any transaction, with nothing owed by the
 *   upstream; a session that was cut, refused for a violation, lost its
 *   upstream or ended mid-statement closes (and a cut terminates) it;
 * - `DISCARD ALL` runs before it is kept: prepared statements, portals and
 *   cursors, temporary tables, session SETs (back to the values the
 *   connection signed in with, which are the role's pinned settings),
 *   `SET ROLE`/`SESSION AUTHORIZATION`, advisory locks, LISTEN and cached
 *   plans go; anything but a clean `DISCARD ALL` answer closes it;
 * - the next session re-reads the search path and catalog facts, and sets
 *   its own application_name (sign-in used the role's);
 * - an idle connection that says anything, or closes, is dropped, and none
 *   stays longer than `idleMs`.
 */

export interface UpstreamPoolOptions {
  /** Idle connections kept per login and settings (default 4). */
  readonly maxIdlePerKey?: number;
  /** Idle connections kept in all (default 64). */
  readonly maxIdle?: number;
  /** How long an idle connection is kept (default 60 s). */
  readonly idleMs?: number;
  /** How long `DISCARD ALL` may take before the connection is closed instead (default 2 s). */
  readonly resetTimeoutMs?: number;
  /**
   * How long a warm connection may take to get ready for a session before a
   * new one is opened instead (default 2 s). A server that went away without
   * closing (a dropped link, a frozen host) never answers: without this the
   * session would wait the whole sign-in deadline for each idle connection.
   */
  readonly reuseTimeoutMs?: number;
}

interface Idle {
  readonly conn: Pick<UpstreamConnection, 'socket' | 'parameterStatus' | 'key'>;
  readonly timer: NodeJS.Timeout;
  readonly drop: () => void;
}

export class UpstreamPool {
  private readonly idle = new Map<string, Idle[]>();
  private count = 0;
  private closed = false;
  private readonly maxIdlePerKey: number;
  private readonly maxIdle: number;
  private readonly idleMs: number;
  private readonly resetTimeoutMs: number;
  private readonly reuseTimeoutMs: number;
  /** Sessions served by a warm connection (metrics, tests). */
  reused = 0;

  constructor(opts: UpstreamPoolOptions = {}) {
    this.maxIdlePerKey = opts.maxIdlePerKey ?? 4;
    this.maxIdle = opts.maxIdle ?? 64;
    this.idleMs = opts.idleMs ?? 60_000;
    this.resetTimeoutMs = opts.resetTimeoutMs ?? 2_000;
    this.reuseTimeoutMs = opts.reuseTimeoutMs ?? 2_000;
  }

  /** A warm connection readied for this session, or a new one. */
  async acquire(target: UpstreamTarget, opts: UpstreamOptions): Promise<UpstreamConnection> {
    const list = this.idle.get(poolKey(target, opts));
    const warm = { ...opts, timeoutMs: Math.min(opts.timeoutMs ?? Infinity, this.reuseTimeoutMs) };
    for (let entry = list?.pop(); entry; entry = list?.pop()) {
      this.forget(entry);
      try {
        const conn = await reuseUpstream(entry.conn, target, warm);
        this.reused++;
        return conn;
      } catch {
        // Closed while idle, the upstream restarted, or no answer: the others share its server and link, and
        // trying each in turn would multiply the stall. Sign in anew.
        entry.conn.socket.destroy();
        for (const other of list?.splice(0) ?? []) {
          this.forget(other);
          other.conn.socket.destroy();
        }
      }
    }
    return openUpstream(target, opts);
  }

  /**
   * Takes back a connection whose session ended cleanly (the caller has
   * removed its own listeners). It is reset before it is kept; when that
   * fails, or there is no room, it is closed.
   */
  async release(conn: UpstreamConnection, target: UpstreamTarget, opts: UpstreamOptions): Promise<void> {
    const socket = conn.socket;
    const parameterStatus = [...conn.parameterStatus];
    const ok = !this.closed && !socket.destroyed && (await this.reset(socket, parameterStatus).catch(() => false));
    const key = poolKey(target, opts);
    const list = this.idle.get(key) ?? [];
    if (!ok || this.closed || list.length >= this.maxIdlePerKey || this.count >= this.maxIdle) {
      closeConnection(socket);
      return;
    }
    const drop = () => {
      const at = list.indexOf(entry);
      if (at >= 0) {
        list.splice(at, 1);
        this.forget(entry);
      }
      closeConnection(socket);
    };
    const entry: Idle = { conn: { socket, parameterStatus, key: conn.key }, timer: setTimeout(drop, this.idleMs).unref(), drop };
    // An idle backend has nothing to say: a NOTICE, a FATAL (terminated, shut down) or a close all mean it is not clean.
    socket.once('data', drop);
    socket.once('close', drop);
    ignoreSocketErrors(socket);
    socket.resume();
    list.push(entry);
    this.idle.set(key, list);
    this.count++;
  }

  /** Idle connections (tests, metrics). */
  size(): number {
    return this.count;
  }

  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const entry of [...list]) entry.drop();
    this.idle.clear();
  }

  private forget(entry: Idle): void {
    clearTimeout(entry.timer);
    entry.conn.socket.off('data', entry.drop);
    entry.conn.socket.off('close', entry.drop);
    entry.conn.socket.pause();
    this.count--;
  }

  /** `DISCARD ALL`, answered with exactly its completion and an idle ReadyForQuery. */
  private async reset(socket: net.Socket, parameterStatus: Buffer[]): Promise<boolean> {
    const puller = new SocketPuller(socket, new FrameReader({ typed: true, maxLength: Limits.messageBytes }), (why) => new PgGatewayError('upstream_unreachable', why));
    const timer = setTimeout(() => socket.destroy(), this.resetTimeoutMs);
    try {
      socket.resume();
      socket.write(msg.query('DISCARD ALL'));
      let completed = false;
      for (;;) {
        const frame = await puller.next();
        if (frame.type === Backend.ParameterStatus) noteParameterStatus(parameterStatus, frame.raw);
        else if (frame.type === Backend.CommandComplete) completed = frame.body.toString('utf8', 0, frame.body.length - 1) === 'DISCARD ALL';
        else if (frame.type === Backend.ReadyForQuery) return completed && frame.body[0] === TxStatus.Idle && puller.detach().length === 0;
        else if (frame.type !== Backend.NoticeResponse) return false;
      }
    } finally {
      clearTimeout(timer);
      puller.detach();
    }
  }
}

/** One login with one set of pinned settings: only a connection signed in exactly so may serve the session. */
function poolKey(target: UpstreamTarget, opts: UpstreamOptions): string {
  const secret = createHash('sha256').update(target.password ?? '').digest('base64');
  return JSON.stringify([
    target.host,
    target.port,
    target.database,
    target.user,
    secret,
    target.tls || null,
    opts.resource,
    opts.role,
    opts.readOnly,
    opts.statementTimeoutSeconds ?? null,
    opts.idleInTransactionTimeoutSeconds ?? null,
  ]);
}

function closeConnection(socket: net.Socket): void {
  if (socket.destroyed) return;
  socket.end(msg.TERMINATE);
  setTimeout(() => socket.destroy(), 1_000).unref();
}

import type { Duplex } from 'node:stream';

/**
 * Every client connection an HTTP session has open, so that one call cuts
 * them all (revoke, expiry). A plain connection is destroyed; a WebSocket gets
 * a close frame (1008, policy) with the reason first; a response not started
 * yet is answered with the reason instead of being dropped.
 */

export interface TrackedConnection {
  readonly socket: Duplex;
  /**
   * Called on cut: answers a request not yet answered, sends a close frame…
   * Returns how long the socket may stay open to deliver those last words
   * (it is destroyed then if still open), or false to destroy it at once.
   */
  onCut?: (message: string) => number | false;
}

export class HttpSession {
  private readonly connections = new Set<TrackedConnection>();
  private cutMessage: string | null = null;
  private seq = 0;

  constructor(
    readonly id: string,
    readonly resource: string,
    readonly role: string,
  ) {}

  get ended(): boolean {
    return this.cutMessage !== null;
  }

  get endMessage(): string | null {
    return this.cutMessage;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Tracks a connection until it closes; a connection added after the cut is cut at once. */
  track(connection: TrackedConnection): void {
    if (this.connections.has(connection)) return;
    if (this.cutMessage !== null) {
      cutOne(connection, this.cutMessage);
      return;
    }
    this.connections.add(connection);
    connection.socket.once('close', () => this.connections.delete(connection));
  }

  untrack(connection: TrackedConnection): void {
    this.connections.delete(connection);
  }

  /** Ends the session: every connection is closed now; later requests are refused with `message`. */
  cut(message: string): void {
    if (this.cutMessage === null) this.cutMessage = message;
    for (const c of [...this.connections]) cutOne(c, message);
    this.connections.clear();
  }
}

/** How long a socket ended with a last word may take to flush it before it is destroyed. */
export const GRACE_MS = 50;

/**
 * How long an idle connection of an ended session stays open: a request the
 * client sent as the grant ended is answered with the reason (it is never
 * forwarded) instead of meeting a reset.
 */
export const IDLE_GRACE_MS = 1000;

function cutOne(connection: TrackedConnection, message: string): void {
  let graceMs: number | false = false;
  try {
    graceMs = connection.onCut?.(message) ?? false;
  } finally {
    if (graceMs === false) connection.socket.destroy();
    else setTimeout(() => connection.socket.destroy(), graceMs).unref();
  }
}

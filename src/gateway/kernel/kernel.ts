import type { Clock } from '../../core/clock.js';
import type { AuditText } from './audit-text.js';
import { GatewaySession, type SessionSummary, type SessionWire } from './gateway-session.js';
import type { ControlPlanePort } from './port.js';
import { SessionRegistry } from './session-registry.js';

/**
 * The protocol-neutral half of a gateway (DESIGN.md "Data plane"): the
 * registry that cuts sessions when their grant ends, each session's expiry
 * timer and audit ordering, and end records that reach the store even when
 * it was unwritable at the moment the session ended. An adapter (Postgres,
 * MySQL, HTTP) creates one kernel and asks it for a GatewaySession per
 * connection; see gateway-session.ts for what it tells the kernel.
 */

export interface KernelOptions {
  readonly port: ControlPlanePort;
  readonly clock: Clock;
  /** What the audit keeps of a statement's text (see audit-text.ts). */
  readonly auditText: AuditText;
  /** How long a session may be held while the audit log is behind before it is closed (default 30 s). */
  readonly auditWaitMs?: number;
  /** How often an end record the store refused is tried again (default 1 s). */
  readonly endRetryMs?: number;
}

export interface GatewayKernel {
  /** A new connection; the adapter calls `begin` on it once the client has proved its grant. */
  session(wire: SessionWire, clientAddress: string): GatewaySession;
  /** Live sessions (those with a grant). */
  sessions(): SessionSummary[];
  /** End records still waiting for the store to take them. */
  pendingEnds(): number;
  /** Cuts every connection with `message` and waits for their end records (or their hand-off to retry). */
  shutdown(message: string): Promise<void>;
}

export function createGatewayKernel(opts: KernelOptions): GatewayKernel {
  const registry = new SessionRegistry(opts.port);
  const retryMs = opts.endRetryMs ?? 1000;
  const waiting = new Set<() => Promise<void>>();
  let stopped = false;

  /**
   * Retried until the store takes it, with the time and reason the session
   * really ended (the write carries them), so `who` never lists a session
   * that is gone, even after a disk was full.
   */
  function retryEnd(write: () => Promise<void>, cause: unknown): void {
    if (stopped) return;
    console.error(`airlock: a session's end could not be recorded (${cause instanceof Error ? cause.message : String(cause)}); retrying every ${retryMs} ms`);
    waiting.add(write);
    const attempt = () => {
      if (stopped) return;
      write().then(
        () => waiting.delete(write),
        () => opts.clock.after(retryMs, attempt),
      );
    };
    opts.clock.after(retryMs, attempt);
  }

  const ctx = { port: opts.port, clock: opts.clock, registry, auditText: opts.auditText, auditWaitMs: opts.auditWaitMs, retryEnd };
  return {
    session: (wire, clientAddress) => new GatewaySession(ctx, wire, clientAddress),
    sessions: () => registry.summaries(),
    pendingEnds: () => waiting.size,
    async shutdown(message) {
      await registry.shutdown(message);
      // One last try for ends the store refused; what still fails is closed at the next start (closeOrphanedSessions).
      await Promise.all([...waiting].map((w) => w().then(() => waiting.delete(w), () => undefined)));
      stopped = true;
    },
  };
}

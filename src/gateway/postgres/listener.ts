import { normalizeSync } from 'libpg-query';
import { systemClock, type Clock } from '../../core/clock.js';
import { AuthThrottle, type AuthThrottleOptions } from '../../core/auth-throttle.js';
import { auditTextFor, type StatementTextMode } from '../kernel/audit-text.js';
import type { SessionSummary } from '../kernel/gateway-session.js';
import { createGatewayKernel } from '../kernel/kernel.js';
import { listenForSessions } from '../kernel/session-listener.js';
import type { ControlPlanePort } from '../kernel/port.js';
import { CancelKeys } from './cancel-keys.js';
import { SqlState } from './protocol/codes.js';
import { errorResponse } from './protocol/messages.js';
import { ClientSession } from './client-session.js';
import { checkSql as realCheckSql, checkSqlNow as realCheckSqlNow } from './sql/check.js';
import { literalShape } from './sql/literal-shape.js';
import type { CheckSql } from './statement-check.js';
import { secureContextFor, type GatewayTls } from './tls-config.js';
import { UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';

/**
 * The PostgreSQL adapter's listener: accepts client connections and runs one
 * ClientSession per connection on the gateway kernel, which cuts every
 * session of a grant the moment the control plane says that grant ended.
 */

export interface PostgresGatewayOptions {
  readonly backend: ControlPlanePort;
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls?: GatewayTls;
  /** The SQL classifier; defaults to the real one. */
  readonly checkSql?: CheckSql;
  readonly clock?: Clock;
  /** Failed sign-ins per (client address, user) before a lockout; defaults 5 per minute, 5 minutes. */
  readonly authThrottle?: Omit<AuthThrottleOptions, 'now'>;
  /** How long a connection may take to sign in (default 10 s). */
  readonly startupTimeoutMs?: number;
  /**
   * Connections still signing in, at most this many in all and from one
   * address (defaults 1,000 and 100): idle sockets that never sign in cannot
   * take every file descriptor from the sessions and the API.
   */
  readonly signingIn?: { readonly total?: number; readonly perAddress?: number };
  /** How long a session may be held while the audit log is behind before it is closed (default 30 s). */
  readonly auditWaitMs?: number;
  /** What the audit keeps of statement texts (config `audit.statements`, default `text`). */
  readonly statementText?: StatementTextMode;
  /** Warm upstream connections per role credential (upstream-pool.ts); `maxIdle: 0` turns it off. */
  readonly upstreamPool?: UpstreamPoolOptions;
}

export interface PostgresGateway {
  address(): { host: string; port: number };
  sessions(): SessionSummary[];
  /** Warm upstream connections kept for the next session. */
  readonly upstreamPool: UpstreamPool;
  /** Stops accepting, ends every live session (reason `shutdown`) and waits for their records. */
  close(): Promise<void>;
}

/** Literals replaced by placeholders, in PostgreSQL's own normal form. */
export function redactPostgres(sql: string): string {
  try {
    return normalizeSync(sql);
  } catch {
    return '[statement that could not be parsed; text redacted]';
  }
}

export async function createPostgresGateway(opts: PostgresGatewayOptions): Promise<PostgresGateway> {
  const clock = opts.clock ?? systemClock;
  const tlsContext = await secureContextFor(opts.tls);
  const kernel = createGatewayKernel({
    port: opts.backend,
    clock,
    auditText: auditTextFor(opts.statementText ?? 'text', redactPostgres),
    auditWaitMs: opts.auditWaitMs,
  });

  const pool = new UpstreamPool(opts.upstreamPool);
  const deps = {
    kernel,
    backend: opts.backend,
    tlsContext,
    cancelKeys: new CancelKeys(),
    throttle: new AuthThrottle({ now: () => clock.now().getTime(), ...opts.authThrottle }),
    nowMs: () => clock.now().getTime(),
    checkSql: opts.checkSql ?? realCheckSql,
    // An injected classifier (tests) is only ever asked through its promise.
    checkSqlNow: opts.checkSql ? undefined : realCheckSqlNow,
    sqlShape: opts.checkSql ? undefined : literalShape,
    startupTimeoutMs: opts.startupTimeoutMs ?? 10_000,
    cutGraceMs: 500,
    pool,
  };

  const listener = await listenForSessions({
    listen: opts.listen,
    kernel,
    signingIn: opts.signingIn,
    accept(socket) {
      const session = new ClientSession(socket, deps);
      void session.run();
      return session;
    },
    refuseBusy(socket, fromThisAddress) {
      const message = `airlock: too many connections are waiting to sign in${fromThisAddress ? ' from this address' : ''}; try again shortly`;
      // What PostgreSQL says when it has no room for another connection (53300), said before reading anything.
      socket.end(errorResponse({ severity: 'FATAL', sqlstate: SqlState.TooManyConnections, message }));
    },
  });
  return {
    address: () => listener.address(),
    sessions: () => listener.sessions(),
    upstreamPool: pool,
    async close() {
      await listener.close();
      pool.close();
    },
  };
}

import net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { AuthThrottle } from '../../core/auth-throttle.js';
import type { GatewayBackend, GrantEnded } from './backend.js';
import { CancelKeys } from './cancel-keys.js';
import { ClientSession, type SessionSummary } from './client-session.js';
import { checkSql as realCheckSql, checkSqlNow as realCheckSqlNow } from './sql/check.js';
import type { CheckSql } from './statement-check.js';
import { secureContextFor, type GatewayTls } from './tls-config.js';

/**
 * The PostgreSQL gateway's listener: accepts client connections, runs one
 * ClientSession per connection, and cuts every session of a grant the moment
 * the control plane says that grant ended.
 */

export interface PostgresGatewayOptions {
  readonly backend: GatewayBackend;
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls?: GatewayTls;
  /** The SQL classifier; defaults to the real one. */
  readonly checkSql?: CheckSql;
  readonly clock?: Clock;
  /** Failed sign-ins per (client address, user) before a lockout; defaults 5 per minute, 5 minutes. */
  readonly authThrottle?: { readonly maxFailures?: number; readonly windowMs?: number; readonly lockoutMs?: number };
  readonly startupTimeoutMs?: number;
  /** How long a session may be held while the audit log is behind before it is closed (default 30 s). */
  readonly auditWaitMs?: number;
}

export interface PostgresGateway {
  address(): { host: string; port: number };
  sessions(): SessionSummary[];
  /** Stops accepting, ends every live session (reason `shutdown`) and waits for their records. */
  close(): Promise<void>;
}

export async function createPostgresGateway(opts: PostgresGatewayOptions): Promise<PostgresGateway> {
  const clock = opts.clock ?? systemClock;
  const tlsContext = await secureContextFor(opts.tls);
  const all = new Set<ClientSession>();
  const byGrant = new Map<string, Set<ClientSession>>();
  const cancelKeys = new CancelKeys();
  const throttle = new AuthThrottle({ now: () => clock.now().getTime(), ...opts.authThrottle });

  const deps = {
    backend: opts.backend,
    tlsContext,
    cancelKeys,
    throttle,
    nowMs: () => clock.now().getTime(),
    checkSql: opts.checkSql ?? realCheckSql,
    // An injected classifier (tests) is only ever asked through its promise.
    checkSqlNow: opts.checkSql ? undefined : realCheckSqlNow,
    clock,
    startupTimeoutMs: opts.startupTimeoutMs ?? 60_000,
    auditWaitMs: opts.auditWaitMs,
    cutGraceMs: 500,
    register(session: ClientSession) {
      const grantId = session.grantId;
      if (!grantId) return;
      let set = byGrant.get(grantId);
      if (!set) byGrant.set(grantId, (set = new Set()));
      set.add(session);
    },
    unregister(session: ClientSession) {
      const grantId = session.grantId;
      const set = grantId ? byGrant.get(grantId) : undefined;
      set?.delete(session);
      if (grantId && set?.size === 0) byGrant.delete(grantId);
    },
  };

  const unsubscribe = opts.backend.onGrantEnded((ended: GrantEnded) => {
    for (const session of [...(byGrant.get(ended.grantId) ?? [])]) session.cut(ended.reason, ended.message);
  });
  // Sessions keep their own expiry timer as a second line; an extension must move it too.
  const unsubscribeExtended =
    opts.backend.onGrantExtended?.((extended) => {
      for (const session of byGrant.get(extended.grantId) ?? []) session.extendTo(extended.expiresAt);
    }) ?? (() => undefined);

  const server = net.createServer((socket) => {
    const session = new ClientSession(socket, deps);
    all.add(session);
    void session.done.then(() => all.delete(session));
    void session.run();
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    address() {
      const a = server.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    },
    sessions() {
      return [...all].flatMap((s) => s.summary() ?? []);
    },
    async close() {
      unsubscribe();
      unsubscribeExtended();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const sessions = [...all];
      for (const s of sessions) s.cut('shutdown', 'airlock: the gateway is shutting down');
      await Promise.all(sessions.map((s) => s.done));
      await closed;
    },
  };
}

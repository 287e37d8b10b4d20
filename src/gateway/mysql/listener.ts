import { AuthThrottle, type AuthThrottleOptions } from '../../core/auth-throttle.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { auditTextFor, type StatementTextMode } from '../kernel/audit-text.js';
import type { SessionSummary } from '../kernel/gateway-session.js';
import { createGatewayKernel } from '../kernel/kernel.js';
import { listenForSessions } from '../kernel/session-listener.js';
import type { ControlPlanePort } from '../kernel/port.js';
import { secureContextFor, type GatewayTls } from '../postgres/tls-config.js';
import { newRsaKeyPair, type RsaKeyPair } from './auth/caching-sha2.js';
import { ClientSession } from './client-session.js';
import { encodePacket } from './protocol/framer.js';
import { errorPacket } from './protocol/messages.js';
import { redactMysql } from './redact.js';
import { checkMysqlNow, loadMysqlParser } from './sql/check.js';
import type { SqlScope } from './sql/scope.js';
import type { ViewCatalog } from './sql/views.js';
import type { MysqlUpstreamTarget } from './upstream-login.js';

/** How long one upstream login's view definitions are reused before a session reads them again. */
const VIEW_CACHE_MS = 30_000;

/** One read of the views per upstream login at a time, reused for a while; a failed read is not kept. */
class ViewCache {
  private readonly entries = new Map<string, { at: number; catalog: Promise<ViewCatalog> }>();

  constructor(
    private readonly nowMs: () => number,
    private readonly ttlMs: number,
  ) {}

  get(key: string, read: () => Promise<ViewCatalog>): Promise<ViewCatalog> {
    const hit = this.entries.get(key);
    if (hit && this.nowMs() - hit.at < this.ttlMs) return hit.catalog;
    const catalog = read();
    this.entries.set(key, { at: this.nowMs(), catalog });
    catalog.catch(() => this.entries.delete(key));
    return catalog;
  }
}

/**
 * The MySQL adapter's listener: accepts client connections and runs one
 * ClientSession per connection on the gateway kernel, which cuts every
 * session of a grant the moment the control plane says that grant ended.
 */

export interface MysqlGatewayOptions {
  readonly port: ControlPlanePort;
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls?: GatewayTls;
  readonly requireTls?: boolean;
  /** caching_sha2_password full authentication on plain TCP with the gateway's RSA key (default true). */
  readonly rsaKeyExchange?: boolean;
  readonly clock?: Clock;
  /** Largest packet payload accepted from a client (default 64 MiB, MySQL's max_allowed_packet default). */
  readonly maxPayload?: number;
  /** How long a connection may take to sign in (default 10 s). */
  readonly startupTimeoutMs?: number;
  /** Connections still signing in, at most this many in all and from one address (defaults 1,000 and 100). */
  readonly signingIn?: { readonly total?: number; readonly perAddress?: number };
  readonly auditWaitMs?: number;
  readonly statementText?: StatementTextMode;
  /** Failed sign-ins (the Postgres gateway's defaults: from the 5th failure per address and user, 1 s doubling to 30 s). */
  readonly authThrottle?: Omit<AuthThrottleOptions, 'now'>;
}

export interface MysqlGateway {
  address(): { host: string; port: number };
  sessions(): SessionSummary[];
  close(): Promise<void>;
}

/** What the handshake says the server is; `-airlock` tells a reader where they are. */
export const GATEWAY_SERVER_VERSION = '8.0.36-airlock';

export async function createMysqlGateway(opts: MysqlGatewayOptions): Promise<MysqlGateway> {
  await loadMysqlParser();
  const clock = opts.clock ?? systemClock;
  const tlsContext = await secureContextFor(opts.tls);
  const kernel = createGatewayKernel({ port: opts.port, clock, auditText: auditTextFor(opts.statementText ?? 'text', redactMysql), auditWaitMs: opts.auditWaitMs });
  let rsa: RsaKeyPair | null = null;
  const viewCache = new ViewCache(() => clock.now().getTime(), VIEW_CACHE_MS);
  let connectionId = 0;
  const maxPayload = opts.maxPayload ?? 64 << 20;
  const deps = {
    kernel,
    port: opts.port,
    login: {
      tlsContext,
      requireTls: opts.requireTls,
      rsaKeys: () => (opts.rsaKeyExchange === false ? null : (rsa ??= newRsaKeyPair())),
      maxPayload,
      serverVersion: GATEWAY_SERVER_VERSION,
    },
    // The port's grants carry `mysql` verifiers when the control plane has them (secrets issued since 0014_mysql_verifiers).
    activeGrants: (user: string, resource: string) => opts.port.activeGrants(user, resource),
    decide: (text: string, scope: SqlScope, database: string, views: ViewCatalog) => checkMysqlNow(text, scope, { database, views }),
    views: (target: MysqlUpstreamTarget, read: () => Promise<ViewCatalog>) => viewCache.get(`${target.host}:${target.port}:${target.user}`, read),
    nextConnectionId: () => (connectionId = (connectionId % 0x7fffffff) + 1),
    startupTimeoutMs: opts.startupTimeoutMs ?? 10_000,
    throttle: new AuthThrottle({ now: () => clock.now().getTime(), ...opts.authThrottle }),
  };
  return listenForSessions({
    listen: opts.listen,
    kernel,
    signingIn: opts.signingIn,
    accept(socket) {
      const session = new ClientSession(socket, deps);
      void session.run();
      return session;
    },
    refuseBusy(socket, fromThisAddress) {
      // What a MySQL server sends instead of its handshake when it has no room (ER_CON_COUNT_ERROR).
      const message = `airlock: too many connections are waiting to sign in${fromThisAddress ? ' from this address' : ''}; try again shortly`;
      socket.end(encodePacket(errorPacket('TooManyConnections', message), 0).bytes);
    },
  });
}

import net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { auditTextFor, type StatementTextMode } from '../kernel/audit-text.js';
import type { SessionSummary } from '../kernel/gateway-session.js';
import { createGatewayKernel } from '../kernel/kernel.js';
import type { ControlPlanePort } from '../kernel/port.js';
import { secureContextFor, type GatewayTls } from '../postgres/tls-config.js';
import { newRsaKeyPair, type RsaKeyPair } from './auth/caching-sha2.js';
import type { MysqlGrant } from './client-login.js';
import { ClientSession } from './client-session.js';
import { redactMysql } from './redact.js';
import { checkMysqlNow, loadMysqlParser } from './sql/check.js';
import type { SqlScope } from './sql/scope.js';

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
  readonly startupTimeoutMs?: number;
  readonly auditWaitMs?: number;
  readonly statementText?: StatementTextMode;
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
    activeGrants: (user: string, resource: string) => opts.port.activeGrants(user, resource) as Promise<MysqlGrant[]>,
    decide: (text: string, scope: SqlScope, database: string) => checkMysqlNow(text, scope, { database }),
    nextConnectionId: () => (connectionId = (connectionId % 0x7fffffff) + 1),
    startupTimeoutMs: opts.startupTimeoutMs ?? 60_000,
  };
  const server = net.createServer((socket) => void new ClientSession(socket, deps).run());
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
    sessions: () => kernel.sessions(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await kernel.shutdown('airlock: the gateway is shutting down');
      await closed;
    },
  };
}

import type { Clock } from '../core/clock.js';
import type { StatementTextMode } from './kernel/audit-text.js';
import type { SessionSummary } from './kernel/gateway-session.js';
import type { ControlPlanePort, GatewayKind } from './kernel/port.js';

/**
 * The gateways Airlock has, keyed by resource kind. `airlock server`, the
 * API's connect route and `who`/`sessions` find a resource's gateway here
 * instead of assuming Postgres; an adapter adds itself with one entry.
 */

export interface GatewayStart {
  readonly port: ControlPlanePort;
  readonly clock: Clock;
  readonly listen: { readonly host: string; readonly port: number };
  /** The adapter's own section of `gateway.<kind>` in airlock.yaml, as parsed. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The config file's folder (relative certificate paths start there). */
  readonly baseDir: string;
  readonly statementText: StatementTextMode;
}

export interface RunningGateway {
  readonly kind: GatewayKind;
  address(): { host: string; port: number };
  sessions(): SessionSummary[];
  /** One line for the server's start-up banner. */
  describe(): string;
  close(): Promise<void>;
}

export interface GatewayAdapter {
  readonly kind: GatewayKind;
  /** Work done once before the first listener starts (e.g. loading a SQL parser). */
  prepare?(): Promise<void>;
  start(start: GatewayStart): Promise<RunningGateway>;
}

const adapters = new Map<GatewayKind, () => Promise<GatewayAdapter>>([
  ['postgres', async () => (await import('./postgres/adapter.js')).postgresAdapter],
  ['http', async () => (await import('./http/adapter.js')).httpAdapter],
  ['mysql', async () => (await import('./mysql/adapter.js')).mysqlAdapter],
]);

/** The adapter for `kind`, or null when Airlock has no gateway for it yet. */
export async function gatewayAdapter(kind: GatewayKind): Promise<GatewayAdapter | null> {
  const load = adapters.get(kind);
  return load ? load() : null;
}

export function gatewayKinds(): GatewayKind[] {
  return [...adapters.keys()];
}

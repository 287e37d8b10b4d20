import type { LoadedConfig } from '../config/load.js';
import { createControlPlanePort } from '../gateway/kernel/control-plane-port.js';
import type { ControlPlanePort, GatewayKind } from '../gateway/kernel/port.js';
import { gatewayAdapter, type RunningGateway } from '../gateway/registry.js';
import { splitHostPort, startControlPlane, type StartOptions } from './start.js';

export interface AirlockOptions extends StartOptions {
  /** Overrides gateway.postgres.listen (tests pass 127.0.0.1:0). */
  readonly postgresListen?: string;
  /** Overrides gateway.<kind>.listen for any kind (tests pass 127.0.0.1:0). */
  readonly gatewayListen?: Partial<Record<GatewayKind, string>>;
  /** Write-ahead intents before each statement (default `strict`); `off` only for measuring their cost. */
  readonly intents?: 'strict' | 'off';
  /**
   * Tests only: wraps the port a gateway gets, to make the audit log fall
   * behind or fail on cue (the conformance suite's fail-closed cases).
   */
  readonly tapPort?: (port: ControlPlanePort) => ControlPlanePort;
}

/**
 * Everything `airlock server` runs in one process: the control plane and a
 * gateway for each resource kind the config both uses and configures under
 * `gateway.<kind>`. Each gateway reaches the control plane only through its
 * port, so it could run on a node of its own.
 */
export async function startAirlock(config: LoadedConfig, options: AirlockOptions = {}) {
  const cp = await startControlPlane(config, options);
  const gatewayLines: string[] = [];
  const running = new Map<GatewayKind, RunningGateway>();
  const ports: Array<ReturnType<typeof createControlPlanePort>> = [];
  const sections = config.file.gateway as Partial<Record<GatewayKind, Record<string, unknown> & { listen: string; public_host?: string }>>;
  try {
    const kinds = new Set([...config.directory.resources.values()].map((r) => r.kind));
    for (const kind of kinds) {
      const section = sections[kind];
      const adapter = section ? await gatewayAdapter(kind) : null;
      if (!section || !adapter) continue;
      await adapter.prepare?.();
      const port = createControlPlanePort({ ...cp, kind, env: options.env, intents: options.intents, fleetSignals: cp.fleet?.signals });
      ports.push(port);
      cp.fleet?.track(() => port.liveGrantIds());
      const listen = (kind === 'postgres' ? options.postgresListen : undefined) ?? options.gatewayListen?.[kind] ?? section.listen;
      const gateway = await adapter.start({
        port: options.tapPort ? options.tapPort(port) : port,
        clock: cp.clock,
        listen: splitHostPort(listen),
        config: section,
        baseDir: config.baseDir,
        statementText: config.file.audit.statements,
      });
      running.set(kind, gateway);
      const address = gateway.address();
      cp.gateways[kind] = { host: section.public_host ?? address.host, port: address.port, ...(kind === 'http' && section.tls ? { tls: true } : {}) };
      gatewayLines.push(gateway.describe());
    }
  } catch (err) {
    for (const g of running.values()) await g.close();
    for (const p of ports) await p.close();
    await cp.close();
    throw err;
  }
  return {
    ...cp,
    gatewayLines,
    /** The running gateways by kind. */
    running,
    postgres: running.get('postgres') ?? null,
    /** Writes every queued statement record (tests, benchmarks). */
    async flushAudit() {
      await Promise.all(ports.map((p) => p.flush()));
    },
    async close() {
      for (const g of running.values()) await g.close();
      for (const p of ports) await p.close();
      await cp.close();
    },
  };
}

export type RunningAirlock = Awaited<ReturnType<typeof startAirlock>>;

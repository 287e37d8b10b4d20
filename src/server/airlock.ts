import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { createControlPlaneBackend } from '../gateway/postgres/control-plane-backend.js';
import { createPostgresGateway, type GatewayTls, type PostgresGateway } from '../gateway/postgres/index.js';
import { loadSqlParser } from '../gateway/postgres/sql/check.js';
import { splitHostPort, startControlPlane, type StartOptions } from './start.js';

export interface AirlockOptions extends StartOptions {
  /** Overrides gateway.postgres.listen (tests pass 127.0.0.1:0). */
  readonly postgresListen?: string;
  /** Where role credentials' password_env variables are read (defaults to process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

function gatewayTls(config: LoadedConfig): GatewayTls | undefined {
  const tls = config.file.gateway.postgres?.tls;
  if (!tls || tls === 'self-signed') return tls;
  return { cert: readFileSync(resolve(config.baseDir, tls.cert), 'utf8'), key: readFileSync(resolve(config.baseDir, tls.key), 'utf8') };
}

/**
 * Everything `airlock server` runs in one process: the control plane and the
 * gateways the config names. Each gateway reaches the control plane only
 * through its backend port, so it could run on a node of its own.
 */
export async function startAirlock(config: LoadedConfig, options: AirlockOptions = {}) {
  const cp = await startControlPlane(config, options);
  const gatewayLines: string[] = [];
  let postgres: PostgresGateway | null = null;
  let backend: ReturnType<typeof createControlPlaneBackend> | null = null;
  try {
    const pgConfig = config.file.gateway.postgres;
    const hasPostgres = [...config.directory.resources.values()].some((r) => r.kind === 'postgres');
    if (pgConfig && hasPostgres) {
      await loadSqlParser();
      backend = createControlPlaneBackend({ ...cp, env: options.env, statementText: config.file.audit.statements });
      postgres = await createPostgresGateway({
        backend,
        listen: splitHostPort(options.postgresListen ?? pgConfig.listen),
        tls: gatewayTls(config),
        clock: cp.clock,
      });
      const address = postgres.address();
      cp.gateways.postgres = { host: pgConfig.public_host ?? address.host, port: address.port };
      gatewayLines.push(`postgres gateway listening on ${address.host}:${address.port}${pgConfig.tls ? ' (TLS available)' : ''}`);
    }
  } catch (err) {
    await cp.close();
    throw err;
  }
  return {
    ...cp,
    gatewayLines,
    postgres,
    backend,
    async close() {
      await postgres?.close();
      await backend?.close();
      await cp.close();
    },
  };
}

export type RunningAirlock = Awaited<ReturnType<typeof startAirlock>>;

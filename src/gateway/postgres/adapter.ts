import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GatewayAdapter } from '../registry.js';
import { createPostgresGateway } from './listener.js';
import { loadSqlParser } from './sql/check.js';
import type { GatewayTls } from './tls-config.js';

interface PostgresSection {
  readonly tls?: 'self-signed' | { readonly cert: string; readonly key: string };
}

function gatewayTls(section: PostgresSection, baseDir: string): GatewayTls | undefined {
  const tls = section.tls;
  if (!tls || tls === 'self-signed') return tls;
  return { cert: readFileSync(resolve(baseDir, tls.cert), 'utf8'), key: readFileSync(resolve(baseDir, tls.key), 'utf8') };
}

/** The Postgres gateway as the registry starts it (`gateway.postgres` in airlock.yaml). */
export const postgresAdapter: GatewayAdapter = {
  kind: 'postgres',
  prepare: () => loadSqlParser(),
  async start(s) {
    const section = s.config as PostgresSection;
    const gateway = await createPostgresGateway({
      backend: s.port,
      listen: s.listen,
      tls: gatewayTls(section, s.baseDir),
      clock: s.clock,
      statementText: s.statementText,
    });
    return {
      kind: 'postgres',
      address: () => gateway.address(),
      sessions: () => gateway.sessions(),
      describe() {
        const a = gateway.address();
        return `postgres gateway listening on ${a.host}:${a.port}${section.tls ? ' (TLS available)' : ''}`;
      },
      close: () => gateway.close(),
    };
  },
};

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GatewayAdapter } from '../registry.js';
import type { GatewayTls } from '../postgres/tls-config.js';
import { createMysqlGateway } from './listener.js';
import { loadMysqlParser } from './sql/check.js';

interface MysqlSection {
  readonly tls?: 'self-signed' | { readonly cert: string; readonly key: string };
  readonly require_tls?: boolean;
  readonly rsa_key_exchange?: boolean;
}

function gatewayTls(section: MysqlSection, baseDir: string): GatewayTls | undefined {
  const tls = section.tls;
  if (!tls || tls === 'self-signed') return tls;
  return { cert: readFileSync(resolve(baseDir, tls.cert), 'utf8'), key: readFileSync(resolve(baseDir, tls.key), 'utf8') };
}

/** The MySQL/MariaDB gateway as the registry starts it (`gateway.mysql` in airlock.yaml). */
export const mysqlAdapter: GatewayAdapter = {
  kind: 'mysql',
  prepare: () => loadMysqlParser(),
  async start(s) {
    const section = s.config as MysqlSection;
    const gateway = await createMysqlGateway({
      port: s.port,
      listen: s.listen,
      tls: gatewayTls(section, s.baseDir),
      requireTls: section.require_tls,
      rsaKeyExchange: section.rsa_key_exchange,
      clock: s.clock,
      statementText: s.statementText,
    });
    return {
      kind: 'mysql',
      address: () => gateway.address(),
      sessions: () => gateway.sessions(),
      describe() {
        const a = gateway.address();
        return `mysql gateway listening on ${a.host}:${a.port}${section.tls ? ' (TLS available)' : ''}`;
      },
      close: () => gateway.close(),
    };
  },
};

import { parseConfig } from '../config/load.js';
import { createControlPlanePort } from '../gateway/kernel/control-plane-port.js';
import { createPostgresGateway } from '../gateway/postgres/index.js';
import type { RunningGateway } from '../gateway/registry.js';
import { loadSqlParser } from '../gateway/postgres/sql/check.js';
import { startAirlock } from '../server/airlock.js';
import { startControlPlane, type RunningControlPlane } from '../server/start.js';
import type { Envelope, GatewayReplies, GatewayRequest, GatewayStart, Reply } from './gateway-protocol.js';
import { wallMs } from './stats.js';

/**
 * The gateway under test, in a process of its own: the bench's clients,
 * pgbench and PostgreSQL must not share its event loop, and its RSS must be
 * the gateway's alone. Driven by the bench over IPC.
 */

interface Running {
  readonly cp: Pick<RunningControlPlane, 'lifecycle' | 'directory'>;
  readonly postgres: Pick<RunningGateway, 'address' | 'sessions'>;
  close(): Promise<void>;
}

let running: Running | null = null;

async function start(s: GatewayStart): Promise<Running> {
  const config = parseConfig(s.configYaml, 'airlock.yaml', s.dir);
  if (s.statementAudit) {
    // The product exactly as `airlock server` composes it.
    const airlock = await startAirlock(config, { listen: '127.0.0.1:0', postgresListen: '127.0.0.1:0', env: s.env, intents: s.intents });
    // The Postgres gateway, or the only one a config runs (the MySQL bench section runs a mysql-only config).
    const gateway = airlock.postgres ?? [...airlock.running.values()][0]!;
    return { cp: airlock, postgres: gateway, close: () => airlock.close() };
  }
  // Same composition as startAirlock, with the backend's statement audit switched off.
  const cp = await startControlPlane(config, { listen: '127.0.0.1:0' });
  await loadSqlParser();
  const backend = createControlPlanePort({ ...cp, kind: 'postgres', env: s.env, statementAudit: false });
  const postgres = await createPostgresGateway({ backend, listen: { host: '127.0.0.1', port: 0 }, clock: cp.clock, statementText: config.file.audit.statements });
  return {
    cp,
    postgres,
    async close() {
      await postgres.close();
      await backend.close();
      await cp.close();
    },
  };
}

function user(name: string) {
  const u = running?.cp.directory.users.get(name);
  if (!u) throw new Error(`no user ${name} in the bench config`);
  return u;
}

function need(): Running {
  if (!running) throw new Error('the gateway is not started');
  return running;
}

async function handle(req: GatewayRequest): Promise<GatewayReplies[GatewayRequest['op']]> {
  switch (req.op) {
    case 'start': {
      running = await start(req.start);
      return { port: running.postgres.address().port, pid: process.pid };
    }
    case 'grant': {
      const { lifecycle } = need().cp;
      const asked = await lifecycle.request(user(req.user), { resource: req.resource, role: req.role, durationSeconds: req.seconds, reason: 'bench' });
      if (!asked.grant) throw new Error('the bench policy must grant without review');
      const { secret } = await lifecycle.issueSecret(user(req.user), asked.grant.id);
      return { grantId: asked.grant.id, secret, expiresAtMs: asked.grant.expiresAt.getTime() };
    }
    case 'revoke': {
      const { lifecycle } = need().cp;
      const startedAtMs = wallMs();
      for (const id of req.grantIds) await lifecycle.revoke(user(req.admin), id, 'bench: revoke → cut');
      return { startedAtMs };
    }
    case 'memory': {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, sessions: need().postgres.sessions().length };
    }
    case 'stop': {
      await running?.close();
      running = null;
      setImmediate(() => process.exit(0));
      return {};
    }
  }
}

process.on('message', (m: Envelope<GatewayRequest>) => {
  handle(m).then(
    (value) => process.send?.({ id: m.id, ok: true, value } satisfies Reply),
    (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));

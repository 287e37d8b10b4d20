import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBenchDatabase, POSTGRES, type BenchDatabase } from './bench-database.js';
import type { Endpoint } from './endpoints.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import type { GrantIssued } from './gateway-protocol.js';
import type { BenchOptions } from './options.js';
import { pgbouncerPath, startPgBouncer, type PgBouncer } from './pgbouncer.js';
import { startRelayProcess, type RelayProcess } from './relay-process.js';

/**
 * Everything a run needs, set up once and torn down in reverse: a pgbench
 * database with its roles, a private PgBouncer, a bare Node.js byte relay
 * (the floor for any Node proxy), and three gateway processes: the product
 * as shipped (statement audit and write-ahead intents on), statement audit
 * off (for the audit-cost comparison), and intents off with the audit on (for
 * the intent-cost comparison: the only difference is the intent step).
 */

export const RESOURCE = 'benchdb';
/** The same database reached through PgBouncer's transaction pool, for tests that hold more sessions than PostgreSQL allows. */
export const POOLED_RESOURCE = 'benchdb-pooled';
export type Role = 'read' | 'write';

export interface BenchEnv {
  readonly opts: BenchOptions;
  readonly db: BenchDatabase;
  readonly pgbouncer: PgBouncer | null;
  /** Null when it could not start; the run goes on without its columns. */
  readonly relay: RelayProcess | null;
  /** With statement audit (the default product). */
  readonly gateway: GatewayProcess;
  readonly gatewayAuditOff: GatewayProcess;
  /** Statement audit on, write-ahead intents off: differs from `gateway` only by the intent step. */
  readonly gatewayIntentsOff: GatewayProcess;
  /** Prefix for pgbench when pinning. */
  readonly pgbenchWrap: readonly string[];
  readonly notes: string[];
  direct(role: Role): Endpoint;
  pgbouncerSession(role: Role): Endpoint | null;
  /** PostgreSQL through the byte relay, as the same role and with the same trust auth as direct: the relay only moves bytes. */
  relayed(role: Role): Endpoint | null;
  /** The grant `user` (one of the config's bench users) holds on that gateway, asked for on first use, and the endpoint that uses it. */
  airlock(gateway: GatewayProcess, user: BenchUser, opts?: { resource?: string; seconds?: number }): Promise<{ endpoint: Endpoint; grant: GrantIssued }>;
  close(): Promise<void>;
}

export const BENCH_USERS = { reader: 'read', writer: 'write', cutter: 'read', expirer: 'read', idler: 'read' } as const satisfies Record<string, Role>;
export type BenchUser = keyof typeof BENCH_USERS;

function configYaml(db: BenchDatabase, pgbouncer: PgBouncer | null): string {
  const roles = `
      read:
        credential: { user: ${db.readUser}, password_env: BENCH_UPSTREAM_PASSWORD }
        allow: [read]
        tables: ["public.*"]
      write:
        credential: { user: ${db.writeUser}, password_env: BENCH_UPSTREAM_PASSWORD }
        allow: [read, write]
        tables: ["public.*"]`;
  const pooled = pgbouncer
    ? `
  - name: ${POOLED_RESOURCE}
    kind: postgres
    upstream: { host: 127.0.0.1, port: ${pgbouncer.port}, database: ${pgbouncer.pooledDb} }
    labels: { env: bench }
    roles:${roles}`
    : '';
  return `
server: { listen: "127.0.0.1:0" }
store: sqlite:airlock.db
users:
${Object.keys(BENCH_USERS).map((u) => `  - { name: ${u}, groups: [bench] }`).join('\n')}
  - { name: root, groups: [airlock-admins] }
admins: { groups: [airlock-admins] }
resources:
  - name: ${RESOURCE}
    kind: postgres
    upstream: { host: ${POSTGRES.host}, port: ${POSTGRES.port}, database: ${db.name} }
    labels: { env: bench }
    roles:${roles}${pooled}
policies:
  - name: bench
    who: { groups: [bench] }
    resources: { labels: { env: bench } }
    roles: [read, write]
    max_duration: 4h
    approval: none
gateway:
  postgres:
    listen: "127.0.0.1:0"
`;
}

function pin(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

export async function openBenchEnv(opts: BenchOptions, log: (line: string) => void): Promise<BenchEnv> {
  const notes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };
  try {
    log('setting up: pgbench database and roles…');
    const db = await createBenchDatabase(1);
    cleanups.push(() => db.drop());

    const bin = pgbouncerPath();
    let pgbouncer: PgBouncer | null = null;
    if (bin) {
      pgbouncer = await startPgBouncer(bin, db.name, [db.readUser, db.writeUser]);
      cleanups.push(() => pgbouncer!.stop());
    } else {
      notes.push('pgbouncer is not installed (apt-get install -y pgbouncer): its columns, and the tests that need its transaction pool, are skipped');
    }

    // A reference, not the product: a relay that fails to start costs the run its column, never the run.
    let relay: RelayProcess | null = null;
    try {
      relay = await startRelayProcess(POSTGRES);
      cleanups.push(() => relay!.stop());
    } catch (err) {
      notes.push(`the Node.js byte relay did not start (${err instanceof Error ? err.message : String(err)}): its columns are skipped`);
    }

    const dirs = ['airlock-bench-', 'airlock-bench-off-', 'airlock-bench-intents-off-'].map((prefix) => mkdtempSync(join(tmpdir(), prefix)));
    cleanups.push(async () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const yaml = configYaml(db, pgbouncer);
    const env = { BENCH_UPSTREAM_PASSWORD: db.password };
    const gateway = await startGatewayProcess({ configYaml: yaml, dir: dirs[0]!, statementAudit: true, env }, { cpuProfDir: opts.cpuProfDir });
    cleanups.push(() => gateway.stop());
    const gatewayAuditOff = await startGatewayProcess({ configYaml: yaml, dir: dirs[1]!, statementAudit: false, env });
    cleanups.push(() => gatewayAuditOff.stop());
    const gatewayIntentsOff = await startGatewayProcess({ configYaml: yaml, dir: dirs[2]!, statementAudit: true, intents: 'off', env });
    cleanups.push(() => gatewayIntentsOff.stop());

    let pgbenchWrap: string[] = [];
    if (opts.pin) {
      // Every proxy on the same CPU, so the relay's floor is measured under the same conditions as the gateway it is compared with.
      const proxies = [gateway.pid, gatewayAuditOff.pid, gatewayIntentsOff.pid, ...(pgbouncer ? [pgbouncer.pid] : []), ...(relay ? [relay.pid] : [])];
      const pinned = proxies.every((pid) => pin(pid, 1));
      if (pinned) {
        pgbenchWrap = ['taskset', '-c', '0'];
        notes.push('pinned: pgbench on CPU 0; the gateways, PgBouncer and the byte relay on CPU 1; PostgreSQL unpinned');
      } else {
        notes.push('--pin asked for, but taskset failed: nothing is pinned');
      }
    }

    // A second request for the same role would extend the first grant; each (gateway, user, resource) asks once.
    const issued = new Map<string, Promise<{ endpoint: Endpoint; grant: GrantIssued }>>();
    const ask = async (gw: GatewayProcess, user: BenchUser, resource: string, seconds: number) => {
      const grant = await gw.call({ op: 'grant', user, resource, role: BENCH_USERS[user], seconds });
      return { grant, endpoint: { label: 'airlock', host: '127.0.0.1', port: gw.port, database: resource, user, password: grant.secret } };
    };
    return {
      opts,
      db,
      pgbouncer,
      relay,
      gateway,
      gatewayAuditOff,
      gatewayIntentsOff,
      pgbenchWrap,
      notes,
      direct: (role) => ({ label: 'direct', ...POSTGRES, database: db.name, user: role === 'read' ? db.readUser : db.writeUser }),
      pgbouncerSession: (role) =>
        pgbouncer && { label: 'pgbouncer', host: '127.0.0.1', port: pgbouncer.port, database: pgbouncer.sessionDb, user: role === 'read' ? db.readUser : db.writeUser },
      relayed: (role) => relay && { label: 'relay', host: '127.0.0.1', port: relay.port, database: db.name, user: role === 'read' ? db.readUser : db.writeUser },
      airlock(gw, user, o = {}) {
        const resource = o.resource ?? RESOURCE;
        const key = `${gw.pid}/${user}/${resource}`;
        let got = issued.get(key);
        if (!got) issued.set(key, (got = ask(gw, user, resource, o.seconds ?? 3600)));
        return got;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

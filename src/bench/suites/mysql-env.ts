import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { startGatewayProcess, type GatewayProcess } from '../gateway-process.js';
import type { BenchOptions } from '../options.js';
import { startRelayProcess, type RelayProcess } from '../relay-process.js';

/**
 * What the MySQL section needs, set up on its own and torn down in reverse:
 * a sysbench-style table in a fresh MariaDB database, a login that may only
 * read it (every path signs in as that login), a bare Node byte relay in
 * front of MariaDB, and a gateway process running only the MySQL gateway.
 */

/** The machine's MariaDB, as root without a password (the same one the tests use). */
export const MARIADB = { host: '127.0.0.1', port: 3306 } as const;
export const MYSQL_RESOURCE = 'benchmy';
/** sysbench's default table size. */
export const TABLE_ROWS = 10_000;

export interface MysqlEndpoint {
  readonly label: 'direct' | 'airlock' | 'relay';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface MysqlBenchEnv {
  readonly database: string;
  readonly direct: MysqlEndpoint;
  readonly relay: MysqlEndpoint | null;
  readonly gateway: GatewayProcess;
  readonly notes: string[];
  /** A fresh grant for `user` on the bench resource, and the endpoint that uses it. */
  airlock(user: 'reader' | 'idler'): Promise<MysqlEndpoint>;
  close(): Promise<void>;
}

function configYaml(database: string, login: string): string {
  return `
server: { listen: "127.0.0.1:0" }
store: sqlite:airlock.db
users:
  - { name: reader, groups: [bench] }
  - { name: idler, groups: [bench] }
resources:
  - name: ${MYSQL_RESOURCE}
    kind: mysql
    upstream: { host: ${MARIADB.host}, port: ${MARIADB.port}, database: ${database} }
    labels: { env: bench }
    roles:
      read:
        credential: { user: ${login}, password_env: BENCH_MYSQL_PASSWORD }
        allow: [read]
        tables: ["${database}.*"]
policies:
  - name: bench
    who: { groups: [bench] }
    resources: { labels: { env: bench } }
    roles: [read]
    max_duration: 4h
    approval: none
gateway:
  mysql: { listen: "127.0.0.1:0" }
`;
}

async function root<T>(run: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ ...MARIADB, user: 'root', password: '' });
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

export async function openMysqlBenchEnv(opts: BenchOptions, log: (line: string) => void): Promise<MysqlBenchEnv> {
  const notes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };
  try {
    const tag = randomBytes(4).toString('hex');
    const database = `airlock_bench_my_${tag}`;
    const login = `al_bench_${tag}`;
    const password = randomBytes(12).toString('hex');
    log('  setting up: MariaDB sbtest1 table and a read-only login…');
    await root(async (c) => {
      await c.query(`CREATE DATABASE \`${database}\``);
      cleanups.push(() => root((r) => r.query(`DROP DATABASE IF EXISTS \`${database}\``)).then(() => undefined));
      await c.query(`CREATE USER '${login}'@'%' IDENTIFIED BY '${password}'`);
      cleanups.push(() => root((r) => r.query(`DROP USER IF EXISTS '${login}'@'%'`)).then(() => undefined));
      await c.query(`GRANT SELECT ON \`${database}\`.* TO '${login}'@'%'`);
      await c.query(
        `CREATE TABLE \`${database}\`.sbtest1 (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k)) ENGINE=InnoDB`,
      );
      // MariaDB stops a recursive CTE at 1,000 rows by default.
      await c.query(`SET SESSION max_recursive_iterations = ${TABLE_ROWS * 2}`);
      await c.query(
        `INSERT INTO \`${database}\`.sbtest1 (k, c, pad)
         WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${TABLE_ROWS})
         SELECT FLOOR(RAND() * ${TABLE_ROWS}), REPEAT(LPAD(n, 11, '0'), 10), REPEAT(LPAD(n, 11, '0'), 5) FROM seq`,
      );
    });
    const direct: MysqlEndpoint = { label: 'direct', ...MARIADB, user: login, password, database };

    // A reference, not the product: a relay that fails to start costs the run its column, never the run.
    let relay: RelayProcess | null = null;
    try {
      relay = await startRelayProcess(MARIADB);
      cleanups.push(() => relay!.stop());
    } catch (err) {
      notes.push(`mysql: the Node.js byte relay did not start (${err instanceof Error ? err.message : String(err)}): its column is skipped`);
    }

    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-my-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const gateway = await startGatewayProcess(
      { configYaml: configYaml(database, login), dir, statementAudit: true, env: { BENCH_MYSQL_PASSWORD: password } },
      { cpuProfDir: opts.cpuProfDir },
    );
    cleanups.push(() => gateway.stop());

    const granted = new Map<string, Promise<MysqlEndpoint>>();
    return {
      database,
      direct,
      relay: relay && { ...direct, label: 'relay', host: '127.0.0.1', port: relay.port },
      gateway,
      notes,
      airlock(user) {
        let got = granted.get(user);
        if (!got) {
          got = gateway
            .call({ op: 'grant', user, resource: MYSQL_RESOURCE, role: 'read', seconds: 3600 })
            .then((g) => ({ label: 'airlock', host: '127.0.0.1', port: gateway.port, user, password: g.secret, database: MYSQL_RESOURCE }) as const);
          granted.set(user, got);
        }
        return got;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

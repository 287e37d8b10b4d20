import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES } from './bench-database.js';
import { freePort, waitForPort } from './free-port.js';

/**
 * A private PgBouncer for the run — never the system service: its own temp
 * config, a free port, trust auth against a userlist it writes. Two logical
 * databases: `session` is the comparison target (one server connection per
 * client, like the gateway), `pooled` (transaction mode) lets thousands of
 * idle gateway sessions sit on a handful of PostgreSQL connections for the
 * scale and cut tests, since PostgreSQL allows only ~100.
 */
export interface PgBouncer {
  readonly port: number;
  readonly pid: number;
  readonly sessionDb: string;
  readonly pooledDb: string;
  stop(): Promise<void>;
}

export function pgbouncerPath(): string | null {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    if (spawnSync(p, ['--version']).status === 0) return p;
  }
  return spawnSync('pgbouncer', ['--version']).status === 0 ? 'pgbouncer' : null;
}

/** PgBouncer refuses to run as root; under root (CI containers) it drops to an unprivileged user that owns its temp folder. */
function userArgs(dir: string): string[] {
  if (process.getuid?.() !== 0) return [];
  for (const user of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (id.status !== 0 || gid.status !== 0) continue;
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
    for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), Number(id.stdout.trim()), Number(gid.stdout.trim()));
    return ['-u', user];
  }
  return [];
}

export async function startPgBouncer(bin: string, database: string, users: readonly string[]): Promise<PgBouncer> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-pgbouncer-'));
  const port = await freePort();
  const upstream = `host=${POSTGRES.host} port=${POSTGRES.port} dbname=${database}`;
  writeFileSync(join(dir, 'userlist.txt'), users.map((u) => `"${u}" ""`).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    `[databases]
session = ${upstream} pool_mode=session pool_size=40
pooled = ${upstream} pool_mode=transaction pool_size=8

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
max_client_conn = 2600
max_db_connections = 48
; the gateway asks for default_transaction_read_only through "options"; transaction pooling cannot keep per-client settings
ignore_startup_parameters = extra_float_digits,options
server_idle_timeout = 5
logfile = ${join(dir, 'pgbouncer.log')}
`,
  );
  const child: ChildProcess = spawn(bin, [...userArgs(dir), join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 5_000);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pgbouncer did not start: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
  return {
    port,
    pid: child.pid!,
    sessionDb: 'session',
    pooledDb: 'pooled',
    async stop() {
      if (child.exitCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.kill('SIGINT');
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

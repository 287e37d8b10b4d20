import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import { generate } from 'selfsigned';

/**
 * A throwaway PostgreSQL cluster whose pg_hba.conf asks for real passwords
 * (the machine's own cluster trusts local TCP, which would skip the gateway's
 * upstream authentication entirely). The system cluster's config is untouched.
 */
const BIN = '/usr/lib/postgresql/15/bin';

export interface TempCluster {
  readonly port: number;
  readonly ca: string;
  stop(): Promise<void>;
}

function exec(cmd: string, args: string[]): Promise<string> {
  // initdb and postgres refuse to run as root; run them as the postgres OS user when we are root.
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) =>
    execFile(file, argv, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** `users` maps role name → [auth method, password]; `hostssl` lines apply to roles whose name contains "tls". */
export async function startTempCluster(users: Record<string, ['scram-sha-256' | 'md5' | 'password', string]>): Promise<TempCluster> {
  const dir = mkdtempSync('/tmp/airlock-pg-');
  const data = `${dir}/data`;
  const ids = process.getuid?.() === 0 ? postgresIds() : null;
  const own = (path: string) => {
    if (ids) chownSync(path, ids[0], ids[1]);
  };
  own(dir);
  await exec(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  writeFileSync(`${data}/server.crt`, pems.cert);
  writeFileSync(`${data}/server.key`, pems.private, { mode: 0o600 });
  own(`${data}/server.crt`);
  own(`${data}/server.key`);
  appendFileSync(
    `${data}/postgresql.conf`,
    `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nssl = on\nfsync = off\nmax_connections = 20\n`,
  );
  const hba = ['local all all trust', 'host all postgres 127.0.0.1/32 trust'];
  for (const [user, [method]] of Object.entries(users)) hba.push(`${user.includes('tls') ? 'hostssl' : 'host'} all ${user} 127.0.0.1/32 ${method}`);
  writeFileSync(`${data}/pg_hba.conf`, `${hba.join('\n')}\n`);
  await exec(`${BIN}/pg_ctl`, ['-D', data, '-l', `${dir}/log`, '-w', '-t', '30', 'start']);
  for (const [user, [method, password]] of Object.entries(users)) {
    const enc = method === 'md5' ? 'md5' : 'scram-sha-256';
    await exec('/usr/bin/psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', `set password_encryption = '${enc}'; create role ${user} login password '${password}'`]);
  }
  return {
    port,
    ca: pems.cert,
    async stop() {
      await exec(`${BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The postgres OS user's uid/gid, to hand it the cluster directory when the tests run as root. */
function postgresIds(): [number, number] {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return [id('-u'), id('-g')];
}

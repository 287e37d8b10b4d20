import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import type { GrantView } from '../../server/views.js';
import { printJson, relative } from '../output.js';

interface ConnectInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/**
 * `airlock connect` for a mysql resource: runs the `mariadb` client (or
 * `mysql`) with the grant secret in an option file only the user can read,
 * removed when the client exits, never on the command line where `ps` shows
 * it. `--print` gives a mysql:// DSN and the command, `--json` the parts.
 */
export async function connectMysql(resource: string, info: ConnectInfo, grant: GrantView, password: string, opts: { print?: boolean; json?: boolean }): Promise<void> {
  const dsn = `mysql://${encodeURIComponent(info.user)}:${encodeURIComponent(password)}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
  const args = ['-h', info.host, '-P', String(info.port), '-u', info.user, '--protocol=TCP', info.database];
  if (opts.print || opts.json) {
    if (opts.json) return printJson({ host: info.host, port: info.port, user: info.user, database: info.database, password, dsn, expires_at: grant.expires_at, grant: grant.id, role: grant.role });
    console.log(dsn);
    console.log(`export MYSQL_PWD='${password}'`);
    console.log(`mariadb ${args.join(' ')}`);
    console.error(`grant ${grant.id} (${grant.role}) ends ${relative(grant.expires_at)}`);
    return;
  }
  const tls = await offersTls(info.host, info.port);
  console.error(`airlock: connecting to ${resource} as ${info.user} (${grant.role}, ends ${relative(grant.expires_at)})${tls ? ' over TLS' : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-mysql-'));
  const options = join(dir, 'client.cnf');
  // Option-file values may be double-quoted with \\ and \" escapes; the secret needs none, but a quote costs nothing.
  writeFileSync(options, `[client]\npassword="${password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`, { mode: 0o600 });
  try {
    // --defaults-extra-file must come first; --ssl whenever the gateway offers TLS, so the secret never crosses in clear.
    await runClient(['mariadb', 'mysql'], [`--defaults-extra-file=${options}`, ...(tls ? ['--ssl'] : []), ...args]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first client program that exists, with the terminal; its exit code becomes ours. */
async function runClient(programs: readonly string[], args: readonly string[]): Promise<void> {
  for (const program of programs) {
    const started = await new Promise<boolean>((resolve) => {
      const child = spawn(program, args, { stdio: 'inherit' });
      child.once('error', () => resolve(false));
      child.once('exit', (code) => {
        process.exitCode = code ?? 1;
        resolve(true);
      });
    });
    if (started) return;
  }
  throw new AirlockError('mysql_client_missing', 'unavailable', `could not run ${programs.join(' or ')}; install the mariadb-client package, or use --print to connect with another client`);
}

/** Reads the gateway's handshake (no credential sent) and says whether it offers TLS (CLIENT_SSL). */
function offersTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = Buffer.alloc(0);
    const done = (tls: boolean) => {
      socket.destroy();
      resolve(tls);
    };
    socket.setTimeout(5_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < 4 + data.readUIntLE(0, 3)) return;
      // Protocol 10: version string, NUL, thread id (4), scramble part (8), filler (1), capability flags (2).
      const nul = data.indexOf(0, 5);
      const at = nul + 1 + 4 + 8 + 1;
      done(data[4] === 10 && nul > 0 && data.length >= at + 2 && (data.readUInt16LE(at) & 0x0800) !== 0);
    });
  });
}

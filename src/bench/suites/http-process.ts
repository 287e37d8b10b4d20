import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bench's handle on one of the HTTP bench's servers (http-peer.ts), each a process of its own. */

/** What a GET of the admin API answers in the bench: a small JSON object, like RabbitMQ's `/api/overview` trimmed down. */
export const SMALL_BODY = JSON.stringify({ management_version: '3.12.1', cluster_name: 'bench@localhost', queue_totals: { messages: 0 } });
export const BENCH_RESOURCE = 'bench-api';
export const BENCH_USER = 'bencher';

export interface HttpPeer {
  readonly port: number;
  readonly pid: number;
  /** Airlock only: the grant's user and secret, for Basic auth. */
  readonly user?: string;
  readonly secret?: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

export async function startHttpPeer(mode: 'upstream' | 'proxy' | 'airlock', upstreamPort?: number, opts: { cpuProfDir?: string } = {}): Promise<HttpPeer> {
  const entry = fileURLToPath(new URL('./http-peer.js', import.meta.url));
  const execArgv = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const args = upstreamPort === undefined ? [mode] : [mode, String(upstreamPort)];
  // stdout is the harness's table: the peers get none of it.
  const child = fork(entry, args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const hello = await new Promise<{ port: number; user?: string; secret?: string }>((resolve, reject) => {
    child.once('message', (m: { port?: unknown; user?: string; secret?: string }) =>
      typeof m.port === 'number' ? resolve({ port: m.port, user: m.user, secret: m.secret }) : reject(new Error(`http ${mode}: unexpected message`)),
    );
    child.once('error', reject);
    void exited.then(() => reject(new Error(`http ${mode} exited before listening (exit code ${child.exitCode ?? child.signalCode})`)));
    timer = setTimeout(() => reject(new Error(`http ${mode} did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  })
    .catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    })
    .finally(() => clearTimeout(timer));
  return {
    ...hello,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The bench's handle on the byte relay (see byte-relay.ts): a child process
 * of its own, like the gateway, so the relay's event loop competes with
 * pgbench and PostgreSQL exactly as the gateway's does — and never with the
 * harness's.
 */
export interface RelayProcess {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 5_000;

/** The line of a dead relay's stderr worth a note: the error itself, not the stack frame Node prints above it. */
function reason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(\w*Error\b|byte-relay:)/.test(l)) ?? lines[0] ?? 'no output';
}

export async function startRelayProcess(upstream: { readonly host: string; readonly port: number }): Promise<RelayProcess> {
  const entry = fileURLToPath(new URL('./byte-relay.js', import.meta.url));
  // execArgv: [] so harness flags (a CPU profile, say) never reach the relay; stdout is the harness's table, so the relay gets none of it.
  const child = fork(entry, [upstream.host, String(upstream.port)], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  // Until it listens, what the relay says goes into the note that it did not start; after that, to the harness's stderr.
  let startupErr = '';
  const keep = (d: Buffer) => (startupErr += d.toString());
  child.stderr?.on('data', keep);
  // 'close', not 'exit': by then the dead relay's stderr has been read to the end.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // The relay listens on port 0 and reports the port the system gave it: no window between probing a free port and binding it.
  let timer: NodeJS.Timeout | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port?: unknown }) => (typeof m.port === 'number' ? resolve(m.port) : reject(new Error(`byte relay: unexpected message ${JSON.stringify(m)}`))));
    child.once('error', reject);
    void exited.then(() => reject(new Error(`byte relay exited before listening (exit code ${child.exitCode ?? child.signalCode}): ${reason(startupErr)}`)));
    timer = setTimeout(() => reject(new Error(`byte relay did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  }).finally(() => clearTimeout(timer));
  child.stderr?.off('data', keep);
  child.stderr?.pipe(process.stderr, { end: false });
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // A relay holds no state: SIGTERM ends it at once; SIGKILL only if that somehow does not.
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

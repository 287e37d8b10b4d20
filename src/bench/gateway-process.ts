import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Envelope, GatewayReplies, GatewayRequest, GatewayStart, Reply } from './gateway-protocol.js';

/** The bench's handle on one gateway process (see gateway-child.ts). */
export interface GatewayProcess {
  readonly port: number;
  readonly pid: number;
  call<K extends GatewayRequest['op']>(req: Extract<GatewayRequest, { op: K }>): Promise<GatewayReplies[K]>;
  stop(): Promise<void>;
}

export async function startGatewayProcess(start: GatewayStart, opts: { cpuProfDir?: string } = {}): Promise<GatewayProcess> {
  const entry = fileURLToPath(new URL('./gateway-child.js', import.meta.url));
  const execArgv = ['--expose-gc'];
  if (opts.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const child: ChildProcess = fork(entry, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(`gateway process: ${m.error}`));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error('the gateway process exited'));
    waiting.clear();
  });

  function call<K extends GatewayRequest['op']>(req: Extract<GatewayRequest, { op: K }>): Promise<GatewayReplies[K]> {
    const id = next++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id } satisfies Envelope<GatewayRequest>);
    });
  }

  const started = await call({ op: 'start', start });
  return {
    port: started.port,
    pid: started.pid,
    call,
    async stop() {
      if (child.exitCode !== null) return;
      // A bounded wait: a gateway that hangs on close is killed, not waited on forever.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await call({ op: 'stop' }).catch(() => undefined);
      await exited;
      clearTimeout(timer);
    },
  };
}

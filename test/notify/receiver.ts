import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type ReceiverMode = 'ok' | 'fail' | 'hang';

/**
 * A real webhook receiver on a free port. It can answer 200, answer 503, hold
 * every response open ("hang"), or stop listening altogether (`down`) and
 * come back on the same port (`up`).
 */
export async function startReceiver() {
  const deliveries: Delivery[] = [];
  const hung: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  let mode: ReceiverMode = 'ok';
  let onDelivery: (() => void) | null = null;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      onDelivery?.();
      if (mode === 'hang') hung.push(res);
      else res.writeHead(mode === 'ok' ? 200 : 503).end(mode === 'ok' ? 'ok' : 'down for maintenance');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    setMode(m: ReceiverMode) {
      mode = m;
    },
    /** Resolves once `n` deliveries have arrived in total (no timers: it waits on arrivals). */
    until(n: number): Promise<void> {
      if (deliveries.length >= n) return Promise.resolve();
      return new Promise((resolve) => {
        onDelivery = () => {
          if (deliveries.length >= n) {
            onDelivery = null;
            resolve();
          }
        };
      });
    },
    /** Answers every held response now. */
    release() {
      for (const res of hung.splice(0)) res.writeHead(200).end('ok');
    },
    async down() {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
    async up() {
      await new Promise<void>((r, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => r());
      });
    },
    async close() {
      this.release();
      if (server.listening) await this.down();
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

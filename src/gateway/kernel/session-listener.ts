import net from 'node:net';
import type { SessionSummary } from './gateway-session.js';
import type { GatewayKernel } from './kernel.js';

/**
 * The TCP side every connection-oriented adapter shares: listen, cap the
 * connections still signing in (in all and per client address), and on
 * close, cut every session through the kernel. Idle sockets that never sign
 * in cannot take every file descriptor from the sessions and the API.
 */

export interface SessionListenerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly kernel: GatewayKernel;
  /** Connections still signing in, at most this many in all and from one address (defaults 1,000 and 100). */
  readonly signingIn?: { readonly total?: number; readonly perAddress?: number };
  /** Runs one connection; `signedIn` resolves once its sign-in is over, whichever way it went. */
  accept(socket: net.Socket): { readonly signedIn: Promise<void> };
  /** Tells the client, in the protocol's own words, that too many connections are signing in, and closes. */
  refuseBusy(socket: net.Socket, fromThisAddress: boolean): void;
}

export interface SessionListener {
  address(): { host: string; port: number };
  sessions(): SessionSummary[];
  /** Stops accepting, cuts every session (reason `shutdown`) and waits for their records. */
  close(): Promise<void>;
}

export async function listenForSessions(opts: SessionListenerOptions): Promise<SessionListener> {
  const maxTotal = opts.signingIn?.total ?? 1000;
  const maxPerAddress = opts.signingIn?.perAddress ?? 100;
  const signingIn = new Map<string, number>();
  let total = 0;
  const server = net.createServer((socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromHere = signingIn.get(address) ?? 0;
    if (total >= maxTotal || fromHere >= maxPerAddress) {
      socket.on('error', () => undefined);
      opts.refuseBusy(socket, fromHere >= maxPerAddress);
      // A client that does not read its refusal must not hold the socket.
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    total++;
    signingIn.set(address, fromHere + 1);
    void opts.accept(socket).signedIn.then(() => {
      total--;
      const left = (signingIn.get(address) ?? 1) - 1;
      if (left > 0) signingIn.set(address, left);
      else signingIn.delete(address);
    });
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address() {
      const a = server.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    },
    sessions: () => opts.kernel.sessions(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await opts.kernel.shutdown('airlock: the gateway is shutting down');
      await closed;
    },
  };
}

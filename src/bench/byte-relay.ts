import net from 'node:net';

/**
 * The bench's "relay" path, in a process of its own: a bare Node.js TCP relay
 * in front of PostgreSQL. It parses nothing, checks nothing and records
 * nothing — client bytes go to the upstream socket and back as they arrive.
 * It is the cheapest thing any Node.js proxy can be, so its throughput is
 * the floor one more Node hop sets on this machine: what separates it from
 * direct is the hop, what separates Airlock from it is Airlock's own work.
 *
 * Usage (by relay-process.ts): `node byte-relay.js <upstream host> <upstream port>`,
 * over an IPC channel; it listens on 127.0.0.1, port 0, and sends `{ port }`
 * back once it accepts connections.
 */

const [host, portText] = process.argv.slice(2);
const upstreamPort = Number(portText);
if (!host || !Number.isInteger(upstreamPort) || !process.send) {
  process.stderr.write('byte-relay: usage: fork byte-relay.js <upstream host> <upstream port> (with an IPC channel)\n');
  process.exit(2);
}
const UPSTREAM = { host, port: upstreamPort };

function relay(client: net.Socket): void {
  // No Nagle on either leg: each protocol message is one small write, and waiting to coalesce would add latency no real proxy accepts.
  client.setNoDelay(true);
  const upstream = net.connect({ ...UPSTREAM, noDelay: true });
  // pipe() forwards each chunk as it arrives and pauses the reader while the writer is full.
  client.pipe(upstream);
  upstream.pipe(client);
  // Both legs live and die together. When one socket closes, the other is closed too, but only after the bytes already
  // relayed to it are written (a PostgreSQL error sent just before the server hangs up must still reach the client).
  const closeWhenGone = (gone: net.Socket, other: net.Socket) => gone.once('close', () => other.end(() => other.destroy()));
  closeWhenGone(client, upstream);
  closeWhenGone(upstream, client);
  // A failed socket has nothing left to deliver: both go at once.
  const fail = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', fail);
  upstream.on('error', fail);
}

const listener = net.createServer(relay);
listener.listen(0, '127.0.0.1', () => {
  process.send!({ port: (listener.address() as net.AddressInfo).port });
});
// The harness ends the relay with SIGTERM (the default action exits at once, which is all a relay needs); should the harness die first, the IPC channel closes and the relay must not outlive it.
process.on('disconnect', () => process.exit(0));

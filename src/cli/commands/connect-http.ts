import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AirlockError } from '../../core/errors.js';
import type { GrantView } from '../../server/views.js';
import { printJson, relative } from '../output.js';

/**
 * `airlock connect <http resource>`: a listener on 127.0.0.1 that adds the
 * grant (Basic auth: Airlock user and grant secret) and the resource's Host to
 * every request and passes it to the gateway, so `curl http://127.0.0.1:PORT/…`
 * works with no credential on its command line. `--print` shows the gateway
 * URL and the per-grant credential instead. The upstream's own credential
 * never leaves the gateway.
 */

export interface HttpConnectInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The gateway serves HTTPS (`gateway.http.tls`); its certificate is verified (NODE_EXTRA_CA_CERTS for a private CA). */
  readonly tls?: boolean;
}

export interface HttpConnectOptions {
  readonly print?: boolean;
  readonly json?: boolean;
  readonly port?: string;
}

/** Each http resource is an origin of its own on the gateway: `<resource>.<public host>`. */
export function gatewayUrl(resource: string, info: HttpConnectInfo): string {
  return `${info.tls ? 'https' : 'http'}://${resource}.${info.host}:${info.port}/`;
}

/** Where to open the TCP connection: `*.localhost` is this machine, whatever the resolver says. */
function dialHost(host: string): string {
  return host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : host;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

export interface LocalListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function startLocalListener(resource: string, info: HttpConnectInfo, secret: string, port = 0): Promise<LocalListener> {
  const url = new URL(gatewayUrl(resource, info));
  const authorization = `Basic ${Buffer.from(`${info.user}:${secret}`).toString('base64')}`;
  // Over TLS the gateway's certificate names <resource>.<host>, not the 127.0.0.1 dialled for *.localhost: SNI and the check use the name.
  const transport = info.tls ? https : http;
  const tlsName = info.tls ? { servername: url.hostname } : {};
  const agent = info.tls ? new https.Agent({ keepAlive: true, ...tlsName }) : new http.Agent({ keepAlive: true });
  const headersFor = (req: http.IncomingMessage): http.OutgoingHttpHeaders => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
    return { ...out, host: url.host, authorization };
  };
  const server = http.createServer((req, res) => {
    const up = transport.request({ host: dialHost(url.hostname), port: url.port, method: req.method, path: req.url, headers: headersFor(req), agent, ...tlsName });
    up.on('response', (upRes) => {
      const headers: string[] = [];
      for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(upRes.rawHeaders[i]!.toLowerCase())) headers.push(upRes.rawHeaders[i]!, upRes.rawHeaders[i + 1]!);
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      res.flushHeaders();
      upRes.pipe(res);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'gateway_unreachable', message: `airlock: cannot reach the gateway at ${url.host} (${err.code ?? err.message})` } }) + '\n');
    });
    res.on('close', () => !res.writableFinished && up.destroy());
    req.pipe(up);
  });
  // WebSockets: the handshake gets the grant too, then the two sockets are joined.
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const up = transport.request({ host: dialHost(url.hostname), port: url.port, method: req.method, path: req.url, headers: { ...headersFor(req), connection: 'Upgrade', upgrade: req.headers.upgrade ?? 'websocket' }, ...tlsName });
    up.on('upgrade', (upRes, upSocket, upHead) => {
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.pipe(socket).pipe(upSocket);
      upSocket.on('error', () => socket.destroy());
      socket.on('error', () => upSocket.destroy());
    });
    up.on('response', (upRes) => {
      socket.write(`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\nconnection: close\r\n\r\n`);
      upRes.pipe(socket);
    });
    up.on('error', () => socket.destroy());
    up.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new AirlockError('listen_failed', 'unavailable', `could not listen on 127.0.0.1:${port} (${err.code ?? err.message}); pick another with --port`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

export async function connectHttp(resource: string, info: HttpConnectInfo, grant: GrantView, secret: string, opts: HttpConnectOptions): Promise<void> {
  const url = gatewayUrl(resource, info);
  if (opts.print || opts.json) {
    if (opts.json) {
      return printJson({ kind: 'http', url, user: info.user, password: secret, sign_in: `${url}.airlock/sign-in`, expires_at: grant.expires_at, grant: grant.id, role: grant.role });
    }
    console.log(url);
    console.log(`export AIRLOCK_HTTP_USER='${info.user}' AIRLOCK_HTTP_SECRET='${secret}'`);
    console.log(`# curl -u "$AIRLOCK_HTTP_USER:$AIRLOCK_HTTP_SECRET" ${url}`);
    console.log(`# browser: ${url}.airlock/sign-in`);
    console.error(`grant ${grant.id} (${grant.role}) ends ${relative(grant.expires_at)}`);
    return;
  }
  const listener = await startLocalListener(resource, info, secret, opts.port === undefined ? 0 : Number(opts.port));
  console.log(`http://127.0.0.1:${listener.port}/`);
  console.error(`airlock: ${resource} at http://127.0.0.1:${listener.port}/ as ${info.user} (${grant.role}, ends ${relative(grant.expires_at)}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = () => void listener.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

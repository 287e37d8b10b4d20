import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { startAirlock } from '../../server/airlock.js';
import { BENCH_RESOURCE, BENCH_USER, SMALL_BODY } from './http-process.js';

/**
 * The three servers of the HTTP bench, each in a process of its own (forked
 * by http-process.ts) so none shares an event loop with the load generator
 * or with another:
 *
 * - `upstream`: a small JSON answer to every GET, the admin API stand-in;
 * - `proxy PORT`: a bare Node.js reverse proxy in front of it (node:http
 *   server + keep-alive node:http client, the body piped both ways), the
 *   cheapest thing an HTTP proxy in Node can be: no policy, no audit;
 * - `airlock PORT`: Airlock as `airlock server` composes it (control plane on
 *   a temp SQLite store, HTTP gateway, write-ahead intents and the audit
 *   chain), with one real grant whose user and secret it reports.
 *
 * Each listens on 127.0.0.1, port 0, and sends `{ port, … }` over IPC.
 */


function upstream(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(SMALL_BODY) });
    res.end(SMALL_BODY);
  });
}

function bareProxy(upstreamPort: number): http.Server {
  const agent = new http.Agent({ keepAlive: true });
  return http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(up);
  });
}

function airlockYaml(upstreamPort: number): string {
  return `
store: sqlite:airlock.db
users:
  - { name: ${BENCH_USER}, groups: [bench] }
resources:
  - name: ${BENCH_RESOURCE}
    kind: http
    upstream: { url: "http://127.0.0.1:${upstreamPort}" }
    labels: { env: bench }
    roles:
      read:
        credential: { user: bench, password_env: BENCH_HTTP_PASSWORD }
        http: { allow: ["GET /api/**"], deny: ["* /api/users/**"] }
policies:
  - { name: bench, who: { groups: [bench] }, resources: { labels: { env: bench } }, roles: [read], max_duration: 4h, approval: none }
gateway:
  http: { listen: "127.0.0.1:0" }
`;
}

async function airlock(upstreamPort: number): Promise<{ port: number; user: string; secret: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-http-'));
  const air = await startAirlock(parseConfig(airlockYaml(upstreamPort), 'airlock.yaml', dir), {
    listen: '127.0.0.1:0',
    gatewayListen: { http: '127.0.0.1:0' },
    env: { BENCH_HTTP_PASSWORD: 'not-a-real-password' },
  });
  const user = air.directory.users.get(BENCH_USER)!;
  const asked = await air.lifecycle.request(user, { resource: BENCH_RESOURCE, role: 'read', durationSeconds: 3600, reason: 'bench' });
  if (!asked.grant) throw new Error('the bench policy must grant without review');
  const { secret } = await air.lifecycle.issueSecret(user, asked.grant.id);
  return {
    port: air.running.get('http')!.address().port,
    user: BENCH_USER,
    secret,
    async close() {
      await air.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function main(): Promise<void> {
  const [mode, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (!process.send) throw new Error('http-peer: fork me with an IPC channel');
  let close: () => Promise<void> = async () => undefined;
  if (mode === 'upstream') {
    process.send({ port: await listen(upstream()) });
  } else if (mode === 'proxy' && Number.isInteger(port)) {
    process.send({ port: await listen(bareProxy(port)) });
  } else if (mode === 'airlock' && Number.isInteger(port)) {
    const a = await airlock(port);
    close = a.close;
    process.send({ port: a.port, user: a.user, secret: a.secret });
  } else {
    throw new Error('http-peer: usage: http-peer.js upstream | proxy PORT | airlock PORT');
  }
  // The harness ends a peer with SIGTERM; Airlock's store is closed first so its temp folder goes too.
  const stop = () => void close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`http-peer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

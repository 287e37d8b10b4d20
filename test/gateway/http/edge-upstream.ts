import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * The tests' own small upstream for the cases RabbitMQ does not offer:
 * an echo of what arrived (to prove what was forwarded), server-sent events,
 * large bodies both ways, redirects, and a WebSocket echo (RFC 6455
 * handshake and frames on a real socket).
 */

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  readonly bodyBytes: number;
}

export interface EdgeUpstream {
  readonly url: string;
  readonly port: number;
  /** Every request that reached the upstream, in order. */
  readonly seen: Seen[];
  /** Open SSE and WebSocket connections the upstream still holds. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function startEdgeUpstream(): Promise<EdgeUpstream> {
  const seen: Seen[] = [];
  const streams = new Set<Duplex | http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes });
      route(req, res, bodyBytes);
    });
  });
  const port = () => (server.address() as AddressInfo).port;
  const route = (req: http.IncomingMessage, res: http.ServerResponse, bodyBytes: number) => {
    const url = new URL(req.url!, 'http://upstream');
    if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      streams.add(res);
      let n = 0;
      const tick = setInterval(() => res.write(`id: ${++n}\ndata: tick ${n}\n\n`), 20);
      res.on('close', () => {
        clearInterval(tick);
        streams.delete(res);
      });
      return;
    }
    if (url.pathname === '/big') {
      const total = Number(url.searchParams.get('bytes') ?? 8 * 1024 * 1024);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
          sent += part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port()}/echo/after-redirect?from=redirect` });
      return res.end();
    }
    if (url.pathname === '/redirect-away') {
      res.writeHead(302, { location: 'https://elsewhere.example/x' });
      return res.end();
    }
    if (url.pathname === '/cookies') {
      res.writeHead(200, [['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2; Path=/'], ['content-type', 'text/plain']].flat());
      return res.end('ok');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyBytes }));
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0 });
    const key = req.headers['sec-websocket-key'] as string;
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    streams.add(socket);
    socket.on('close', () => streams.delete(socket));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let frame = readFrame(buffer); frame; frame = readFrame(buffer)) {
        buffer = buffer.subarray(frame.size);
        if (frame.opcode === 0x8) return void socket.end(encodeFrame(0x8, frame.payload, false));
        if (frame.opcode === 0x1) socket.write(encodeFrame(0x1, Buffer.from(`echo: ${frame.payload.toString()}`), false));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port()}`,
    port: port(),
    seen,
    openStreams: () => streams.size,
    close: () =>
      new Promise((resolve) => {
        for (const s of streams) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Frame {
  readonly opcode: number;
  readonly payload: Buffer;
  readonly size: number;
}

export function readFrame(buf: Buffer): Frame | null {
  if (buf.length < 2) return null;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const maskAt = at;
  if (masked) at += 4;
  if (buf.length < at + len) return null;
  const payload = Buffer.from(buf.subarray(at, at + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
  return { opcode: buf[0]! & 0x0f, payload, size: at + len };
}

export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  if (payload.length > 125) throw new Error('test frames stay small');
  const key = mask ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | payload.length]), key, body]);
}

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { upstreamRequestHeaders } from './forwarded-headers.js';
import type { CheckedRequest } from './request-check.js';
import type { HttpRequestIntent, HttpRequestOutcome } from './request-record.js';
import type { UpstreamTarget } from './upstream-target.js';

/**
 * An allowed, recorded WebSocket upgrade: the handshake goes upstream with
 * the role's credential; on 101 the two sockets are joined byte for byte. On
 * a cut the client gets a close frame (1008, policy violation) carrying the
 * reason, then its socket ends.
 */

export interface WebSocketInput {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly checked: CheckedRequest;
  readonly intent: HttpRequestIntent;
  readonly upstream: UpstreamTarget;
  readonly credential: readonly [string, string] | null;
  readonly airlockCookies: readonly string[];
  readonly now: () => Date;
  readonly resource: string;
  readonly done: (outcome: HttpRequestOutcome) => void;
}

export interface WebSocketRelay {
  /** Stops the upstream side and says goodbye to the client; true: the socket was ended gracefully. */
  cut(message: string): boolean;
}

export function startWebSocket(input: WebSocketInput): WebSocketRelay {
  const { req, socket, checked, intent, upstream } = input;
  const headers = upstreamRequestHeaders(req.rawHeaders, {
    airlockCookies: input.airlockCookies,
    credential: input.credential,
    contentLength: 0,
    websocket: true,
  });
  headers.push(['host', upstream.hostHeader]);
  const path = upstream.prefix + checked.target.rawPath + (checked.target.rawQuery === null ? '' : `?${checked.target.rawQuery}`);
  const upReq = upstream.request({ method: 'GET', path, headers: headers.flat() as unknown as Record<string, string> }, false);
  let upSocket: Duplex | null = null;
  let status: number | null = null;
  let up = 0;
  let down = 0;
  let ended: HttpRequestOutcome['ended'] = 'complete';
  let joined = false;

  const finish = () => {
    input.done({
      ...intent,
      status,
      refused: false,
      refusal: null,
      requestBytes: up,
      responseBytes: down,
      durationMs: input.now().getTime() - intent.startedAt.getTime(),
      ended,
    });
  };
  socket.once('close', () => {
    if (ended === 'complete' && !joined) ended = 'client_closed';
    upReq.destroy();
    upSocket?.destroy();
    finish();
  });
  socket.on('error', () => socket.destroy());

  upReq.on('upgrade', (upRes, s, upHead) => {
    upSocket = s;
    status = 101;
    joined = true;
    if (socket.destroyed) return s.destroy();
    socket.write(responseHead(101, 'Switching Protocols', upRes.rawHeaders, true));
    if (upHead.length > 0) socket.write(upHead);
    if (input.head.length > 0) s.write(input.head);
    s.on('data', (chunk: Buffer) => (down += chunk.length));
    socket.on('data', (chunk: Buffer) => (up += chunk.length));
    s.pipe(socket);
    socket.pipe(s);
    s.on('error', () => socket.destroy());
    s.on('close', () => socket.end());
  });
  // The upstream answered the handshake with a plain response (404, 401…): pass it on and close.
  upReq.on('response', (upRes) => {
    status = upRes.statusCode ?? 502;
    socket.write(responseHead(status, upRes.statusMessage ?? '', upRes.rawHeaders, false));
    upRes.pipe(socket);
  });
  upReq.on('error', (err: NodeJS.ErrnoException) => {
    ended = 'upstream_error';
    if (status !== null) return socket.destroy();
    status = 502;
    const body = JSON.stringify({ error: { code: 'http_upstream_unreachable', message: `airlock: cannot reach ${input.resource} upstream (${err.code ?? 'error'})` } });
    socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  upReq.end();

  return {
    cut(message) {
      ended = 'cut';
      upReq.destroy();
      if (upSocket) {
        upSocket.unpipe(socket);
        upSocket.destroy();
      }
      if (!joined || socket.destroyed) return false;
      socket.end(closeFrame(1008, message));
      return true;
    },
  };
}

const DROP_DOWN = new Set(['connection', 'upgrade', 'transfer-encoding', 'keep-alive', 'content-length']);

function responseHead(status: number, reason: string, rawHeaders: readonly string[], upgrade: boolean): string {
  const lines = [`HTTP/1.1 ${status} ${reason.replace(/[\r\n]/g, '')}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!DROP_DOWN.has(rawHeaders[i]!.toLowerCase())) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  }
  lines.push(...(upgrade ? ['Upgrade: websocket', 'Connection: Upgrade'] : ['Connection: close']));
  return lines.join('\r\n') + '\r\n\r\n';
}

/** An unmasked server close frame; the reason is cut to the 123 bytes a control frame can carry. */
export function closeFrame(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = Buffer.from(text.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '') + '...', 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

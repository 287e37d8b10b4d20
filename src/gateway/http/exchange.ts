import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { clientResponseHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import type { CheckedRequest } from './request-check.js';
import type { HttpRequestIntent, HttpRequestOutcome } from './request-record.js';
import { type GatewayRefusalCode, refusalMessage } from './refusal.js';
import type { UpstreamTarget } from './upstream-target.js';

/**
 * One allowed, already recorded request: forwarded with the original path
 * bytes and the role's credential, the response streamed back as it comes
 * (long downloads, server-sent events), the outcome handed back when the
 * exchange ends however it ends.
 */

export interface ExchangeInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly checked: CheckedRequest;
  readonly intent: HttpRequestIntent;
  readonly upstream: UpstreamTarget;
  readonly credential: readonly [string, string] | null;
  readonly airlockCookies: readonly string[];
  readonly maxBodyBytes: number | undefined;
  readonly recordBodyBytes: number | undefined;
  readonly expectContinue: boolean;
  /** A form body already read whole (form-override.ts), sent instead of the request stream. */
  readonly formBody?: Buffer;
  readonly now: () => Date;
  readonly resource: string;
  readonly role: string;
  /** Sends a refusal if no response has started yet (upstream unreachable, body over the limit). */
  readonly refuse: (status: number, code: GatewayRefusalCode, message: string) => void;
  readonly done: (outcome: HttpRequestOutcome) => void;
}

export interface Exchange {
  /**
   * Ends the exchange now (cut): the upstream request is dropped. The client
   * gets `message` when that can be said in the response's own terms: as the
   * answer when none has started, as a last event on a server-sent event
   * stream. True when it was said (the socket then ends on its own).
   */
  abort(message: string): boolean;
}

export function startExchange(input: ExchangeInput): Exchange {
  const { req, res, checked, intent, upstream } = input;
  const headers = upstreamRequestHeaders(req.rawHeaders, {
    airlockCookies: input.airlockCookies,
    credential: input.credential,
    contentLength: checked.contentLength,
    websocket: false,
  });
  headers.push(['host', upstream.hostHeader]);
  const path = upstream.prefix + checked.target.rawPath + (checked.target.rawQuery === null ? '' : `?${checked.target.rawQuery}`);
  const upReq = upstream.request({ method: req.method, path, headers: headers.flat() as unknown as Record<string, string> }, true);

  let responseBytes = 0;
  let status: number | null = null;
  let ended: HttpRequestOutcome['ended'] = 'complete';
  let refusal: string | null = null;
  const body = new BodyMeter(input.maxBodyBytes, input.recordBodyBytes);

  body.on('error', () => {
    refusal = 'http_body_too_large';
    upReq.destroy();
    input.refuse(413, 'http_body_too_large', refusalMessage(input.resource, input.role, `a body over ${input.maxBodyBytes} bytes`));
  });
  upReq.on('error', (err: NodeJS.ErrnoException) => {
    if (refusal || res.writableEnded) return;
    ended = 'upstream_error';
    if (!res.headersSent) input.refuse(502, 'http_upstream_unreachable', `airlock: cannot reach ${input.resource} upstream (${err.code ?? 'error'})`);
    else res.destroy();
  });
  let eventStream = false;
  let upResponse: IncomingMessage | null = null;
  upReq.on('response', (upRes) => {
    upResponse = upRes;
    status = upRes.statusCode ?? 502;
    eventStream = /^text\/event-stream/i.test(upRes.headers['content-type'] ?? '');
    res.writeHead(status, upRes.statusMessage, clientResponseHeaders(upRes.rawHeaders, { upstreamBase: upstream.base }));
    // A stream (server-sent events, a chunked watch) shows the client its head before the first event. Any other
    // response's head goes out with its body, in one write: flushing it alone cost a write(2) per request.
    if (eventStream || upRes.headers['content-length'] === undefined) res.flushHeaders();
    upRes.on('data', (chunk: Buffer) => (responseBytes += chunk.length));
    // After a cut the client's last words are still being written: the upstream's end must not drop them.
    upRes.on('error', () => ended !== 'cut' && res.destroy());
    upRes.pipe(res);
  });
  res.on('close', () => {
    if (!res.writableFinished && ended === 'complete') ended = req.socket.destroyed ? 'client_closed' : 'upstream_error';
    upReq.destroy();
    const recorded = body.recorded();
    input.done({
      ...intent,
      status: res.headersSent ? res.statusCode : status,
      refused: refusal !== null,
      refusal,
      requestBytes: body.bytes,
      responseBytes,
      durationMs: input.now().getTime() - intent.startedAt.getTime(),
      ended,
      ...(recorded ? { body: recorded } : {}),
    });
  });

  if (input.expectContinue) res.writeContinue();
  if (checked.contentLength === 0) upReq.end();
  else if (input.formBody) {
    body.pipe(upReq);
    body.end(input.formBody);
  }
  else req.pipe(body).pipe(upReq);
  return {
    abort(message) {
      ended = 'cut';
      upReq.destroy();
      if (!res.headersSent) {
        input.refuse(403, 'http_session_ended', message);
        return true;
      }
      if (eventStream && !res.writableEnded) {
        upResponse?.unpipe(res);
        // A blank line first ends any event the upstream left half-written; then one event that says why.
        res.end(`\n\nevent: airlock\ndata: ${message.replace(/[\r\n]+/g, ' ')}\n\n`);
        return true;
      }
      return false;
    },
  };
}

/** Counts the request body on its way up, stops it at the role's limit, keeps its first bytes if asked. */
class BodyMeter extends Transform {
  bytes = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;

  constructor(
    private readonly max: number | undefined,
    private readonly record: number | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.max !== undefined && this.bytes > this.max) return callback(new Error('body over the limit'));
    if (this.record !== undefined && this.keptBytes < this.record) {
      const part = chunk.subarray(0, this.record - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    callback(null, chunk);
  }

  recorded(): HttpRequestOutcome['body'] | undefined {
    if (this.record === undefined || this.bytes === 0) return undefined;
    return { text: Buffer.concat(this.kept).toString('utf8'), bytes: this.bytes, truncated: this.bytes > this.keptBytes };
  }
}

import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { invalid } from '../../core/errors.js';
import type { AuditTail, TailEvent } from '../audit-tail.js';
import type { ApiEnv } from '../context.js';

export interface EventStreamOptions {
  /** A comment line this often keeps proxies and load balancers from closing an idle stream (default 15 s). */
  readonly heartbeatMs?: number;
  /** A client further behind than this gets one `reset` (refetch everything) instead of a replay (default 2000). */
  readonly replayLimit?: number;
}

/**
 * What each `change` event carries: the audit seq (also its SSE id) and the
 * action, never the audit row's details — the stream is open to every
 * signed-in user, and its job is to say "something changed, refetch", while
 * the API routes decide who may read what.
 */
export function changeMessage(e: Pick<TailEvent, 'seq' | 'action' | 'at'>, count = 1) {
  return { event: 'change', id: String(e.seq), data: JSON.stringify({ seq: e.seq, action: e.action, at: e.at, ...(count > 1 ? { count } : {}) }) };
}

const isStatement = (e: TailEvent) => e.action.startsWith('statement');

/**
 * A busy session writes thousands of statement rows a second; a run of them
 * becomes one message carrying the last seq and a count. Clients only learn
 * "changed up to seq N", so nothing is lost, and resume still starts after N.
 */
export function coalesce(events: readonly TailEvent[]): Array<{ event: TailEvent; count: number }> {
  const out: Array<{ event: TailEvent; count: number }> = [];
  for (const e of events) {
    const prev = out.at(-1);
    const n = e.count ?? 1;
    if (prev && isStatement(prev.event) && isStatement(e)) out[out.length - 1] = { event: e, count: prev.count + n };
    else out.push({ event: e, count: n });
  }
  return out;
}

function parseLastId(raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw.trim())) throw invalid('invalid_event_id', 'Last-Event-ID (or ?after=) must be an audit event seq number');
  return Number(raw.trim());
}

async function pump(stream: SSEStreamingApi, tail: AuditTail, after: number | null, opts: Required<EventStreamOptions>): Promise<void> {
  const queue: TailEvent[] = [];
  let wake: (() => void) | null = null;
  // Subscribing and reading the head happen in one synchronous step, so every
  // row after `upTo` reaches `queue` and every row up to it is in the replay.
  const unsubscribe = tail.subscribe((events) => {
    queue.push(...events);
    wake?.();
  });
  stream.onAbort(() => wake?.());
  try {
    const upTo = tail.head();
    let sent = upTo;
    if (after === null) {
      await stream.writeSSE({ event: 'hello', id: String(upTo), retry: 1000, data: JSON.stringify({ head: upTo }) });
    } else {
      const missed = after < upTo ? await tail.between(after, upTo, opts.replayLimit + 1) : [];
      if (missed.length > opts.replayLimit) {
        await stream.writeSSE({ event: 'reset', id: String(upTo), retry: 1000, data: JSON.stringify({ head: upTo }) });
      } else {
        await stream.writeSSE({ event: 'hello', retry: 1000, data: JSON.stringify({ head: upTo, replayed: missed.length }) });
        for (const m of coalesce(missed)) await stream.writeSSE(changeMessage(m.event, m.count));
      }
    }
    while (!stream.aborted && !stream.closed) {
      if (queue.length > opts.replayLimit) {
        // A client that does not read must not make the server hold every change for it:
        // drop what is queued and tell it to reload from the current head.
        const head = queue[queue.length - 1]!.seq;
        queue.length = 0;
        await stream.writeSSE({ event: 'reset', id: String(head), retry: 1000, data: JSON.stringify({ head }) });
        sent = head;
        continue;
      }
      const batch = queue.splice(0).filter((e) => e.seq > sent);
      for (const m of coalesce(batch)) {
        await stream.writeSSE(changeMessage(m.event, m.count));
        sent = m.event.seq;
      }
      if (batch.length > 0) continue;
      let timer: NodeJS.Timeout | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), opts.heartbeatMs);
      });
      clearTimeout(timer);
      wake = null;
      if (!woken && !stream.aborted) await stream.write(': keepalive\n\n');
    }
  } finally {
    unsubscribe();
  }
}

/**
 * `GET /api/events`: Server-Sent Events, one `change` per audit row, with the
 * row's seq as the event id. A reconnecting client (EventSource sends
 * `Last-Event-ID` itself; `?after=` does the same by hand) is first replayed
 * everything after that seq, then goes live, so nothing is missed across a
 * dropped connection or a server restart.
 */
export function eventRoutes(tail: AuditTail, options: EventStreamOptions = {}) {
  const opts: Required<EventStreamOptions> = { heartbeatMs: options.heartbeatMs ?? 15_000, replayLimit: options.replayLimit ?? 2000 };
  const app = new Hono<ApiEnv>();
  app.get('/', (c) => {
    const after = parseLastId(c.req.header('last-event-id') ?? c.req.query('after'));
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, (stream) => pump(stream, tail, after, opts));
  });
  return app;
}

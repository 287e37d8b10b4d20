import { performance } from 'node:perf_hooks';
import type { Intent, Outcome } from '../kernel/gateway-session.js';
import { Backend, TxStatus } from './protocol/codes.js';
import { parseErrorFields, readyForQuery, rowsFromTag } from './protocol/messages.js';
import type { ChangeOutcome } from './prepared-names.js';

/**
 * The upstream → client half of a session. Upstream bytes are forwarded as
 * they arrive, without re-encoding; only message headers are parsed, and only
 * the few messages that close a statement (CommandComplete, ErrorResponse,
 * ReadyForQuery, …) are read.
 *
 * A FIFO of what the upstream still owes mirrors what was forwarded, so that
 * (a) each result is attributed to the statement that produced it, and
 * (b) answers the gateway makes up itself (a refusal) reach the client in the
 * position a real server would have sent them, even when the client pipelines.
 */

/** Told what became of a forwarded message once the upstream answered it (or skipped it after an error). */
export type Settle = (outcome: ChangeOutcome) => void;

type Pending =
  /** `n` more of ParseComplete/BindComplete/CloseComplete/RowDescription/NoData. */
  | { kind: 'replies'; n: number }
  /** One of those whose outcome someone waits for (a Parse, Bind or Close: prepared-names.ts). */
  | { kind: 'reply'; settle: Settle }
  | { kind: 'execute'; text: string; intent: Intent | null; startedAt: number; settle?: Settle }
  | { kind: 'query'; text: string; intent: Intent | null; startedAt: number; tag?: string; rows?: number; sqlstate?: string; settle?: Settle }
  | { kind: 'sync'; settle?: Settle }
  /** Made up by the gateway; `ready` appends ReadyForQuery with the status current when it is sent. */
  | { kind: 'local'; bytes: Buffer; ready: boolean }
  /** A query the gateway runs for itself; its whole answer is swallowed. */
  | { kind: 'internal'; onMessage: (type: number, body: Buffer) => void };

/** An outcome, with the write-ahead intent it closes when the statement was forwarded. */
export type StatementOutcome = Outcome & { readonly intent?: Intent | null };

export interface TrackerSink {
  toClient(bytes: Buffer): void;
  record(outcome: StatementOutcome): void;
  /** A SET/RESET/DISCARD (or the end of a transaction that held one) may have moved search_path. */
  searchPathMayHaveChanged(): void;
  /** Gateway-made answers waiting behind the upstream fell back under the cap (see `localBytes`). */
  localDrained?(): void;
}

/**
 * Gateway-made answers (refusals) queued behind a slow upstream answer, in
 * bytes, above which the client's input is not read: a client pipelining
 * refused statements behind a long query cannot grow the queue without end.
 */
export const LOCAL_QUEUE_CAP_BYTES = 1024 * 1024;

const TERMINAL_REPLY = new Uint8Array(256);
for (const t of [Backend.ParseComplete, Backend.BindComplete, Backend.CloseComplete, Backend.RowDescription, Backend.NoData]) TERMINAL_REPLY[t] = 1;

/** Messages whose body the tracker reads; every other body is skipped over. */
const INSPECT = new Uint8Array(256);
for (const t of [Backend.CommandComplete, Backend.ErrorResponse, Backend.ReadyForQuery]) INSPECT[t] = 1;

export const NOT_SENT = 'the session ended before the statement was sent to the upstream; it did not run';

export class ResponseTracker {
  private readonly fifo: Pending[] = [];
  /** The last this-many statements in the FIFO have not been written to the upstream yet (they wait for the end of the turn). */
  private unsentStatements = 0;
  /** Bytes of gateway-made answers in the FIFO, not yet sent. */
  localBytes = 0;
  txStatus: number = TxStatus.Idle;
  private setSinceCheck = false;

  // Scanner state, carried across chunks.
  private readonly header = Buffer.alloc(5);
  private headerLen = 0;
  private type = 0;
  private remaining = 0;
  private body: Buffer | null = null;
  private bodyLen = 0;
  private swallow = false;

  // The chunk being scanned and the start of the bytes not yet forwarded from it.
  private chunk: Buffer | null = null;
  private segStart = 0;

  private stopAtBoundary: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly sink: TrackerSink) {}

  // ---- what the client side tells us it forwarded ----

  expectReply(settle?: Settle): void {
    if (settle) {
      this.fifo.push({ kind: 'reply', settle });
      return;
    }
    const last = this.fifo[this.fifo.length - 1];
    if (last?.kind === 'replies') last.n++;
    else this.fifo.push({ kind: 'replies', n: 1 });
  }

  expectExecute(text: string, intent: Intent | null = null, settle?: Settle): void {
    this.fifo.push({ kind: 'execute', text, intent, startedAt: performance.now(), settle });
    this.unsentStatements++;
  }

  expectQuery(text: string, intent: Intent | null = null, settle?: Settle): void {
    // Every field from the start: one object shape for all queries (tag, rows and sqlstate are filled in as answers arrive).
    this.fifo.push({ kind: 'query', text, intent, startedAt: performance.now(), tag: undefined, rows: undefined, sqlstate: undefined, settle });
    this.unsentStatements++;
  }

  /** Every statement expected so far has been written to the upstream. */
  sent(): void {
    this.unsentStatements = 0;
  }

  /** `settle` runs once its ReadyForQuery is in (`txStatus` is then the status it reported). */
  expectSync(settle?: Settle): void {
    this.fifo.push({ kind: 'sync', settle });
  }

  /** Queues a gateway-made answer behind everything the upstream still owes. */
  local(bytes: Buffer, opts: { ready: boolean }): void {
    this.fifo.push({ kind: 'local', bytes, ready: opts.ready });
    this.localBytes += bytes.length + LOCAL_OVERHEAD_BYTES;
    if (this.fifo.length === 1) this.drainLocal();
  }

  internal(onMessage: (type: number, body: Buffer) => void): void {
    this.fifo.push({ kind: 'internal', onMessage });
  }

  /** Nothing owed by the upstream: safe to slip in an internal query. */
  idle(): boolean {
    return this.fifo.length === 0;
  }

  /** Nothing owed, and the client's stream at a message boundary. */
  quiet(): boolean {
    return this.fifo.length === 0 && this.remaining === 0 && this.body === null && this.headerLen === 0 && !this.stopped;
  }

  /**
   * Stop forwarding once the client stream is at a message boundary, so a
   * final gateway message is never spliced into the middle of a DataRow.
   */
  stopAtNextBoundary(then: () => void): void {
    if (this.stopped || this.stopAtBoundary) return;
    this.stopAtBoundary = then;
    // A held-back partial header or a swallowed message has sent the client nothing partial.
    if ((this.remaining === 0 && this.body === null) || this.swallow) this.stop();
  }

  private send(bytes: Buffer): void {
    if (!this.stopped) this.sink.toClient(bytes);
  }

  /**
   * The session is over: statements the upstream never answered are
   * recorded as such (they may or may not have run), and those never written
   * to it (the session ended, e.g. its intents could not be written, before
   * the end of the turn sent them) as not run, so none leaves the audit
   * silently or says more than is known.
   */
  abandon(): void {
    this.localBytes = 0;
    const items = this.fifo.splice(0);
    let unsentFrom = items.length;
    for (let left = this.unsentStatements; left > 0 && unsentFrom > 0; ) {
      const kind = items[--unsentFrom]!.kind;
      if (kind === 'query' || kind === 'execute') left--;
    }
    this.unsentStatements = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if ('settle' in item) item.settle?.('skipped');
      if (item.kind === 'query' || item.kind === 'execute') {
        const sent = i < unsentFrom;
        this.sink.record({
          text: item.text,
          intent: item.intent,
          outcome: sent ? 'unknown' : 'refused',
          reason: sent ? 'the session ended before the upstream answered; the statement may or may not have run' : NOT_SENT,
          durationMs: performance.now() - item.startedAt,
        });
      }
    }
  }

  private stop(): void {
    const then = this.stopAtBoundary;
    this.stopped = true;
    this.stopAtBoundary = null;
    then?.();
  }

  // ---- upstream bytes ----

  onUpstreamData(chunk: Buffer): void {
    // After stop, nothing more reaches the client, but what the upstream still answers is attributed and recorded.
    this.chunk = chunk;
    this.segStart = 0;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.remaining === 0 && this.body === null) {
        // Between messages: read (the rest of) a header.
        const want = 5 - this.headerLen;
        if (len - pos < want) {
          // Hold back a partial header: whether it is forwarded depends on who owns the message.
          this.flushTo(pos);
          chunk.copy(this.header, this.headerLen, pos, len);
          this.headerLen += len - pos;
          this.segStart = len;
          break;
        }
        let headerStart = pos;
        if (this.headerLen > 0) {
          chunk.copy(this.header, this.headerLen, pos, pos + want);
          pos += want;
          headerStart = -1;
        } else {
          pos += 5;
        }
        const source = headerStart < 0 ? this.header : chunk;
        const at = headerStart < 0 ? 0 : headerStart;
        this.type = source[at]!;
        this.remaining = source.readInt32BE(at + 1) - 4;
        if (this.remaining < 0) this.remaining = 0;
        this.swallow = this.fifo[0]?.kind === 'internal';
        if (headerStart < 0) {
          if (!this.swallow) this.send(Buffer.from(this.header));
          this.headerLen = 0;
          this.segStart = pos;
        } else if (this.swallow) {
          this.flushTo(headerStart);
          this.segStart = pos;
        }
        if (this.swallow || INSPECT[this.type]) {
          if (len - pos >= this.remaining) {
            // Whole body in this chunk: a view, no copy.
            const body = chunk.subarray(pos, pos + this.remaining);
            pos += this.remaining;
            this.remaining = 0;
            this.finishMessage(body, pos);
            continue;
          }
          this.body = Buffer.allocUnsafe(this.remaining);
          this.bodyLen = 0;
        }
        if (this.remaining === 0) this.finishMessage(EMPTY, pos);
        continue;
      }
      const take = Math.min(this.remaining, len - pos);
      if (this.body) {
        chunk.copy(this.body, this.bodyLen, pos, pos + take);
        this.bodyLen += take;
      }
      pos += take;
      if (this.swallow) this.segStart = pos;
      this.remaining -= take;
      if (this.remaining === 0) {
        const body = this.body ?? EMPTY;
        this.body = null;
        this.finishMessage(body, pos);
      }
    }
    this.flushTo(len);
    this.chunk = null;
  }

  private flushTo(end: number): void {
    if (this.chunk && end > this.segStart) {
      this.send(this.chunk.subarray(this.segStart, end));
      this.segStart = end;
    }
  }

  private finishMessage(body: Buffer, end: number): void {
    if (this.swallow) {
      this.segStart = end;
      const head = this.fifo[0];
      if (head?.kind === 'internal') {
        head.onMessage(this.type, body);
        if (this.type === Backend.ReadyForQuery) this.pop();
      }
      this.swallow = false;
    } else {
      this.onMessage(this.type, body, end);
    }
    if (this.stopAtBoundary) {
      this.flushTo(end);
      this.stop();
    }
  }

  private onMessage(type: number, body: Buffer, end: number): void {
    const head = this.fifo[0];
    if (!head) return;
    if (TERMINAL_REPLY[type]) {
      if (head.kind === 'replies' && --head.n === 0) this.pop(end);
      else if (head.kind === 'reply') {
        this.pop(end);
        head.settle('ok');
      }
      return;
    }
    switch (type) {
      case Backend.CommandComplete:
        return this.onCommandComplete(head, body, end);
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        if (head.kind === 'execute') this.finishExecute(head, 'ok', end, type === Backend.EmptyQueryResponse ? '' : undefined);
        return;
      case Backend.ErrorResponse:
        return this.onErrorResponse(head, body, end);
      case Backend.ReadyForQuery:
        this.txStatus = body[0] ?? TxStatus.Idle;
        if (head.kind === 'query') this.finishQuery(head);
        else if (head.kind !== 'sync') this.skipToSync(end);
        {
          const done = this.fifo[0];
          if (done?.kind === 'query' || done?.kind === 'sync') {
            this.pop(end);
            done.settle?.(done.kind === 'query' && done.sqlstate ? 'error' : 'ok');
          }
        }
        return;
    }
  }

  private onCommandComplete(head: Pending, body: Buffer, end: number): void {
    const tag = body.toString('utf8', 0, Math.max(0, body.length - 1));
    this.noteSearchPathEffects(tag);
    if (head.kind === 'execute') {
      this.finishExecute(head, 'ok', end, tag);
    } else if (head.kind === 'query') {
      head.tag = tag;
      const rows = rowsFromTag(tag);
      if (rows !== undefined) head.rows = (head.rows ?? 0) + rows;
    }
  }

  private onErrorResponse(head: Pending, body: Buffer, end: number): void {
    const { sqlstate } = parseErrorFields(body);
    if (head.kind === 'query') {
      head.sqlstate ??= sqlstate;
      return;
    }
    if (head.kind !== 'execute' && head.kind !== 'replies' && head.kind !== 'reply') return;
    if (head.kind === 'execute') this.sink.record(executeOutcome(head, 'error', undefined, sqlstate));
    this.fifo.shift();
    if (head.kind !== 'replies') head.settle?.('error');
    this.skipToSync(end);
  }

  /** After an error the upstream ignores everything up to Sync; so must our bookkeeping. */
  private skipToSync(end: number): void {
    while (this.fifo.length > 0 && this.fifo[0]!.kind !== 'sync') {
      const skipped = this.fifo.shift()!;
      if ('settle' in skipped) skipped.settle?.('skipped');
      if (skipped.kind === 'execute') {
        this.sink.record({ ...executeOutcome(skipped, 'error'), reason: 'not executed: an earlier message in the same pipeline failed' });
      }
    }
    this.drainLocal(end);
  }

  private finishExecute(head: Pending & { kind: 'execute' }, outcome: 'ok' | 'error', end: number, tag?: string): void {
    this.sink.record(executeOutcome(head, outcome, tag));
    this.pop(end);
    head.settle?.(outcome);
  }

  private finishQuery(head: Pending & { kind: 'query' }): void {
    this.sink.record({
      text: head.text,
      intent: head.intent,
      outcome: head.sqlstate ? 'error' : 'ok',
      commandTag: head.tag,
      rows: head.rows,
      sqlstate: head.sqlstate,
      durationMs: performance.now() - head.startedAt,
    });
  }

  private noteSearchPathEffects(tag: string): void {
    if (tag === 'SET' || tag === 'RESET' || tag.startsWith('DISCARD')) {
      this.setSinceCheck = true;
      this.sink.searchPathMayHaveChanged();
    } else if (this.setSinceCheck && (tag === 'COMMIT' || tag === 'ROLLBACK')) {
      // SET LOCAL ends with the transaction; a rolled-back SET is undone.
      this.setSinceCheck = false;
      this.sink.searchPathMayHaveChanged();
    }
  }

  private pop(end?: number): void {
    this.fifo.shift();
    this.drainLocal(end);
  }

  /** Sends gateway-made answers that have reached the head of the queue. */
  private drainLocal(end?: number): void {
    if (this.fifo[0]?.kind !== 'local') return;
    const wasFull = this.localBytes >= LOCAL_QUEUE_CAP_BYTES;
    while (this.fifo[0]?.kind === 'local') {
      const item = this.fifo.shift() as Pending & { kind: 'local' };
      this.localBytes -= item.bytes.length + LOCAL_OVERHEAD_BYTES;
      if (end !== undefined) this.flushTo(end);
      this.send(item.bytes);
      if (item.ready) this.send(readyForQuery(this.txStatus));
    }
    if (wasFull && this.localBytes < LOCAL_QUEUE_CAP_BYTES) this.sink.localDrained?.();
  }
}

const EMPTY = Buffer.alloc(0);
/** What a queued answer costs beyond its bytes (the FIFO entry, the ReadyForQuery): an empty one still counts. */
const LOCAL_OVERHEAD_BYTES = 64;

function executeOutcome(head: Pending & { kind: 'execute' }, outcome: 'ok' | 'error', tag?: string, sqlstate?: string): StatementOutcome {
  return {
    text: head.text,
    intent: head.intent,
    outcome,
    commandTag: tag,
    rows: tag ? rowsFromTag(tag) : undefined,
    sqlstate,
    durationMs: performance.now() - head.startedAt,
  };
}

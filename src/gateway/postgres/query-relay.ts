import type net from 'node:net';
import { PgGatewayError, protocolViolation } from './errors.js';
import { Backend, Frontend, Limits, SqlState, TxStatus } from './protocol/codes.js';
import * as msg from './protocol/messages.js';
import { FrameReader, TOO_LARGE, type Frame } from './protocol/reader.js';
import { oversizedStatement } from './oversized-statement.js';
import { LOCAL_QUEUE_CAP_BYTES, ResponseTracker, type StatementOutcome } from './response-tracker.js';
import { SessionNames, unknownName } from './session-names.js';
import type { Intent } from '../kernel/gateway-session.js';
import type { StatementCheck } from './statement-check.js';
import type { SqlDecision } from './sql/check.js';
import { executedNames, mayExecute } from './sql/name-effects.js';
import { SEARCH_PATH_QUERY, searchPathFromDataRow } from './upstream.js';
import { atTurnEnd, type TurnEnd } from '../kernel/turn-end.js';

/**
 * The client → upstream half of a live session: every frontend message is
 * handled by the function named after it. Statements are checked before
 * they are forwarded; anything else is forwarded as the client sent it.
 */

export interface RelayDeps {
  readonly upstream: net.Socket;
  readonly check: StatementCheck;
  readonly txStatus: number;
  toClient(bytes: Buffer): void;
  record(outcome: StatementOutcome): void;
  /**
   * Puts a statement on record before it is forwarded; null when it cannot be (the session is being cut: forward
   * nothing). The record may wait in memory: `intentsOut` before the statement's bytes go to the upstream.
   */
  intend(text: string): Intent | null;
  /** Writes the intents `intend` left in memory; false when they could not be (the session is cut: forward nothing). */
  intentsOut(): boolean;
  /** Pauses/resumes reading from the client while a check is pending or the upstream is saturated. */
  holdClient(why: 'check' | 'upstream' | 'output', hold: boolean): void;
  /** True while the client has not read what was written to it (up to its socket's buffer): its messages wait. */
  clientFull(): boolean;
  terminate(): void;
  violation(err: PgGatewayError): void;
  /** A promise while the audit log is too far behind: nothing more is handled until it resolves. */
  auditBackpressure(): Promise<void> | undefined;
}

export class QueryRelay implements TurnEnd {
  readonly tracker: ResponseTracker;
  private readonly reader = new FrameReader({ typed: true, maxLength: Limits.messageBytes });
  /** Statements and portals the upstream holds, with the text they run (only texts that passed the check). */
  private readonly names: SessionNames;
  /** Extended-protocol messages forwarded since the last Sync. */
  private batchOpen = false;
  /** After a refusal inside an extended batch, skip to Sync as a server would after an error. */
  private discarding = false;
  private busy = false;
  private pumping = false;
  private closed = false;
  private searchPathStale = false;
  private upstreamFull = false;
  /**
   * Messages to forward, not yet written. Frames are views into the client's
   * chunk, so consecutive forwarded frames (Bind, Execute, Sync …) are one
   * contiguous range: it goes out as one write instead of a corked writev of
   * many small buffers.
   */
  private unsent: Buffer | null = null;
  /** `unsent` holds a statement whose intent may still be in memory. */
  private unsentIntent = false;
  /** Waiting for the end of the turn to send `unsent` (see turn-end.ts). */
  private turnQueued = false;

  constructor(private readonly deps: RelayDeps) {
    this.tracker = new ResponseTracker({
      toClient: (bytes) => deps.toClient(bytes),
      record: (outcome) => deps.record(outcome),
      searchPathMayHaveChanged: () => (this.searchPathStale = true),
      localDrained: () => this.resume(),
    });
    this.tracker.txStatus = deps.txStatus;
    this.names = new SessionNames(this.tracker);
    this.reader.refuseStatementsOver(deps.check.maxStatementBytes);
  }

  /** What the client sent before the end still goes out, as it did before forwards waited for the end of the turn. */
  close(): void {
    if (!this.closed) this.flushUnsent();
    this.closed = true;
  }

  turnEnded(): void {
    this.turnQueued = false;
    if (!this.closed) this.flushUnsent();
  }

  onClientData(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    this.pump();
  }

  onUpstreamData(chunk: Buffer): void {
    this.tracker.onUpstreamData(chunk);
  }

  /** The client drained what it was sent: go on with the messages it sent meanwhile. */
  resume(): void {
    if (this.closed || this.outputHeld()) return;
    this.deps.holdClient('output', false);
    this.pump();
  }

  /**
   * Answers the client has not read, or refusals queued behind a slow
   * upstream answer, past their caps: handling more messages would only
   * queue more, so they wait in the reader (and the client's socket is paused).
   */
  private outputHeld(): boolean {
    return this.deps.clientFull() || this.tracker.localBytes >= LOCAL_QUEUE_CAP_BYTES;
  }

  /** Handles buffered messages in order; a statement check or an unread output makes it wait. */
  private pump(): void {
    if (this.busy || this.closed || this.pumping) return;
    this.pumping = true;
    try {
      if (this.reader.buffered() > 0) {
        // Checked per arrival rather than per message: a pipelined burst goes through whole.
        const behind = this.deps.auditBackpressure();
        if (behind) return this.wait(behind);
      }
      while (!this.closed) {
        if (this.outputHeld()) {
          this.deps.holdClient('output', true);
          return;
        }
        let frame: Frame | null;
        try {
          frame = this.reader.next();
        } catch (err) {
          this.flushUnsent();
          this.deps.violation(err instanceof PgGatewayError ? err : protocolViolation(String(err)));
          return;
        }
        if (!frame) return;
        const pending = this.handle(frame);
        if (pending) {
          this.flushUnsent();
          this.wait(pending);
          return;
        }
      }
    } catch (err) {
      this.flushUnsent();
      this.deps.violation(err instanceof PgGatewayError ? err : protocolViolation(String(err)));
    } finally {
      this.pumping = false;
      this.sendAtTurnEnd();
    }
  }

  private wait(pending: Promise<void>): void {
    this.pumping = false;
    this.busy = true;
    this.deps.holdClient('check', true);
    pending.then(
      () => {
        this.busy = false;
        this.deps.holdClient('check', false);
        this.pump();
      },
      (err: unknown) => this.deps.violation(err instanceof PgGatewayError ? err : protocolViolation(String(err))),
    );
  }

  /** Returns a promise only when the message must wait for a check. */
  private handle(frame: Frame): Promise<void> | void {
    const type = frame.type;
    if (type === Frontend.Terminate) {
      // What the client sent before Terminate still reaches the upstream, ahead of ours.
      this.flushUnsent();
      return this.deps.terminate();
    }
    if (this.discarding && type !== Frontend.Sync) return;
    switch (type) {
      case Frontend.Query:
        return this.onQuery(frame);
      case Frontend.Parse:
        return this.onParse(frame);
      case Frontend.Bind:
        return this.onBind(frame);
      case Frontend.Execute:
        return this.onExecute(frame);
      case Frontend.Describe:
        return this.onDescribe(frame);
      case Frontend.Close:
        return this.onClose(frame);
      case Frontend.Sync:
        return this.onSync(frame);
      case Frontend.Flush:
        return this.forwardBatch(frame.raw);
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        // Only reach an upstream that is in COPY FROM STDIN for an allowed statement; otherwise it ignores them.
        return this.forward(frame.raw);
      case Frontend.FunctionCall:
        return this.onFunctionCall();
      case Frontend.Query | TOO_LARGE:
      case Frontend.Parse | TOO_LARGE:
        return this.onTooLarge(frame, type & ~TOO_LARGE);
      default:
        throw protocolViolation(`invalid frontend message type ${type}`);
    }
  }

  private onQuery(frame: Frame): Promise<void> | void {
    const text = msg.parseQuery(frame.body);
    const kept = this.tracker.txStatus === TxStatus.Failed ? undefined : this.deps.check.keptLimit(text);
    if (kept) {
      this.deps.record({ text, outcome: 'ok', commandTag: kept.tag, reason: `answered by the gateway: the role's ${kept.setting} stays in force`, durationMs: 0 });
      this.tracker.local(msg.commandComplete(kept.tag), { ready: true });
      return;
    }
    if (mayExecute(text)) {
      const unprepared = this.names.unpreparedExecute(text);
      if (unprepared instanceof Promise) {
        this.flushUnsent();
        return unprepared.then(() => (this.closed ? undefined : this.onQuery(frame)));
      }
      if (unprepared) return this.refuse(text, unprepared, true);
    }
    const now = this.decisionNow(text);
    if (now) return this.queryDecided(frame, text, now);
    return this.decisionLater(text).then((decision) => (this.closed ? undefined : this.queryDecided(frame, text, decision)));
  }

  private queryDecided(frame: Frame, text: string, decision: SqlDecision): void {
    if (decision.allowed) {
      const intent = this.deps.intend(text);
      if (!intent) return;
      this.forward(frame.raw);
      if (intent.id !== undefined) this.unsentIntent = true;
      this.tracker.expectQuery(text, intent, this.names.textSent(text, true));
    } else {
      this.refuse(text, decision.reason, true, decision.sqlstate);
    }
  }

  private onParse(frame: Frame): Promise<void> | void {
    const { name, text } = msg.parseParse(frame.body);
    if (mayExecute(text) && executedNames(text)?.length !== 0) {
      // Only a simple Query is followed name by name (its answer comes before the next message is read).
      this.names.statements.remove(name);
      return this.refuseInBatch(text, 'airlock: SQL EXECUTE is allowed only in a simple query; send it without Parse/Bind');
    }
    const now = this.decisionNow(text);
    if (now) return this.parseDecided(frame, name, text, now);
    return this.decisionLater(text).then((decision) => (this.closed ? undefined : this.parseDecided(frame, name, text, decision)));
  }

  private parseDecided(frame: Frame, name: string, text: string, decision: SqlDecision): void {
    if (decision.allowed) {
      this.forwardBatch(frame.raw);
      this.tracker.expectReply(this.names.statements.sent(name, text));
    } else {
      // The upstream still holds the old text, but the client meant to replace it: the gateway forgets the
      // name (a view with fewer names than the upstream is safe) rather than run the old text under it.
      this.names.statements.remove(name);
      this.refuseInBatch(text, decision.reason, decision.sqlstate);
    }
  }

  /**
   * A Query or Parse whose header announced more than the role's largest
   * statement: refused as the size check refuses one it has read (an error,
   * and in the extended protocol everything up to Sync skipped), while the
   * reader drops its body unread.
   */
  private onTooLarge(frame: Frame, type: number): void {
    const { text, name, decision, extra } = oversizedStatement(frame, type, this.deps.check.maxStatementBytes);
    if (type === Frontend.Query) return this.refuse(text, decision.reason, true, decision.sqlstate, extra);
    // As for a refused Parse: the client meant to replace the name, so the gateway forgets it (all names, when unread).
    if (name === null) this.names.statements.forgetAll();
    else this.names.statements.remove(name);
    this.refuseInBatch(text, decision.reason, decision.sqlstate, extra);
  }

  private onBind(frame: Frame): Promise<void> | void {
    const { portal, statement } = msg.parseBind(frame.body);
    const found = this.names.statements.lookup(statement);
    if ('unsettled' in found) return this.afterUpstreamAnswers(found.unsettled, () => this.onBind(frame));
    if (!found.known) {
      return this.refuseInBatch(`<bind of ${JSON.stringify(statement)}>`, unknownName('prepared statement', statement, found.unseen));
    }
    this.forwardBatch(frame.raw);
    this.tracker.expectReply(this.names.portals.sent(portal, found.text));
  }

  private onExecute(frame: Frame): Promise<void> | void {
    const { portal } = msg.parseExecute(frame.body);
    const found = this.names.portals.lookup(portal);
    if ('unsettled' in found) return this.afterUpstreamAnswers(found.unsettled, () => this.onExecute(frame));
    if (!found.known) {
      return this.refuseInBatch(`<execute of ${JSON.stringify(portal)}>`, unknownName('portal', portal, found.unseen));
    }
    const text = found.text;
    const intent = this.deps.intend(text);
    if (!intent) return;
    this.forwardBatch(frame.raw);
    if (intent.id !== undefined) this.unsentIntent = true;
    this.tracker.expectExecute(text, intent, this.names.textSent(text, false));
  }

  private onDescribe(frame: Frame): void {
    msg.parseTarget(frame.body);
    this.forwardBatch(frame.raw);
    this.tracker.expectReply();
  }

  private onClose(frame: Frame): void {
    const { kind, name } = msg.parseTarget(frame.body);
    this.forwardBatch(frame.raw);
    this.tracker.expectReply((kind === 'S' ? this.names.statements : this.names.portals).sent(name, null));
  }

  private onSync(frame: Frame): void {
    const wasDiscarding = this.discarding;
    this.discarding = false;
    this.names.endBatch();
    if (wasDiscarding && !this.batchOpen) {
      // Nothing of this batch reached the upstream: answer for it.
      this.tracker.local(EMPTY, { ready: true });
      return;
    }
    this.batchOpen = false;
    this.forward(frame.raw);
    this.tracker.expectSync(this.names.syncSent());
  }

  /** Waits for the upstream to answer earlier batches (everything before them was flushed with their Sync), then goes on. */
  private afterUpstreamAnswers(settled: Promise<void>, then: () => Promise<void> | void): Promise<void> {
    this.flushUnsent();
    return settled.then(() => (this.closed ? undefined : then()));
  }

  private onFunctionCall(): void {
    this.refuse('<function call>', 'airlock: the fastpath function-call message is not allowed through the gateway', true);
  }

  // ---- helpers ----

  /** The decision without a promise when it can be had at once; most statements take this path (no closure, no promise). */
  private decisionNow(text: string): SqlDecision | null {
    return this.searchPathStale ? null : this.deps.check.now(text);
  }

  private async decisionLater(text: string): Promise<SqlDecision> {
    await this.refreshSearchPath();
    return this.deps.check.decide(text);
  }

  /** Re-reads search_path after a SET, when the upstream owes nothing and no batch is open. */
  private async refreshSearchPath(): Promise<void> {
    if (!this.searchPathStale || !this.tracker.idle() || this.batchOpen) return;
    this.searchPathStale = false;
    await new Promise<void>((resolve) => {
      this.tracker.internal((type, body) => {
        if (type === Backend.DataRow) this.deps.check.setSearchPath(searchPathFromDataRow(body));
        else if (type === Backend.ReadyForQuery) resolve();
      });
      this.flushUnsent();
      this.deps.upstream.write(msg.query(SEARCH_PATH_QUERY));
    });
  }

  private forward(raw: Buffer): void {
    const unsent = this.unsent;
    if (unsent && unsent.buffer === raw.buffer && unsent.byteOffset + unsent.length === raw.byteOffset) {
      this.unsent = Buffer.from(unsent.buffer, unsent.byteOffset, unsent.length + raw.length);
      return;
    }
    this.flushUnsent();
    this.unsent = raw;
  }

  /**
   * A statement whose intent is still in memory goes out at the end of the
   * turn, with those of every other session handled in this turn: their
   * intents then reach the OS in one write, before any of them is forwarded.
   * Anything else goes out now.
   */
  private sendAtTurnEnd(): void {
    if (!this.unsentIntent || !this.unsent) return this.flushUnsent();
    if (this.turnQueued) return;
    this.turnQueued = true;
    atTurnEnd(this);
  }

  private flushUnsent(): void {
    const raw = this.unsent;
    if (!raw) return;
    this.unsent = null;
    if (this.unsentIntent) {
      this.unsentIntent = false;
      // Write-ahead: the intents of these statements are in the OS's hands before the upstream can see them.
      if (!this.deps.intentsOut()) return;
    }
    const written = this.deps.upstream.write(raw);
    this.tracker.sent();
    if (!written && !this.upstreamFull) {
      this.upstreamFull = true;
      this.deps.holdClient('upstream', true);
      this.deps.upstream.once('drain', () => {
        this.upstreamFull = false;
        this.deps.holdClient('upstream', false);
      });
    }
  }

  private forwardBatch(raw: Buffer): void {
    this.batchOpen = true;
    this.forward(raw);
  }

  private refuse(text: string, reason: string, ready: boolean, sqlstate: string = SqlState.InsufficientPrivilege, extra?: StatementOutcome['extra']): void {
    this.deps.record({ text, outcome: 'refused', reason, durationMs: 0, extra });
    const error = msg.errorResponse({ severity: 'ERROR', sqlstate, message: reason });
    this.tracker.local(error, { ready });
  }

  private refuseInBatch(text: string, reason: string, sqlstate?: string, extra?: StatementOutcome['extra']): void {
    this.refuse(text, reason, false, sqlstate, extra);
    this.discarding = true;
  }
}

const EMPTY = Buffer.alloc(0);

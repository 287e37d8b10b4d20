import type net from 'node:net';
import type { Intent, Outcome } from '../kernel/gateway-session.js';
import { MysqlGatewayError, protocolViolation } from './errors.js';
import { Command, CommandName, ErrorCode, type ErrorKind, SetOption } from './protocol/codes.js';
import { decodeExecute, type ParamType, type ParamValue } from './protocol/execute.js';
import { encodePacket, type Packet, PacketFramer } from './protocol/framer.js';
import { encodeErr, encodeOk } from './protocol/messages.js';
import { ResponseTracker, type ResponseShape, type ResponseSummary } from './response-tracker.js';
import type { MysqlDecision } from './sql/check.js';
import { quoteIdent } from './sql/relations.js';

/**
 * The live relay of one session: client commands in, one at a time, each
 * judged, put on record and forwarded, its response relayed as the upstream
 * sent it while a ResponseTracker follows where it ends. Commands the
 * gateway does not relay get an error packet with a real MySQL code; the
 * session stays usable after any refusal.
 */

export interface RelayDeps {
  readonly upstream: net.Socket;
  /** Capabilities in force on the upstream connection (they shape its responses). */
  readonly capabilities: number;
  readonly maxPayload: number;
  /** The database the session is pinned to. */
  readonly database: string;
  /** The role's `limits.max_statement`: longer statement texts are refused unread. */
  readonly maxStatementBytes?: number;
  decide(text: string): MysqlDecision;
  toClient(bytes: Buffer): void;
  intend(text: string): Intent | null;
  record(outcome: Outcome, intent?: Intent | null): void;
  holdForAudit(): Promise<void> | undefined;
  /** The statements that pin the upstream session (sql_mode, character set, read-only), re-run after COM_RESET_CONNECTION. */
  readonly pinning: () => readonly string[];
  /** A `SET NAMES` the upstream accepted: texts are decoded in that character set from now on. */
  charsetChanged(charset: string): void;
  decodeText(bytes: Buffer): string | null;
  quit(): void;
  violation(err: MysqlGatewayError): void;
  /** Stop (true) or resume (false) reading the client: commands it sends ahead are queued, up to a bound. */
  holdClient(hold: boolean): void;
}

/** Commands a client may send ahead of their answers before the gateway stops reading it. */
const MAX_QUEUED_COMMANDS = 64;

interface PreparedStatement {
  readonly text: string;
  readonly tag: string;
  params: number;
  types: readonly ParamType[] | undefined;
  readonly longData: Set<number>;
}

interface InFlight {
  readonly tracker: ResponseTracker;
  /** False for the gateway's own queries, whose responses the client never sees. */
  readonly forward: boolean;
  readonly startedMs: number;
  finished(summary: ResponseSummary): void;
}

/** Commands whose text is never a statement; they are relayed without a record. */
const PLAIN_SINGLE = new Set<number>([Command.Ping, Command.StmtReset]);

export class CommandRelay {
  private readonly clientFramer: PacketFramer;
  private readonly upstreamFramer: PacketFramer;
  private readonly queue: Packet[] = [];
  private inFlight: InFlight | null = null;
  private busy = false;
  private closed = false;
  private readonly statements = new Map<number, PreparedStatement>();
  private unansweredIntent: { intent: Intent; text: string; startedMs: number } | null = null;
  /** The command being handled (judged, recorded or answered): a gateway message answers it. */
  private current: Packet | null = null;

  constructor(private readonly deps: RelayDeps) {
    this.clientFramer = new PacketFramer(deps.maxPayload);
    this.upstreamFramer = new PacketFramer(Number.MAX_SAFE_INTEGER);
  }

  /** True when the client may be told something between two packets (nothing half-relayed). */
  get atBoundary(): boolean {
    return this.upstreamFramer.buffered === 0;
  }

  /**
   * The sequence id a gateway message to the client must carry now. With no
   * command in hand it is 1: a client that has sent one we have not read yet
   * expects 1, and an idle one reads the message as the answer to its next.
   */
  get nextClientSeq(): number {
    if (this.inFlight) return (this.inFlight.tracker.lastSeq + 1) & 0xff;
    return this.current ? (this.current.lastSeq + 1) & 0xff : 1;
  }

  /** A statement forwarded and never answered: recorded as `unknown` when the session ends. */
  abandon(): void {
    const u = this.unansweredIntent;
    this.unansweredIntent = null;
    if (u) this.deps.record({ text: u.text, outcome: 'unknown', durationMs: Date.now() - u.startedMs }, u.intent);
  }

  close(): void {
    this.closed = true;
  }

  onClientData(chunk: Buffer): void {
    if (this.closed) return;
    this.clientFramer.push(chunk);
    try {
      for (let p = this.clientFramer.next(); p; p = this.clientFramer.next()) this.queue.push(p);
      if (this.queue.length >= MAX_QUEUED_COMMANDS) this.deps.holdClient(true);
    } catch (err) {
      return this.deps.violation(err instanceof MysqlGatewayError ? err : protocolViolation(String(err)));
    }
    void this.pump();
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.closed) return;
    const flight = this.inFlight;
    if (!flight) return this.deps.violation(new MysqlGatewayError('upstream_protocol', 'the upstream sent data nobody asked for'));
    if (flight.forward) this.deps.toClient(chunk);
    this.upstreamFramer.push(chunk);
    try {
      for (let p = this.upstreamFramer.next(); p; p = this.upstreamFramer.next()) {
        if (!this.inFlight) throw new MysqlGatewayError('upstream_protocol', 'the upstream sent data after a complete response');
        if (this.inFlight.tracker.push(p)) {
          const done = this.inFlight;
          this.inFlight = null;
          this.current = null;
          done.finished(done.tracker.summary());
        }
      }
    } catch (err) {
      return this.deps.violation(err instanceof MysqlGatewayError ? err : protocolViolation(String(err)));
    }
    if (!this.inFlight) void this.pump();
  }

  /** Runs queued commands one at a time; each waits for its response before the next is read. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed && !this.inFlight && this.queue.length > 0) {
        const behind = this.deps.holdForAudit();
        if (behind) await behind;
        if (this.closed) return;
        const packet = this.queue.shift()!;
        if (this.queue.length === MAX_QUEUED_COMMANDS / 2) this.deps.holdClient(false);
        if (packet.seq !== 0) throw protocolViolation(`a command packet with sequence id ${packet.seq}`);
        this.current = packet;
        await this.command(packet);
        if (!this.inFlight) this.current = null;
      }
    } catch (err) {
      this.deps.violation(err instanceof MysqlGatewayError ? err : protocolViolation(String(err)));
    } finally {
      this.busy = false;
    }
  }

  private sendError(packet: Packet, kind: ErrorKind, message: string): void {
    this.deps.toClient(encodePacket(encodeErr({ ...ErrorCode[kind], message }), packet.lastSeq + 1).bytes);
  }

  private forward(packet: Packet, shape: ResponseShape | null, finished: (s: ResponseSummary) => void = () => undefined, forward = true): void {
    if (shape !== null) {
      const tracker = new ResponseTracker(shape, this.deps.capabilities);
      tracker.lastSeq = packet.lastSeq;
      this.inFlight = { tracker, forward, startedMs: Date.now(), finished };
    }
    this.deps.upstream.write(encodePacket(packet.payload, 0).bytes);
  }

  private refuse(packet: Packet, text: string, decision: Extract<MysqlDecision, { allowed: false }>): void {
    this.sendError(packet, decision.denied === 'database' ? 'DbAccessDenied' : 'TableAccessDenied', decision.reason);
    this.deps.record({ text, outcome: 'refused', reason: decision.reason, durationMs: 0 });
  }

  private async command(packet: Packet): Promise<void> {
    const p = packet.payload;
    const code = p[0];
    switch (code) {
      case Command.Query:
        return this.query(packet);
      case Command.StmtPrepare:
        return this.prepare(packet);
      case Command.StmtExecute:
        return this.execute(packet);
      case Command.StmtSendLongData: {
        const stmt = p.length >= 7 ? this.statements.get(p.readUInt32LE(1)) : undefined;
        // No response either way, as the server would give none.
        if (stmt) {
          stmt.longData.add(p.readUInt16LE(5));
          this.forward(packet, null);
        }
        return;
      }
      case Command.StmtClose: {
        const id = p.length >= 5 ? p.readUInt32LE(1) : -1;
        if (this.statements.delete(id)) this.forward(packet, null);
        return;
      }
      case Command.StmtReset: {
        const stmt = p.length >= 5 ? this.statements.get(p.readUInt32LE(1)) : undefined;
        if (!stmt) return this.sendError(packet, 'UnknownStmtHandler', 'Unknown prepared statement handler given to COM_STMT_RESET');
        stmt.longData.clear();
        return this.forward(packet, 'single');
      }
      case Command.StmtFetch: {
        const stmt = p.length >= 9 ? this.statements.get(p.readUInt32LE(1)) : undefined;
        if (!stmt) return this.sendError(packet, 'UnknownStmtHandler', 'Unknown prepared statement handler given to COM_STMT_FETCH');
        return this.forward(packet, 'rows');
      }
      case Command.InitDb: {
        const db = this.deps.decodeText(p.subarray(1)) ?? '';
        if (db !== this.deps.database) {
          const reason = `airlock: this session is pinned to database ${this.deps.database}; USE of ${quoteIdent(db)} is not allowed`;
          return this.refuse(packet, `USE ${db}`, { allowed: false, reason, denied: 'database' });
        }
        return this.forward(packet, 'single');
      }
      case Command.FieldList:
        return this.fieldList(packet);
      case Command.Quit:
        return this.deps.quit();
      case Command.ResetConnection:
        return this.resetConnection(packet);
      case Command.SetOption: {
        const option = p.length >= 3 ? p.readUInt16LE(1) : -1;
        if (option !== SetOption.MultiStatementsOff) {
          return this.sendError(packet, 'NotSupportedYet', 'airlock: multi-statements are not allowed through the gateway: send one statement per query');
        }
        return this.forward(packet, 'single');
      }
      default:
        if (code !== undefined && PLAIN_SINGLE.has(code)) return this.forward(packet, 'single');
        return this.sendError(
          packet,
          'UnknownCommand',
          `airlock: ${code === undefined ? 'an empty command' : (CommandName[code] ?? `command 0x${code.toString(16)}`)} is not allowed through the gateway`,
        );
    }
  }

  private text(packet: Packet): string | null {
    const max = this.deps.maxStatementBytes;
    if (max !== undefined && packet.payload.length - 1 > max) {
      this.sendError(packet, 'TableAccessDenied', `airlock: the statement is ${packet.payload.length - 1} bytes, larger than the ${max} bytes this role allows (limits.max_statement); it was not run`);
      this.deps.record({ text: `<${packet.payload.length - 1} bytes>`, outcome: 'refused', reason: 'limits.max_statement', durationMs: 0 });
      return null;
    }
    const text = this.deps.decodeText(packet.payload.subarray(1));
    if (text === null) this.sendError(packet, 'TableAccessDenied', 'airlock: the statement is not valid text in the connection character set, so it was not run');
    return text;
  }

  private query(packet: Packet): void {
    const text = this.text(packet);
    if (text === null) return;
    const decision = this.deps.decide(text);
    if (!decision.allowed) return this.refuse(packet, text, decision);
    const intent = this.deps.intend(text);
    if (!intent) return;
    const startedMs = Date.now();
    this.unansweredIntent = { intent, text, startedMs };
    this.forward(packet, 'results', (s) => {
      this.unansweredIntent = null;
      if (s.ok && decision.charset) this.deps.charsetChanged(decision.charset);
      this.deps.record(outcomeOf(text, decision.tag, s, startedMs), intent);
    });
  }

  private prepare(packet: Packet): void {
    const text = this.text(packet);
    if (text === null) return;
    const decision = this.deps.decide(text);
    if (!decision.allowed) return this.refuse(packet, text, decision);
    const startedMs = Date.now();
    this.forward(packet, 'prepare', (s) => {
      if (s.prepared) this.statements.set(s.prepared.statementId, { text, tag: decision.tag, params: s.prepared.params, types: undefined, longData: new Set() });
      else this.deps.record(outcomeOf(text, decision.tag, s, startedMs));
    });
  }

  private execute(packet: Packet): void {
    const p = packet.payload;
    const stmt = p.length >= 5 ? this.statements.get(p.readUInt32LE(1)) : undefined;
    if (!stmt) return this.sendError(packet, 'UnknownStmtHandler', 'Unknown prepared statement handler given to COM_STMT_EXECUTE');
    const request = decodeExecute(p, stmt.params, stmt.types, stmt.longData);
    stmt.types = request.types;
    const intent = this.deps.intend(stmt.text);
    if (!intent) return;
    const startedMs = Date.now();
    this.unansweredIntent = { intent, text: stmt.text, startedMs };
    const params: readonly ParamValue[] = request.params;
    this.forward(packet, 'results', (s) => {
      this.unansweredIntent = null;
      stmt.longData.clear();
      const outcome = outcomeOf(stmt.text, stmt.tag, s, startedMs);
      this.deps.record({ ...outcome, extra: { ...outcome.extra, params } }, intent);
    });
  }

  private fieldList(packet: Packet): void {
    const p = packet.payload;
    const nul = p.indexOf(0, 1);
    const table = this.deps.decodeText(p.subarray(1, nul < 0 ? p.length : nul));
    if (table === null) return this.sendError(packet, 'TableAccessDenied', 'airlock: the table name is not valid text');
    // Judged as the query it stands for, so the same table rules apply.
    const text = `SHOW COLUMNS FROM ${quoteIdent(table)}`;
    const decision = this.deps.decide(text);
    if (!decision.allowed) return this.refuse(packet, text, decision);
    this.forward(packet, 'fields');
  }

  /** Forwarded, then the session is pinned again (a reset restores the server's defaults) before the client hears OK. */
  private resetConnection(packet: Packet): Promise<void> {
    return new Promise((resolve) => {
      this.forward(
        packet,
        'single',
        (s) => {
          if (!s.ok) {
            this.deps.toClient(encodePacket(encodeErr(s.error!), 1).bytes);
            return resolve();
          }
          this.statements.clear();
          void this.internal(this.deps.pinning()).then(
            () => {
              this.deps.toClient(encodePacket(encodeOk({ status: s.status }), 1).bytes);
              resolve();
            },
            (err: unknown) => {
              this.deps.violation(err instanceof MysqlGatewayError ? err : new MysqlGatewayError('upstream_protocol', String(err)));
              resolve();
            },
          );
        },
        false,
      );
    });
  }

  /** The gateway's own statements on the upstream; the client never sees their responses. */
  private async internal(statements: readonly string[]): Promise<void> {
    for (const sql of statements) {
      const summary = await new Promise<ResponseSummary>((resolve) =>
        this.forward({ seq: 0, lastSeq: 0, payload: Buffer.concat([Buffer.from([Command.Query]), Buffer.from(sql, 'utf8')]) }, 'results', resolve, false),
      );
      if (!summary.ok) throw new MysqlGatewayError('upstream_protocol', `the upstream refused to pin the session (${summary.error?.code})`);
    }
  }
}

function outcomeOf(text: string, tag: string, s: ResponseSummary, startedMs: number): Outcome {
  return {
    text,
    outcome: s.ok ? 'ok' : 'error',
    commandTag: tag,
    rows: s.ok ? s.rows || s.affectedRows : undefined,
    sqlstate: s.error?.sqlstate,
    reason: s.error ? `${s.error.code}: ${s.error.message}` : undefined,
    durationMs: Date.now() - startedMs,
    extra: s.error ? { errno: s.error.code } : undefined,
  };
}

import { protocolViolation } from './errors.js';
import { Capability, Header, MAX_PACKET_PAYLOAD, ServerStatus } from './protocol/codes.js';
import type { Packet } from './protocol/framer.js';
import { decodeErr, decodeOk, eofStatus, type ErrPacket } from './protocol/messages.js';
import { PayloadReader } from './protocol/payload.js';

/**
 * Follows one command's response from the upstream, packet by packet, to
 * know where it ends and what it said (rows, affected rows, error, the
 * prepared statement's id). The bytes themselves are relayed as they came;
 * this only reads them. A LOCAL INFILE request is a protocol violation: the
 * gateway never announced LOCAL FILES, so an upstream asking for a file is
 * refused, never passed to the client.
 */

export type ResponseShape =
  /** COM_QUERY / COM_STMT_EXECUTE: OK, ERR, or result sets (more may follow). */
  | 'results'
  /** COM_STMT_FETCH: rows until EOF. */
  | 'rows'
  /** COM_STMT_PREPARE: PREPARE_OK with parameter and column definitions. */
  | 'prepare'
  /** COM_FIELD_LIST: column definitions until EOF. */
  | 'fields'
  /** COM_PING, COM_INIT_DB, COM_STMT_RESET, COM_RESET_CONNECTION, COM_SET_OPTION: one packet. */
  | 'single';

export interface ResponseSummary {
  readonly ok: boolean;
  readonly rows: number;
  readonly affectedRows: number;
  readonly error?: ErrPacket;
  readonly status: number;
  /** For a prepare: the statement id and its parameter count. */
  readonly prepared?: { readonly statementId: number; readonly params: number };
}

type State = 'first' | 'columns' | 'columns-eof' | 'rows' | 'prepare-defs' | 'fields' | 'done';

export class ResponseTracker {
  private state: State;
  private remaining = 0;
  private rows = 0;
  private affectedRows = 0;
  private status = 0;
  private error: ErrPacket | undefined;
  private prepared: ResponseSummary['prepared'];
  private readonly deprecateEof: boolean;
  /** Sequence id of the last packet read, so a gateway message can follow it. */
  lastSeq = 0;

  constructor(
    private readonly shape: ResponseShape,
    capabilities: number,
  ) {
    this.deprecateEof = (capabilities & Capability.DeprecateEof) !== 0;
    this.state = shape === 'rows' ? 'rows' : shape === 'fields' ? 'fields' : 'first';
  }

  get done(): boolean {
    return this.state === 'done';
  }

  summary(): ResponseSummary {
    return { ok: this.error === undefined, rows: this.rows, affectedRows: this.affectedRows, error: this.error, status: this.status, prepared: this.prepared };
  }

  /** An end-of-rows packet: 0xFE shorter than a full packet (EOF, or OK under CLIENT_DEPRECATE_EOF). */
  private static isEnd(payload: Buffer): boolean {
    return payload[0] === Header.Eof && payload.length < MAX_PACKET_PAYLOAD;
  }

  private endStatus(payload: Buffer): number {
    return this.deprecateEof && payload.length > 5 ? decodeOk(payload).status : eofStatus(payload);
  }

  /** Reads one packet of the response; true once the response is complete. */
  push(packet: Packet): boolean {
    this.lastSeq = packet.lastSeq;
    const p = packet.payload;
    switch (this.state) {
      case 'done':
        throw protocolViolation('the upstream sent data after a complete response');
      case 'first':
        return this.first(p);
      case 'columns':
        if (--this.remaining === 0) this.state = this.deprecateEof ? 'rows' : 'columns-eof';
        return false;
      case 'columns-eof':
        if (!ResponseTracker.isEnd(p)) throw protocolViolation('expected an EOF after the column definitions');
        return this.afterDefinitions(eofStatus(p));
      case 'rows':
        if (p[0] === Header.Err) return this.finishError(p);
        if (ResponseTracker.isEnd(p)) {
          const status = this.endStatus(p);
          // Under CLIENT_DEPRECATE_EOF an opened cursor is announced by the packet right after the definitions.
          if (status & ServerStatus.CursorExists && this.rows === 0) return this.afterDefinitions(status);
          return this.finishEnd(status);
        }
        this.rows++;
        return false;
      case 'prepare-defs':
        if (--this.remaining > 0) return false;
        this.state = 'done';
        return true;
      case 'fields':
        if (p[0] === Header.Err) return this.finishError(p);
        if (ResponseTracker.isEnd(p)) return this.finishEnd(this.endStatus(p));
        this.rows++;
        return false;
    }
  }

  private first(p: Buffer): boolean {
    const head = p[0];
    if (head === Header.Err) return this.finishError(p);
    if (this.shape === 'single') {
      if (head === Header.Ok) this.affectedRows = decodeOk(p).affectedRows;
      this.status = head === Header.Ok || head === Header.Eof ? (head === Header.Ok ? decodeOk(p).status : eofStatus(p)) : 0;
      this.state = 'done';
      return true;
    }
    if (this.shape === 'prepare') {
      if (head !== Header.Ok) throw protocolViolation('the upstream answered a prepare with neither PREPARE_OK nor an error');
      const r = new PayloadReader(p, 1);
      const statementId = r.u32();
      const columns = r.u16();
      const params = r.u16();
      this.prepared = { statementId, params };
      const eofs = this.deprecateEof ? 0 : (columns > 0 ? 1 : 0) + (params > 0 ? 1 : 0);
      this.remaining = columns + params + eofs;
      this.state = this.remaining > 0 ? 'prepare-defs' : 'done';
      return this.state === 'done';
    }
    if (head === Header.Ok) {
      const ok = decodeOk(p);
      this.affectedRows += ok.affectedRows;
      return this.finishEnd(ok.status);
    }
    if (head === Header.LocalInfile) throw protocolViolation('the upstream asked for a local file (LOAD DATA LOCAL), which the gateway never allows');
    const columns = new PayloadReader(p).lenencNumber('column count');
    if (columns === 0) throw protocolViolation('a result set with no columns');
    this.remaining = columns;
    this.state = 'columns';
    return false;
  }

  /** After a result set's definitions: a cursor (rows come by COM_STMT_FETCH) ends the response here. */
  private afterDefinitions(status: number): boolean {
    if (status & ServerStatus.CursorExists) {
      this.status = status;
      this.state = 'done';
      return true;
    }
    this.state = 'rows';
    return false;
  }

  private finishError(p: Buffer): boolean {
    this.error = decodeErr(p);
    this.state = 'done';
    return true;
  }

  private finishEnd(status: number): boolean {
    this.status = status;
    if (this.shape === 'results' && status & ServerStatus.MoreResultsExist) {
      this.state = 'first';
      return false;
    }
    this.state = 'done';
    return true;
  }
}

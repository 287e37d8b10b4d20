import { Frontend, Limits } from './codes.js';
import { PgGatewayError } from '../errors.js';

/**
 * Framing for one direction of a connection. Bytes go in as they arrive;
 * whole messages come out as views into the received buffers (no copy in the
 * common case where a chunk holds whole messages).
 *
 * A startup-phase packet has no type byte (`int32 length, body`); every
 * later message is `byte type, int32 length, body`. The reader is told which
 * to expect, because the protocol switches after the startup packet.
 *
 * A message that spans chunks is gathered in a buffer of the reader's own
 * that doubles when full, so each byte is copied a bounded number of times
 * (linear CPU). Joining the unread bytes with every new chunk instead made
 * one 60 MB message cost 23.7 s of CPU, stalling every other session. A list
 * of chunks joined at the end would also be linear, but 1-byte chunks would
 * then cost a Buffer object each — far more memory than the bytes.
 *
 * A Query or Parse announced longer than the session's largest statement
 * (`refuseStatementsOver`) is not gathered at all: once its header and
 * first bytes are in, it comes out as a frame whose type has `TOO_LARGE`
 * set, and the rest of its body is dropped as it arrives. Gathering it
 * first let one session hold 64 MiB per message before being refused (100
 * sessions: 6.4 GiB), and its refusal came only after the whole body.
 */
export interface Frame {
  /** Type byte, or 0 for an untyped startup-phase packet; with `TOO_LARGE` set, the head of a refused statement. */
  readonly type: number;
  /** Body only (after the length field); of a `TOO_LARGE` frame, its first bytes. */
  readonly body: Buffer;
  /** The whole message including type and length, ready to forward as-is; of a `TOO_LARGE` frame, the header and `body`. */
  readonly raw: Buffer;
}

/** Set in the type of a statement too large to gather; no message type byte has this bit. */
export const TOO_LARGE = 0x100;
/** Bytes of a too-large statement's body kept for the audit; the rest is dropped unread. */
export const TOO_LARGE_HEAD_BYTES = 16 * 1024;
/**
 * A Parse's name as long as any a client means: PostgreSQL tells prepared
 * statements apart by their first 63 bytes (NAMEDATALEN). The message may
 * also declare up to 65535 parameter types.
 */
const PARSE_NAME_BYTES = 1024;
const PARSE_TYPES_BYTES = 2 + 4 * 0xffff;

const EMPTY = Buffer.alloc(0);
/** Smallest buffer allocated for gathering, so a trickle of tiny chunks does not allocate per chunk. */
const MIN_GATHER = 16 * 1024;

export class FrameReader {
  /** The buffer frames are cut from; unread bytes are `[off, end)`. */
  private buf: Buffer = EMPTY;
  private off = 0;
  private end = 0;
  /** True while `buf` is the reader's own gathering buffer rather than a chunk it was handed. */
  private gathering = false;
  /** Longest Query and Parse (their length field) gathered whole; see `refuseStatementsOver`. */
  private queryLength = Infinity;
  private parseLength = Infinity;
  /** Body bytes of a too-large statement still to arrive, dropped as they do. */
  private skipping = 0;
  typed: boolean;
  maxLength: number;

  constructor(opts: { typed: boolean; maxLength: number }) {
    this.typed = opts.typed;
    this.maxLength = opts.maxLength;
  }

  /**
   * Query and Parse messages that cannot hold a statement of `textBytes` or
   * fewer come out as `TOO_LARGE` frames instead of being gathered. A Parse
   * may be longer than its text by its name (up to PARSE_NAME_BYTES here)
   * and its declared parameter types.
   */
  refuseStatementsOver(textBytes: number): void {
    this.queryLength = 4 + textBytes + 1;
    this.parseLength = 4 + PARSE_NAME_BYTES + 1 + textBytes + 1 + PARSE_TYPES_BYTES;
  }

  push(chunk: Buffer): void {
    if (this.skipping > 0) {
      if (chunk.length <= this.skipping) {
        this.skipping -= chunk.length;
        return;
      }
      chunk = chunk.subarray(this.skipping);
      this.skipping = 0;
    }
    if (chunk.length === 0) return;
    if (this.off === this.end) {
      this.buf = chunk;
      this.off = 0;
      this.end = chunk.length;
      this.gathering = false;
      return;
    }
    // Bytes before `end` may already be out as frame views (queued for a socket write): never overwrite
    // them; only append past `end` in a buffer of our own, or move the unread bytes to a new one.
    if (!this.gathering || this.end + chunk.length > this.buf.length) this.grow(this.end - this.off + chunk.length);
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** Moves the unread bytes to a new buffer of our own with room for `need` bytes, doubling as it grows. */
  private grow(need: number): void {
    const target = this.pendingSize() ?? 2 * need;
    const capacity = Math.max(need, Math.min(Math.max(2 * need, MIN_GATHER), target));
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.off, this.end);
    this.buf = next;
    this.end -= this.off;
    this.off = 0;
    this.gathering = true;
  }

  /** Size of the message being gathered once its header is in and sane; undefined before. */
  private pendingSize(): number | undefined {
    const header = this.typed ? 5 : 4;
    if (this.end - this.off < header) return undefined;
    const length = this.buf.readInt32BE(this.off + (this.typed ? 1 : 0));
    if (length < 0 || length > this.maxLength) return undefined;
    return (this.typed ? 1 : 0) + length;
  }

  /** Bytes received but not yet returned as a frame. */
  buffered(): number {
    return this.end - this.off;
  }

  /** Hands back unread bytes and empties the reader (used when another component takes the stream over). */
  takeRest(): Buffer {
    const rest = this.buf.subarray(this.off, this.end);
    this.buf = EMPTY;
    this.off = 0;
    this.end = 0;
    this.gathering = false;
    this.skipping = 0;
    return rest;
  }

  /** The next complete frame, or null when more bytes are needed. Throws on a malformed header. */
  next(): Frame | null {
    const start = this.off;
    const header = this.typed ? 5 : 4;
    if (this.end - start < header) return null;
    const type = this.typed ? this.buf[start]! : 0;
    const length = this.buf.readInt32BE(this.typed ? start + 1 : start);
    const minLength = this.typed ? 4 : 8;
    if (length < minLength) {
      throw new PgGatewayError('protocol_violation', `invalid message length ${length}`);
    }
    if (length > this.maxLength) {
      throw new PgGatewayError('message_too_large', `message of ${length} bytes exceeds the gateway's limit of ${this.maxLength}`);
    }
    // One comparison on the common path: the Parse limit is above the Query limit.
    if (length > this.queryLength && (type === Frontend.Query || (type === Frontend.Parse && length > this.parseLength))) {
      return this.tooLarge(start, type, length);
    }
    const end = start + (this.typed ? 1 : 0) + length;
    if (end > this.end) return null;
    this.off = end;
    return { type, body: this.buf.subarray(start + header, end), raw: this.buf.subarray(start, end) };
  }

  /** Once its first bytes are in: the head of a too-large statement, the rest of its body dropped from here on. */
  private tooLarge(start: number, type: number, length: number): Frame | null {
    const headEnd = start + 5 + Math.min(length - 4, TOO_LARGE_HEAD_BYTES);
    if (headEnd > this.end) return null;
    this.skipping = start + 1 + length - headEnd;
    const dropNow = Math.min(this.skipping, this.end - headEnd);
    this.skipping -= dropNow;
    this.off = headEnd + dropNow;
    return { type: type | TOO_LARGE, body: this.buf.subarray(start + 5, headEnd), raw: this.buf.subarray(start, headEnd) };
  }
}

export const startupReader = () => new FrameReader({ typed: false, maxLength: Limits.startupBytes });

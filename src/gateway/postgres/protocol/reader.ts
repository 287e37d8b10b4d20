import { Limits } from './codes.js';
import { PgGatewayError } from '../errors.js';

/**
 * Framing for one direction of a connection. Bytes go in as they arrive;
 * whole messages come out as views into the received buffers (no copy in the
 * common case where a chunk holds whole messages).
 *
 * A startup-phase packet has no type byte (`int32 length, body`); every
 * later message is `byte type, int32 length, body`. The reader is told which
 * to expect, because the protocol switches after the startup packet.
 */
export interface Frame {
  /** Type byte, or 0 for an untyped startup-phase packet. */
  readonly type: number;
  /** Body only (after the length field). */
  readonly body: Buffer;
  /** The whole message including type and length, ready to forward as-is. */
  readonly raw: Buffer;
}

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  typed: boolean;
  maxLength: number;

  constructor(opts: { typed: boolean; maxLength: number }) {
    this.typed = opts.typed;
    this.maxLength = opts.maxLength;
  }

  push(chunk: Buffer): void {
    if (this.off >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.off), chunk]);
    }
    this.off = 0;
  }

  /** Bytes received but not yet returned as a frame. */
  buffered(): number {
    return this.buf.length - this.off;
  }

  /** Hands back unread bytes and empties the reader (used when another component takes the stream over). */
  takeRest(): Buffer {
    const rest = this.buf.subarray(this.off);
    this.buf = Buffer.alloc(0);
    this.off = 0;
    return rest;
  }

  /** The next complete frame, or null when more bytes are needed. Throws on a malformed header. */
  next(): Frame | null {
    const start = this.off;
    const header = this.typed ? 5 : 4;
    if (this.buf.length - start < header) return null;
    const type = this.typed ? this.buf[start]! : 0;
    const length = this.buf.readInt32BE(this.typed ? start + 1 : start);
    const minLength = this.typed ? 4 : 8;
    if (length < minLength) {
      throw new PgGatewayError('protocol_violation', `invalid message length ${length}`);
    }
    if (length > this.maxLength) {
      throw new PgGatewayError('message_too_large', `message of ${length} bytes exceeds the gateway's limit of ${this.maxLength}`);
    }
    const end = start + (this.typed ? 1 : 0) + length;
    if (end > this.buf.length) return null;
    this.off = end;
    return { type, body: this.buf.subarray(start + header, end), raw: this.buf.subarray(start, end) };
  }
}

export const startupReader = () => new FrameReader({ typed: false, maxLength: Limits.startupBytes });

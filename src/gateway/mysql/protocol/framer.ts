import { MysqlGatewayError, protocolViolation } from '../errors.js';
import { MAX_PACKET_PAYLOAD } from './codes.js';

/**
 * The one MySQL packet framer: bytes in, logical packets out. A packet is a
 * 3-byte little-endian length, a 1-byte sequence id and the payload; a
 * payload of 2^24-1 bytes or more is split across packets, each full one
 * followed by the next (an empty one when the length is an exact multiple),
 * with sequence ids counting up by one. The framer reassembles them, checks
 * the ids count up inside a logical packet, and refuses a logical payload
 * larger than its limit as soon as the headers say so, before buffering it.
 */

export interface Packet {
  /** Sequence id of the first physical packet. */
  readonly seq: number;
  /** Sequence id of the last physical packet; the reply continues from it + 1. */
  readonly lastSeq: number;
  readonly payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class PacketFramer {
  private chunks: Buffer[] = [];
  private head = 0;
  private unread = 0;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private firstSeq = -1;
  private prevSeq = -1;

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.unread += chunk.length;
  }

  /** Bytes received but not yet returned as part of a packet. */
  get buffered(): number {
    return this.unread + this.partsLength;
  }

  /** Takes the bytes not yet returned as packets (e.g. a TLS ClientHello sent right after an SSL request). */
  takeRest(): Buffer {
    const rest = Buffer.concat([...this.parts, this.chunks[0]?.subarray(this.head) ?? EMPTY, ...this.chunks.slice(1)]);
    this.chunks = [];
    this.head = 0;
    this.unread = 0;
    this.parts = [];
    this.partsLength = 0;
    this.firstSeq = -1;
    return rest;
  }

  /** The next complete logical packet, or null when more bytes are needed. Throws MysqlGatewayError on bad framing. */
  next(): Packet | null {
    for (;;) {
      const header = this.contiguous(4);
      if (header === null) return null;
      const at = this.head;
      const length = header.readUIntLE(at, 3);
      const seq = header[at + 3]!;
      if (this.firstSeq >= 0 && seq !== ((this.prevSeq + 1) & 0xff)) {
        throw protocolViolation(`packet sequence id ${seq} where ${(this.prevSeq + 1) & 0xff} was expected`);
      }
      if (this.partsLength + length > this.maxPayload) {
        throw new MysqlGatewayError('packet_too_large', `packet of more than ${this.maxPayload} bytes refused (max_allowed_packet of the gateway)`);
      }
      const whole = this.contiguous(4 + length);
      if (whole === null) return null;
      const payload = whole.subarray(this.head + 4, this.head + 4 + length);
      this.consume(4 + length);
      if (this.firstSeq < 0) this.firstSeq = seq;
      this.prevSeq = seq;
      if (length === MAX_PACKET_PAYLOAD) {
        this.parts.push(payload);
        this.partsLength += length;
        continue;
      }
      const first = this.firstSeq;
      let full = payload;
      if (this.parts.length > 0) {
        this.parts.push(payload);
        full = Buffer.concat(this.parts, this.partsLength + length);
        this.parts = [];
        this.partsLength = 0;
      }
      this.firstSeq = -1;
      return { seq: first, lastSeq: seq, payload: full };
    }
  }

  /** The first chunk, holding at least `n` unread bytes from `head`; null when fewer than `n` have arrived. */
  private contiguous(n: number): Buffer | null {
    if (this.unread < n) return null;
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first;
    // One copy once enough bytes are here, not one per arriving chunk.
    const merged = Buffer.concat([first.subarray(this.head), ...this.chunks.slice(1)], this.unread);
    this.chunks = [merged];
    this.head = 0;
    return merged;
  }

  private consume(n: number): void {
    this.unread -= n;
    this.head += n;
    const first = this.chunks[0]!;
    if (this.head >= first.length) {
      this.chunks.shift();
      this.head = 0;
      if (this.chunks.length === 0) this.chunks = [];
    }
  }
}

/** The physical packets for one logical payload, starting at `seq`; returns the bytes and the next sequence id. */
export function encodePacket(payload: Buffer, seq: number): { bytes: Buffer; nextSeq: number } {
  if (payload.length < MAX_PACKET_PAYLOAD) {
    const bytes = Buffer.allocUnsafe(4 + payload.length);
    bytes.writeUIntLE(payload.length, 0, 3);
    bytes[3] = seq & 0xff;
    payload.copy(bytes, 4);
    return { bytes, nextSeq: (seq + 1) & 0xff };
  }
  const pieces: Buffer[] = [];
  let offset = 0;
  let s = seq;
  for (;;) {
    const length = Math.min(MAX_PACKET_PAYLOAD, payload.length - offset);
    const header = Buffer.allocUnsafe(4);
    header.writeUIntLE(length, 0, 3);
    header[3] = s & 0xff;
    pieces.push(header, payload.subarray(offset, offset + length));
    offset += length;
    s = (s + 1) & 0xff;
    if (length < MAX_PACKET_PAYLOAD) break;
  }
  return { bytes: Buffer.concat(pieces), nextSeq: s };
}

export { EMPTY as EMPTY_PAYLOAD };

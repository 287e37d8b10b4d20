import { protocolViolation } from '../errors.js';

/**
 * Reading and writing the field types inside a payload: fixed-width
 * little-endian integers, length-encoded integers and strings, NUL-terminated
 * strings. A read past the end is a protocol violation, never an exception of
 * another kind: malformed bytes from a client become an error packet.
 */
export class PayloadReader {
  offset: number;

  constructor(
    readonly payload: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.payload.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.payload.length) throw protocolViolation(`truncated packet: ${what} runs past the end`);
  }

  u8(): number {
    this.need(1, 'a 1-byte integer');
    return this.payload[this.offset++]!;
  }

  u16(): number {
    this.need(2, 'a 2-byte integer');
    const v = this.payload.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u24(): number {
    this.need(3, 'a 3-byte integer');
    const v = this.payload.readUIntLE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  u32(): number {
    this.need(4, 'a 4-byte integer');
    const v = this.payload.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, 'an 8-byte integer');
    const v = this.payload.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  /** A length-encoded integer; null for 0xFB (SQL NULL in a text row). Lengths above 2^53 are refused. */
  lenenc(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) {
      const v = this.u64();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw protocolViolation('length-encoded integer too large');
      return Number(v);
    }
    throw protocolViolation('0xff is not a length-encoded integer');
  }

  lenencNumber(what: string): number {
    const v = this.lenenc();
    if (v === null) throw protocolViolation(`${what}: NULL where a length was expected`);
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n, `a ${n}-byte field`);
    const v = this.payload.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  lenencBytes(what: string): Buffer {
    return this.bytes(this.lenencNumber(what));
  }

  /** Up to (not including) the next NUL, which is consumed; a missing NUL is a violation. */
  nulBytes(what: string): Buffer {
    const end = this.payload.indexOf(0, this.offset);
    if (end < 0) throw protocolViolation(`truncated packet: ${what} has no terminating NUL`);
    const v = this.payload.subarray(this.offset, end);
    this.offset = end + 1;
    return v;
  }

  nulString(what: string): string {
    return this.nulBytes(what).toString('utf8');
  }

  rest(): Buffer {
    const v = this.payload.subarray(this.offset);
    this.offset = this.payload.length;
    return v;
  }
}

export class PayloadWriter {
  private parts: Buffer[] = [];
  private length = 0;

  private push(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }

  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16LE(v);
    return this.push(b);
  }

  u24(v: number): this {
    const b = Buffer.allocUnsafe(3);
    b.writeUIntLE(v, 0, 3);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0);
    return this.push(b);
  }

  u64(v: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(v);
    return this.push(b);
  }

  lenenc(v: number): this {
    if (v < 0xfb) return this.u8(v);
    if (v <= 0xffff) return this.u8(0xfc).u16(v);
    if (v <= 0xffffff) return this.u8(0xfd).u24(v);
    return this.u8(0xfe).u64(BigInt(v));
  }

  bytes(b: Buffer | string): this {
    return this.push(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);
  }

  zeros(n: number): this {
    return this.push(Buffer.alloc(n));
  }

  lenencBytes(b: Buffer | string): this {
    const buf = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
    return this.lenenc(buf.length).push(buf);
  }

  nulString(b: Buffer | string): this {
    return this.bytes(b).u8(0);
  }

  build(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

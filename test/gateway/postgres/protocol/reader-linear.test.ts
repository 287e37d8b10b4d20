import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameReader } from '../../../../src/gateway/postgres/protocol/reader.js';

/**
 * Framing must cost time linear in the bytes received, whatever the chunking:
 * a 60 MB message once cost 23.7 s of CPU because every chunk re-copied all
 * bytes gathered so far. The assertion counts bytes copied (Buffer.concat and
 * Buffer#copy, the only ways the reader copies), not time, so it holds on a
 * loaded machine.
 */

function message(type: string, bodyBytes: number): Buffer {
  const b = Buffer.alloc(5 + bodyBytes, 0x61);
  b.write(type, 0);
  b.writeInt32BE(4 + bodyBytes, 1);
  return b;
}

function countCopies(): { bytes: () => number } {
  let copied = 0;
  const concat = Buffer.concat.bind(Buffer);
  vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], total?: number) => {
    const out = concat(list, total);
    copied += out.length;
    return out;
  });
  const copy = Buffer.prototype.copy as (this: Buffer, ...args: unknown[]) => number;
  vi.spyOn(Buffer.prototype, 'copy').mockImplementation(function (this: Buffer, ...args: unknown[]) {
    const n = copy.apply(this, args);
    copied += n;
    return n;
  });
  return { bytes: () => copied };
}

function feed(reader: FrameReader, all: Buffer, chunk: number): Buffer[] {
  const bodies: Buffer[] = [];
  for (let at = 0; at < all.length; at += chunk) {
    reader.push(all.subarray(at, Math.min(all.length, at + chunk)));
    for (let f = reader.next(); f; f = reader.next()) bodies.push(f.body);
  }
  return bodies;
}

afterEach(() => vi.restoreAllMocks());

describe('frame reader cost', () => {
  it('copies a big message split into 64 KiB chunks a bounded number of times over', () => {
    const big = message('Q', 8 * 1024 * 1024);
    const reader = new FrameReader({ typed: true, maxLength: 64 * 1024 * 1024 });
    const copies = countCopies();
    const bodies = feed(reader, big, 64 * 1024);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.length).toBe(8 * 1024 * 1024);
    expect(bodies[0]!.every((b) => b === 0x61)).toBe(true);
    // Joining on every chunk copies ~n²/(2·chunk) = 512 MiB here; linear framing copies a small multiple of n.
    expect(copies.bytes()).toBeLessThanOrEqual(4 * big.length);
  });

  it('copies a message arriving one byte at a time a bounded number of times over', () => {
    const big = message('Q', 64 * 1024);
    const reader = new FrameReader({ typed: true, maxLength: 1024 * 1024 });
    const copies = countCopies();
    const bodies = feed(reader, big, 1);
    expect(bodies.map((b) => b.length)).toEqual([64 * 1024]);
    expect(copies.bytes()).toBeLessThanOrEqual(4 * big.length);
  });

  it('keeps frames already handed out intact while gathering the next one', () => {
    const a = message('Q', 10);
    a.fill(0x62, 5);
    const b = message('P', 100_000);
    const all = Buffer.concat([message('S', 0), a, b, message('S', 0)]);
    const reader = new FrameReader({ typed: true, maxLength: 1024 * 1024 });
    const frames: { type: number; raw: Buffer }[] = [];
    for (let at = 0; at < all.length; at += 7) {
      reader.push(all.subarray(at, Math.min(all.length, at + 7)));
      for (let f = reader.next(); f; f = reader.next()) frames.push(f);
    }
    expect(frames.map((f) => String.fromCharCode(f.type))).toEqual(['S', 'Q', 'P', 'S']);
    expect(Buffer.concat(frames.map((f) => f.raw)).equals(all)).toBe(true);
    expect(frames[1]!.raw.equals(a)).toBe(true);
  });

  it('hands back unread bytes of a partly gathered message', () => {
    const m = message('Q', 50);
    const reader = new FrameReader({ typed: true, maxLength: 1024 });
    reader.push(m.subarray(0, 3));
    reader.push(m.subarray(3, 20));
    expect(reader.next()).toBeNull();
    expect(reader.buffered()).toBe(20);
    expect(reader.takeRest().equals(m.subarray(0, 20))).toBe(true);
    expect(reader.buffered()).toBe(0);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_PACKET_PAYLOAD } from '../../../../src/gateway/mysql/protocol/codes.js';
import { encodePacket, PacketFramer } from '../../../../src/gateway/mysql/protocol/framer.js';
import { decodeHandshakeResponse, decodeHandshakeV10, encodeHandshakeResponse, encodeHandshakeV10 } from '../../../../src/gateway/mysql/protocol/messages.js';
import { MysqlGatewayError } from '../../../../src/gateway/mysql/errors.js';

/** COM_PING, sequence 0: the smallest real packet. */
const PING = Buffer.from([0x01, 0x00, 0x00, 0x00, 0x0e]);

describe('MySQL packet framer', () => {
  it('reads a packet delivered one byte at a time', () => {
    const f = new PacketFramer(1 << 20);
    for (let i = 0; i < PING.length - 1; i++) {
      f.push(PING.subarray(i, i + 1));
      expect(f.next()).toBeNull();
    }
    f.push(PING.subarray(PING.length - 1));
    expect(f.next()).toEqual({ seq: 0, lastSeq: 0, payload: Buffer.from([0x0e]) });
    expect(f.next()).toBeNull();
  });

  it('reads several packets from one chunk', () => {
    const f = new PacketFramer(1 << 20);
    f.push(Buffer.concat([PING, encodePacket(Buffer.from('abc'), 1).bytes]));
    expect(f.next()?.payload).toEqual(Buffer.from([0x0e]));
    expect(f.next()).toMatchObject({ seq: 1, payload: Buffer.from('abc') });
  });

  it('splits payloads of 16 MiB and more across packets and joins them back, including the empty tail', () => {
    for (const size of [MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD, MAX_PACKET_PAYLOAD + 5, 2 * MAX_PACKET_PAYLOAD]) {
      const payload = Buffer.alloc(size, 0x61);
      payload[size - 1] = 0x7a;
      const { bytes, nextSeq } = encodePacket(payload, 0);
      const physical = Math.floor(size / MAX_PACKET_PAYLOAD) + 1;
      expect(nextSeq, String(size)).toBe(physical & 0xff);
      expect(bytes.length).toBe(size + 4 * physical);
      const f = new PacketFramer(64 << 20);
      for (let at = 0; at < bytes.length; at += 1 << 20) f.push(bytes.subarray(at, at + (1 << 20)));
      const p = f.next()!;
      expect(p.seq).toBe(0);
      expect(p.lastSeq).toBe(physical - 1);
      expect(p.payload.length).toBe(size);
      expect(p.payload[size - 1]).toBe(0x7a);
    }
  });

  it('refuses a payload above the limit as soon as the header says so', () => {
    const f = new PacketFramer(1000);
    f.push(Buffer.from([0xe9, 0x03, 0x00, 0x00]));
    expect(() => f.next()).toThrow(expect.objectContaining({ code: 'packet_too_large', errno: 1153 }));
  });

  it('refuses out-of-order sequence ids inside a split payload', () => {
    const { bytes } = encodePacket(Buffer.alloc(MAX_PACKET_PAYLOAD + 1), 0);
    bytes[MAX_PACKET_PAYLOAD + 4 + 3] = 7;
    const f = new PacketFramer(64 << 20);
    f.push(bytes);
    expect(() => f.next()).toThrow(/sequence id 7/);
  });

  it('round-trips the handshake and the handshake response', () => {
    const hs = { serverVersion: '8.0.36-airlock', connectionId: 42, nonce: Buffer.from('abcdefghijklmnopqrst'), capabilities: 0x81bff7ff, collation: 45, status: 2, authPlugin: 'caching_sha2_password' };
    expect(decodeHandshakeV10(encodeHandshakeV10(hs))).toEqual(hs);
    const resp = { capabilities: 0x01bfa68d | (1 << 20) | (1 << 21), maxPacket: 1 << 24, collation: 45, user: 'alice', authResponse: randomBytes(32), database: 'orders-mysql', authPlugin: 'caching_sha2_password', attributes: new Map([['_client_name', 'x']]) };
    expect(decodeHandshakeResponse(encodeHandshakeResponse(resp))).toEqual(resp);
  });

  it('malformed handshake responses are protocol violations, never other exceptions', () => {
    const good = encodeHandshakeResponse({ capabilities: 0x000fa68d | (1 << 20) | (1 << 21), maxPacket: 1 << 24, collation: 45, user: 'alice', authResponse: Buffer.alloc(20, 1), database: 'db', authPlugin: 'mysql_native_password', attributes: new Map([['a', 'b']]) });
    for (let cut = 0; cut < good.length; cut++) {
      try {
        decodeHandshakeResponse(good.subarray(0, cut));
      } catch (err) {
        expect(err, `cut at ${cut}`).toBeInstanceOf(MysqlGatewayError);
      }
    }
  });
});

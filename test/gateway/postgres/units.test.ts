import { describe, expect, it } from 'vitest';
import { scramVerifier } from '../../../src/core/secret.js';
import { AuthThrottle } from '../../../src/core/auth-throttle.js';
import { FrameReader } from '../../../src/gateway/postgres/protocol/reader.js';
import { rowsFromTag } from '../../../src/gateway/postgres/protocol/messages.js';
import { parseTextArray } from '../../../src/gateway/postgres/protocol/text-array.js';
import { ScramClient } from '../../../src/gateway/postgres/scram-client.js';
import { scramServerFinal, scramServerFirst } from '../../../src/gateway/postgres/scram-server.js';

describe('SCRAM-SHA-256, gateway as server', () => {
  const salt = Buffer.from('0123456789abcdef');
  const grants = ['alk_one', 'alk_two'].map((secret, i) => ({ id: i, verifier: scramVerifier(secret, salt, 4096) }));

  const exchange = (secret: string) => {
    const client = new ScramClient(secret);
    const first = scramServerFirst('SCRAM-SHA-256', client.clientFirst().toString(), salt, 4096);
    const final = client.clientFinal(first.serverFirst);
    return { client, result: scramServerFinal(first.state, final.toString(), grants) };
  };

  it('finds the grant whose verifier the proof opens, and proves itself back', () => {
    const { client, result } = exchange('alk_two');
    expect(result?.match.id).toBe(1);
    expect(() => client.verifyServerFinal(result!.serverFinal)).not.toThrow();
  });

  it('matches nothing for a wrong secret', () => {
    expect(exchange('alk_three').result).toBeNull();
  });

  it('rejects a tampered nonce and a channel-binding request it did not offer', () => {
    const client = new ScramClient('alk_one');
    const first = scramServerFirst('SCRAM-SHA-256', client.clientFirst().toString(), salt, 4096);
    const final = client.clientFinal(first.serverFirst).toString().replace('r=', 'r=X');
    expect(() => scramServerFinal(first.state, final, grants)).toThrow(/nonce/);
    expect(() => scramServerFirst('SCRAM-SHA-256', 'p=tls-server-end-point,,n=,r=abc', salt, 4096)).toThrow();
    expect(() => scramServerFirst('SCRAM-SHA-256-PLUS', 'n,,n=,r=abc', salt, 4096)).toThrow();
  });

  it('the client refuses a server that cannot produce the server signature', () => {
    const { client } = exchange('alk_one');
    expect(() => client.verifyServerFinal(Buffer.from(`v=${Buffer.alloc(32).toString('base64')}`))).toThrow();
  });
});

describe('auth throttle', () => {
  it('delays failures of a (client address, user) pair from the allowance on, doubling up to the cap, on the injected clock', () => {
    let now = 0;
    const t = new AuthThrottle({ now: () => now, maxFailures: 3, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 5_000 });
    expect([t.failed('10.0.0.1', 'alice'), t.failed('10.0.0.1', 'alice')]).toEqual([false, false]);
    expect(t.failureDelayMs('10.0.0.1', 'alice')).toBe(0);
    expect(t.failed('10.0.0.1', 'alice')).toBe(true);
    expect(t.failureDelayMs('10.0.0.1', 'alice')).toBe(1_000);
    expect(t.retryAfterMs('10.0.0.1', 'alice')).toBe(1_000);
    expect(t.failed('10.0.0.1', 'alice')).toBe(false);
    expect(t.failureDelayMs('10.0.0.1', 'alice')).toBe(2_000);
    for (let i = 0; i < 10; i++) t.failed('10.0.0.1', 'alice');
    expect(t.failureDelayMs('10.0.0.1', 'alice')).toBe(5_000);
    expect(t.failureDelayMs('10.0.0.2', 'alice')).toBe(0);
    expect(t.failureDelayMs('10.0.0.1', 'bob')).toBe(0);
    now += 4_000;
    expect(t.retryAfterMs('10.0.0.1', 'alice')).toBe(1_000);
  });

  it('forgets a pair whose last failure is older than the window', () => {
    let now = 0;
    const t = new AuthThrottle({ now: () => now, maxFailures: 2, windowMs: 1_000, baseDelayMs: 10 });
    t.failed('a', 'u');
    t.failed('a', 'u');
    expect(t.failureDelayMs('a', 'u')).toBe(10);
    now += 1_500;
    expect(t.failureDelayMs('a', 'u')).toBe(0);
    expect(t.failed('a', 'u')).toBe(false);
  });

  it('given only lockoutMs, turns the pair away for that long from the maxFailures-th failure (the HTTP API)', () => {
    let now = 0;
    const t = new AuthThrottle({ now: () => now, maxFailures: 3, windowMs: 60_000, lockoutMs: 300_000 });
    expect([t.failed('a', 'api'), t.failed('a', 'api'), t.failed('a', 'api')]).toEqual([false, false, true]);
    expect(t.retryAfterMs('a', 'api')).toBe(300_000);
    now += 300_000;
    expect(t.retryAfterMs('a', 'api')).toBe(0);
    expect(t.failed('a', 'api')).toBe(false);
  });
});

describe('framing and small parsers', () => {
  it('reassembles messages split across chunks and returns several from one chunk', () => {
    const r = new FrameReader({ typed: true, maxLength: 1024 });
    const m = (t: string, body: string) => {
      const b = Buffer.alloc(5 + body.length);
      b.write(t, 0);
      b.writeInt32BE(4 + body.length, 1);
      b.write(body, 5);
      return b;
    };
    const all = Buffer.concat([m('Q', 'abc'), m('S', ''), m('Q', 'defgh')]);
    r.push(all.subarray(0, 3));
    expect(r.next()).toBeNull();
    r.push(all.subarray(3, 13));
    expect(r.next()?.body.toString()).toBe('abc');
    expect(r.next()?.type).toBe('S'.charCodeAt(0));
    expect(r.next()).toBeNull();
    r.push(all.subarray(13));
    expect(r.next()?.body.toString()).toBe('defgh');
  });

  it('refuses lengths below the header and above the cap', () => {
    const r = new FrameReader({ typed: true, maxLength: 100 });
    r.push(Buffer.from([0x51, 0, 0, 0, 2]));
    expect(() => r.next()).toThrow(expect.objectContaining({ code: 'protocol_violation' }));
    const big = new FrameReader({ typed: true, maxLength: 100 });
    big.push(Buffer.from([0x51, 0, 0, 1, 0]));
    expect(() => big.next()).toThrow(expect.objectContaining({ code: 'message_too_large' }));
  });

  it('reads row counts from command tags and schema names from text arrays', () => {
    expect(rowsFromTag('INSERT 0 5')).toBe(5);
    expect(rowsFromTag('SELECT 12')).toBe(12);
    expect(rowsFromTag('CREATE TABLE')).toBeUndefined();
    expect(rowsFromTag('BEGIN')).toBeUndefined();
    expect(parseTextArray('{pg_catalog,public,"my schema","a\\"b"}')).toEqual(['pg_catalog', 'public', 'my schema', 'a"b']);
  });
});

import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzPostgresDecoder } from '../../../../src/bench/postgres-message-fuzz.js';
import * as msg from '../../../../src/gateway/postgres/protocol/messages.js';
import { startHarness, type Harness } from '../harness.js';

describe('PostgreSQL frontend decoding under random input', () => {
  it('never throws anything but a protocol error, for any bytes (short run; npm run fuzz runs 1M)', () => {
    const started = Date.now();
    const result = fuzzPostgresDecoder({ inputs: 8_000, seed: 20261129 });
    expect(result.unexpected).toEqual([]);
    expect(result.inputs).toBe(8_000);
    expect(result.frames).toBeGreaterThan(0);
    expect(result.violations).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the gateway under random connections', () => {
  let h: Harness;
  let bystander: pg.Client;
  beforeAll(async () => {
    h = await startHarness();
    const bob = h.grant(['read']);
    bystander = new pg.Client({ host: '127.0.0.1', port: h.port, user: bob.user, password: bob.secret, database: h.resource });
    await bystander.connect();
  });
  afterAll(async () => {
    await bystander?.end();
    await h?.close();
  });

  /** Sends bytes on a fresh connection and waits until the gateway closes it or 300 ms pass. */
  async function throwAt(bytes: Buffer): Promise<void> {
    const socket = net.connect({ host: '127.0.0.1', port: h.port });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve).once('error', () => resolve()));
    socket.write(bytes);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 300);
      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    socket.destroy();
  }

  it('answers mutated startup packets without affecting a live session', async () => {
    let x = 7;
    const next = () => (x = (x * 1103515245 + 12345) >>> 0);
    const base = msg.startupMessage({ user: 'alice', database: h.resource });
    const inputs: Buffer[] = [];
    for (let i = 0; i < 24; i++) {
      const b = Buffer.from(base);
      for (let e = 0; e < 1 + (next() % 3); e++) b[next() % b.length] = next() & 0xff;
      inputs.push(i % 4 === 0 ? b.subarray(0, next() % b.length) : b);
    }
    await Promise.all(inputs.map((b) => throwAt(b)));
    expect((await bystander.query('select 1 as one')).rows[0].one).toBe(1);
  });
});

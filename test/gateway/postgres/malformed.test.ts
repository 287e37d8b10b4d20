import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient, errorOf, types } from './raw-client.js';

function typedMessage(type: string, body: Buffer, declaredLength = body.length + 4): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(declaredLength, 1);
  return Buffer.concat([head, body]);
}

/** Writes `bytes` and reads whatever comes back until the gateway closes (or 2 s pass: then it is left open). */
async function sendRaw(port: number, bytes: Buffer, opts: { hangUp?: boolean } = {}): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const got: Buffer[] = [];
  socket.on('data', (d) => got.push(d));
  socket.on('error', () => undefined);
  if (opts.hangUp) socket.end(bytes);
  else socket.write(bytes);
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 2_000);
    socket.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return Buffer.concat(got);
}

describe('malformed and hostile protocol input', () => {
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

  const bystanderStillWorks = async () => expect((await bystander.query('select 1 as one')).rows[0].one).toBe(1);

  it('answers an oversized startup packet with 08P01 and closes', async () => {
    const big = Buffer.alloc(8);
    big.writeInt32BE(1_000_000, 0);
    big.writeInt32BE(196608, 4);
    const reply = await sendRaw(h.port, big);
    expect(String.fromCharCode(reply[0]!)).toBe('E');
    expect(reply.toString()).toContain('08P01');
    await bystanderStillWorks();
  });

  it('answers a too-short length and an unknown protocol version with an error', async () => {
    expect((await sendRaw(h.port, Buffer.from([0, 0, 0, 2, 1, 2, 3, 4]))).toString()).toContain('08P01');
    const v2 = Buffer.alloc(8);
    v2.writeInt32BE(8, 0);
    v2.writeInt32BE(0x00020000, 4);
    expect((await sendRaw(h.port, v2)).toString()).toContain('0A000');
    await bystanderStillWorks();
  });

  it('declines GSS encryption and TLS (when not configured) with N, then accepts a normal startup', async () => {
    const c = await RawClient.connect(h.port);
    const got: number[] = [];
    const oneByte = () => new Promise<number>((resolve) => c.socket.once('data', (d: Buffer) => resolve(d[0]!)));
    c.puller.detach();
    c.socket.resume();
    const gss = oneByte();
    c.socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]));
    got.push(await gss);
    const ssl = oneByte();
    c.socket.write(msg.sslRequest());
    got.push(await ssl);
    expect(String.fromCharCode(...got)).toBe('NN');
    const auth = new Promise<Buffer>((resolve) => c.socket.once('data', resolve));
    c.socket.write(msg.startupMessage({ user: 'someone', database: h.resource }));
    expect(String.fromCharCode((await auth)[0]!)).toBe('R');
    c.socket.destroy();
  });

  it('ignores a CancelRequest with an unknown key', async () => {
    const reply = await sendRaw(h.port, msg.cancelRequest(12345, 67890));
    expect(reply.length).toBe(0);
    await bystanderStillWorks();
  });

  it('survives clients that disconnect mid-message, before and after sign-in', async () => {
    const startup = msg.startupMessage({ user: 'x', database: h.resource });
    const s = net.connect({ host: '127.0.0.1', port: h.port });
    s.on('error', () => undefined);
    s.end(startup.subarray(0, startup.length - 3));
    const alice = h.grant(['read']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    c.socket.end(msg.query('select 1').subarray(0, 6));
    await h.backend.until(() => h.backend.ended.some((e) => e.sessionId === h.backend.started.find((st) => st.grantId === alice.grantId)?.sessionId));
    await bystanderStillWorks();
  });

  it('closes only the offending session on an unknown message type, with 08P01', async () => {
    const alice = h.grant(['read']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    c.socket.write(typedMessage('!', Buffer.alloc(3)));
    const frames = await c.untilClosed();
    expect(errorOf(frames)).toMatchObject({ severity: 'FATAL', sqlstate: '08P01' });
    await h.backend.until(() => h.backend.ended.some((e) => e.reason === 'violation'));
    await bystanderStillWorks();
  });

  it('closes a session that declares a message over the size cap, and one with a malformed Parse', async () => {
    const alice = h.grant(['read']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    c.socket.write(typedMessage('Q', Buffer.alloc(0), 200 * 1024 * 1024));
    expect(errorOf(await c.untilClosed())).toMatchObject({ sqlstate: '08P01' });
    const d = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    d.socket.write(typedMessage('P', Buffer.from('no-terminator')));
    expect(errorOf(await d.untilClosed())).toMatchObject({ sqlstate: '08P01' });
    await bystanderStillWorks();
  });

  it('refuses a refused Parse and discards to Sync, answering ReadyForQuery', async () => {
    const alice = h.grant(['read']);
    const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
    const parse = (name: string, text: string) => typedMessage('P', Buffer.concat([Buffer.from(`${name}\0${text}\0`), Buffer.alloc(2)]));
    const bind = (stmt: string) => typedMessage('B', Buffer.concat([Buffer.from(`\0${stmt}\0`), Buffer.alloc(6)]));
    const execute = typedMessage('E', Buffer.concat([Buffer.from('\0'), Buffer.alloc(4)]));
    const sync = typedMessage('S', Buffer.alloc(0));
    c.socket.write(Buffer.concat([parse('ok', 'select 1'), bind('ok'), execute, parse('', 'drop table forbidden'), bind(''), execute, sync]));
    const frames = await c.untilReady();
    // ParseComplete, BindComplete, DataRow, CommandComplete for the allowed part, then our refusal, then ReadyForQuery.
    expect(types(frames)).toBe('12DCEZ');
    expect(errorOf(frames)).toMatchObject({ severity: 'ERROR', sqlstate: '42501' });
    c.socket.write(Buffer.concat([bind('ok'), execute, sync]));
    expect(types(await c.untilReady())).toBe('2DCZ');
    c.socket.write(typedMessage('F', Buffer.alloc(10)));
    const fn = await c.untilReady();
    expect(errorOf(fn)).toMatchObject({ sqlstate: '42501' });
    c.socket.destroy();
  });

  it('stays up through random garbage, before and after sign-in', async () => {
    const alice = h.grant(['read']);
    for (let i = 0; i < 40; i++) {
      await sendRaw(h.port, randomBytes(1 + (i % 7) * 37), { hangUp: true });
    }
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.signIn(h.port, alice.user, h.resource, alice.secret);
      c.socket.write(randomBytes(5 + i * 13));
      c.socket.end();
      await c.untilClosed();
    }
    await bystanderStillWorks();
    expect(h.gateway.sessions().length).toBeGreaterThanOrEqual(1);
  });
});

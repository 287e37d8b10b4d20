import type net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as msg from '../../../src/gateway/postgres/protocol/messages.js';
import { admin } from './pg-fixture.js';
import { startHarness, type Harness } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * A session may hold only so many bytes in the gateway, whatever its client
 * does: pipelining without reading the answers, or leaving a large result
 * unread. The socket that feeds a full buffer is paused until it drains, so
 * the gateway's memory stays flat and other sessions keep answering.
 *
 * The gateway runs in this process, so its growth is this process's growth;
 * the attacking clients write only as fast as their sockets take bytes, so
 * their own buffers stay small.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes held in JS heap and in Buffers (socket write queues are Buffers). */
function held(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** What the gateway may hold for one session (both directions, plus the kernel's socket buffers we cannot see). */
const BOUND = 48 * 1024 * 1024;

/**
 * Writes `chunk` until `total` bytes went out or the socket stops taking
 * them: no 'drain' for `stallMs` means the gateway stopped reading.
 */
async function writeUntilHeld(socket: net.Socket, chunk: Buffer, total: number, stallMs = 1_500): Promise<{ sent: number; held: boolean }> {
  let sent = 0;
  while (sent < total) {
    const more = socket.write(chunk);
    sent += chunk.length;
    if (more) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        socket.off('drain', onDrain);
        resolve(false);
      }, stallMs);
      const onDrain = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.once('drain', onDrain);
    });
    if (!drained) return { sent, held: true };
  }
  return { sent, held: false };
}

/** Polls (bounded) until the user's upstream backend is blocked sending to the gateway. */
async function blockedWritingTo(user: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await admin(
      async (c) => (await c.query(`select wait_event from pg_stat_activity where application_name like $1 and state = 'active'`, [`airlock:${user}%`])).rows as { wait_event: string | null }[],
    );
    if (rows.some((r) => r.wait_event === 'ClientWrite')) return;
    if (Date.now() > deadline) throw new Error(`the upstream backend of ${user} never blocked writing: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the bytes a session holds in the gateway are bounded', () => {
  let h: Harness;
  let bystander: pg.Client;
  beforeAll(async () => {
    h = await startHarness({ statementText: 'off' });
    const b = h.grant(['read']);
    bystander = new pg.Client({ host: '127.0.0.1', port: h.port, user: b.user, password: b.secret, database: h.resource });
    await bystander.connect();
  }, 60_000);
  afterAll(async () => {
    await bystander?.end();
    await h?.close();
  });

  /** The worst `select 1` round trip of the bystander over a few pings. */
  async function bystanderWorstMs(): Promise<number> {
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      expect((await bystander.query('select 1 as one')).rows[0].one).toBe(1);
      worst = Math.max(worst, performance.now() - started);
    }
    return worst;
  }

  it('pauses a client that pipelines refused statements and never reads the refusals', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    c.socket.on('error', () => undefined);
    c.socket.pause();
    const before = held();
    // Each refusal answer is as large as the statement: the gateway would queue one for every statement read.
    const one = msg.query(`select 'forbidden' /* ${'r'.repeat(200)} */`);
    const chunk = Buffer.concat(Array.from({ length: Math.ceil((256 * 1024) / one.length) }, () => one));
    const { sent, held: wasHeld } = await writeUntilHeld(c.socket, chunk, 200 * 1024 * 1024);
    const grew = held() - before;
    expect(wasHeld, `the gateway read all ${sent} bytes`).toBe(true);
    expect(grew).toBeLessThan(BOUND);
    expect(await bystanderWorstMs()).toBeLessThan(1_000);
    c.socket.destroy();
  }, 60_000);

  it('pauses a client that pipelines allowed statements and never reads the results', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    c.socket.on('error', () => undefined);
    c.socket.pause();
    const before = held();
    const one = msg.query(`select repeat('y', 2000) /* ${'a'.repeat(200)} */`);
    const chunk = Buffer.concat(Array.from({ length: Math.ceil((256 * 1024) / one.length) }, () => one));
    const { sent, held: wasHeld } = await writeUntilHeld(c.socket, chunk, 200 * 1024 * 1024);
    const grew = held() - before;
    expect(wasHeld, `the gateway read all ${sent} bytes`).toBe(true);
    expect(grew).toBeLessThan(BOUND);
    expect(await bystanderWorstMs()).toBeLessThan(1_000);
    c.socket.destroy();
  }, 60_000);

  it('pauses the upstream while a client leaves a 500 MB result unread, and resumes when it reads', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    c.socket.on('error', () => undefined);
    const before = held();
    c.socket.pause();
    c.socket.write(msg.query(`select repeat('x', 1000000) from generate_series(1, 500)`));
    // The upstream sends until the gateway stops reading it: then its backend waits on the socket.
    await blockedWritingTo(who.user);
    expect(held() - before).toBeLessThan(BOUND);
    expect(await bystanderWorstMs()).toBeLessThan(1_000);
    // Reading again gets the result, in order.
    c.socket.resume();
    expect((await c.next()).type).toBe(0x54);
    for (let i = 0; i < 50; i++) expect((await c.next()).body.length).toBeGreaterThan(1_000_000);
    c.socket.destroy();
  }, 60_000);

  it('stops reading a client whose refusals queue behind a query the upstream has not answered', async () => {
    const who = h.grant(['read']);
    const c = await RawClient.signIn(h.port, who.user, h.resource, who.secret);
    c.socket.on('error', () => undefined);
    const key = Math.floor(Math.random() * 1e9);
    const locker = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await locker.connect();
    await locker.query('select pg_advisory_lock($1)', [key]);
    try {
      // The client reads everything it gets; its refusals must wait behind the blocked query's answer.
      c.socket.write(msg.query(`select pg_advisory_lock(${key})`));
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 20_000;
        const poll = async () => {
          const rows = await admin(async (a) => (await a.query(`select 1 from pg_stat_activity where application_name like $1 and wait_event_type = 'Lock'`, [`airlock:${who.user}%`])).rowCount);
          if (rows) resolve();
          else if (Date.now() > deadline) reject(new Error('the query never waited on the lock'));
          else setTimeout(() => void poll(), 50);
        };
        void poll();
      });
      const before = held();
      const one = msg.query(`select 'forbidden' /* ${'q'.repeat(200)} */`);
      const chunk = Buffer.concat(Array.from({ length: Math.ceil((256 * 1024) / one.length) }, () => one));
      const { sent, held: wasHeld } = await writeUntilHeld(c.socket, chunk, 200 * 1024 * 1024);
      expect(wasHeld, `the gateway read all ${sent} bytes`).toBe(true);
      expect(held() - before).toBeLessThan(BOUND);
      // Once the upstream answers, every statement gets its answer in order.
      await locker.query('select pg_advisory_unlock($1)', [key]);
      const first = await c.untilReady();
      expect(first.some((f) => f.type === 0x44)).toBe(true);
      const refusal = await c.untilReady();
      expect(msg.parseErrorFields(refusal[0]!.body).message).toContain('forbidden');
    } finally {
      await locker.end();
      c.socket.destroy();
    }
  }, 60_000);
});

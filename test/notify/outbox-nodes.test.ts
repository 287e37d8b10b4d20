import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { startDeliveryWorker } from '../../src/notify/delivery-worker.js';
import { insertOutboxRows, type NewOutboxRow } from '../../src/notify/outbox-store.js';
import { sinkFromConfig } from '../../src/notify/sinks.js';
import { storeFactory } from '../support/stores.js';
import { startReceiver } from './receiver.js';

/**
 * Two nodes on one PostgreSQL store, each with its own delivery worker over
 * the same sinks (as two `airlock server` processes with the same config):
 * every outbox row reaches its receiver once, from exactly one of them, and
 * each sink's rows arrive in row order.
 */
const stores = storeFactory('postgres');
afterAll(() => stores.dropAll());

describe('the outbox with two nodes on one PostgreSQL store', () => {
  it('delivers each event once per sink, by one node, in order per sink, while both nodes drain and rows keep coming', async () => {
    const location = await stores.fresh();
    const [a, b] = [await location.open({ node: 'a' }), await location.open({ node: 'b' })];
    const receivers = [await startReceiver(), await startReceiver()];
    const sinks = receivers.map((r) => sinkFromConfig({ kind: 'webhook', url: r.url } as never, {}));
    const silent = () => {};
    // No polling: each node drains only when kicked, so the test shows the leases, not a timer.
    const workers = [a, b].map((store) => startDeliveryWorker({ store, clock: systemClock, sinks, log: silent, pollMs: 0 }));
    const PER_ROUND = 20;
    const ROUNDS = 4;
    try {
      let seq = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Rows for both sinks, written by alternating nodes, then both nodes told at once.
        const writer = round % 2 === 0 ? a : b;
        const rows: NewOutboxRow[] = [];
        for (let i = 0; i < PER_ROUND; i++) {
          seq += 1;
          for (const sink of sinks) rows.push({ auditSeq: seq, sink: sink.id, eventType: 'grant.activated', payload: JSON.stringify({ n: seq }), at: new Date(Date.now() - 1000) });
        }
        await writer.transaction((tx) => insertOutboxRows(tx, rows));
        await Promise.all(workers.map((w) => w.kick()));
      }
      const total = ROUNDS * PER_ROUND;
      await Promise.all(receivers.map((r) => r.until(total)));
      await Promise.all(workers.map((w) => w.idle()));
      for (const r of receivers) {
        const got = r.deliveries.map((d) => (JSON.parse(d.body) as { n: number }).n);
        // Once each, in order.
        expect(got).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      }
      for (const sink of sinks) {
        const delivered = workers.reduce((n, w) => n + w.stats()[sink.id]!.delivered, 0);
        expect(delivered).toBe(total);
      }
      const pending = await a.db.selectFrom('outbox').select('id').where('delivered_at', 'is', null).execute();
      expect(pending).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      for (const r of receivers) await r.close();
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('picks up a sink another node left (its retries, its rows) by polling', async () => {
    const location = await stores.fresh();
    const store = await location.open({ node: 'survivor' });
    const receiver = await startReceiver();
    const sinks = [sinkFromConfig({ kind: 'webhook', url: receiver.url } as never, {})];
    // Rows another node committed and never announced here.
    await store.transaction((tx) => insertOutboxRows(tx, [1, 2, 3].map((n) => ({ auditSeq: n, sink: sinks[0]!.id, eventType: 'grant.ended', payload: JSON.stringify({ n }), at: new Date(Date.now() - 1000) }))));
    const worker = startDeliveryWorker({ store, clock: systemClock, sinks, log: () => {}, pollMs: 20 });
    try {
      await receiver.until(3);
      expect(receiver.deliveries.map((d) => (JSON.parse(d.body) as { n: number }).n)).toEqual([1, 2, 3]);
    } finally {
      await worker.stop();
      await receiver.close();
      await store.close();
    }
  });
});

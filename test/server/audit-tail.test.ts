import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, type AuditEntry } from '../../src/audit/chain.js';
import { createEventBus } from '../../src/core/events.js';
import { startAuditTail, type AuditTail, type TailEvent } from '../../src/server/audit-tail.js';
import { openStore, type Store } from '../../src/store/store.js';

const statement = (resource: string, refused = false): AuditEntry => ({
  actor: 'alice',
  action: refused ? 'statement.refused' : 'statement',
  target: 'ses_1',
  resource,
  details: { text: 'select 1' },
});
const lifecycle = (action: string): AuditEntry => ({ actor: 'bob', action, target: 'grt_1', resource: 'orders-db' });

describe('audit tail', () => {
  let dir: string;
  let store: Store;
  let tail: AuditTail;
  let seen: TailEvent[][];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-tail-'));
    store = await openStore(`sqlite:${join(dir, 'airlock.db')}`, '/');
    await append([lifecycle('grant.approved')]);
    tail = await startAuditTail(store, createEventBus(), { pollMs: 60_000 });
    seen = [];
    tail.subscribe((events) => seen.push([...events]));
  });
  afterEach(async () => {
    await tail.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = (entries: AuditEntry[]) => store.transaction((tx) => appendAudit(tx, new Date('2026-11-29T10:00:00Z'), entries));

  it('starts after the rows that existed and hands on other rows one by one, statement rows summed per action and resource', async () => {
    // seq 2..9 (seq 1 was there before the tail started)
    await append([statement('orders-db'), statement('orders-db'), lifecycle('grant.extended'), statement('orders-db', true)]);
    await append([statement('billing-db'), statement('orders-db'), lifecycle('grant.revoked'), statement('orders-db')]);
    await tail.poke();

    expect(seen).toHaveLength(1);
    const events = seen[0]!;
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events.filter((e) => !e.action.startsWith('statement')).map((e) => [e.seq, e.action, e.count])).toEqual([
      [4, 'grant.extended', undefined],
      [8, 'grant.revoked', undefined],
    ]);
    const summed = events.filter((e) => e.action.startsWith('statement')).map((e) => [e.action, e.resource, e.count, e.seq]);
    expect(summed).toEqual(
      expect.arrayContaining([
        ['statement', 'orders-db', 4, 9],
        ['statement.refused', 'orders-db', 1, 5],
        ['statement', 'billing-db', 1, 6],
      ]),
    );
    expect(summed).toHaveLength(3);
    expect(tail.head()).toBe(9);

    await tail.poke();
    expect(seen).toHaveLength(1);
  });

  it('counts every statement row exactly once across many reads, however large', async () => {
    let total = 0;
    for (let batch = 0; batch < 5; batch++) {
      await append(Array.from({ length: 700 }, (_, i) => (i % 350 === 0 ? lifecycle('grant.extended') : statement('orders-db', i % 7 === 0))));
      total += 700;
      await tail.poke();
    }
    const events = seen.flat();
    const statements = events.filter((e) => e.action.startsWith('statement')).reduce((n, e) => n + (e.count ?? 1), 0);
    const others = events.filter((e) => !e.action.startsWith('statement')).length;
    expect(others).toBe(10);
    expect(statements + others).toBe(total);
    expect(tail.head()).toBe(1 + total);
    // Never handed on out of order, even across reads.
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('reads more than one page of other rows without skipping any', async () => {
    await append(Array.from({ length: 4500 }, () => lifecycle('grant.extended')));
    await tail.poke();
    const seqs = seen.flat().map((e) => e.seq);
    expect(seqs).toHaveLength(4500);
    expect(seqs[0]).toBe(2);
    expect(seqs.at(-1)).toBe(4501);
  });
});

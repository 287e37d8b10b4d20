import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { openStore } from '../../src/store/store.js';
import { createWorld, type World } from '../support/world.js';

let w: World;
let file: string;

/** Six real events: two requests, one approval, two grants, one revocation. */
beforeEach(async () => {
  w = await createWorld();
  const read = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 600, reason: 'INC-1' });
  const write = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-2' });
  await w.lifecycle.approve(w.user('bob'), write.request.id);
  await w.lifecycle.revoke(w.user('root'), read.grant!.id, 'done');
  file = w.store.location;
  await w.store.close();
});

afterEach(async () => {
  await w.close().catch(() => {});
});

async function verifyFile() {
  const store = await openStore(`sqlite:${file}`, '/');
  try {
    return await verifyAudit(store.db);
  } finally {
    await store.close();
  }
}

function tamper(sql: string, ...params: unknown[]) {
  const db = new SQLite(file);
  db.prepare(sql).run(...params);
  db.close();
}

describe('audit chain tamper detection', () => {
  it('holds for an untouched log', async () => {
    expect(await verifyFile()).toEqual({ ok: true, events: 6, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('names the edited row when details are changed', async () => {
    tamper(`update audit_events set details = replace(details, 'done', 'routine') where seq = 6`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 6, problem: expect.stringContaining('changed') });
  });

  it('names the edited row when its actor is rewritten', async () => {
    tamper(`update audit_events set actor = 'carol' where seq = 3`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('names the gap when a row is deleted', async () => {
    tamper(`delete from audit_events where seq = 2`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringContaining('missing') });
  });

  it('detects rows swapped into a different order', async () => {
    const db = new SQLite(file);
    db.exec(`update audit_events set seq = -1 where seq = 4; update audit_events set seq = 4 where seq = 5; update audit_events set seq = 5 where seq = -1;`);
    db.close();
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 4 });
  });

  it('detects the newest rows being cut off', async () => {
    tamper(`delete from audit_events where seq >= 5`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 5, problem: expect.stringContaining('removed') });
  });
});

import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/chain.js';
import { openStore } from '../../src/store/store.js';
import { describeEachStore, type TestStore } from '../support/stores.js';
import { createWorld, type World } from '../support/world.js';

let w: World;
let current: TestStore;

async function verifyFile() {
  const store = await openStore(current.url, current.dir);
  try {
    return await verifyAudit(store.db);
  } finally {
    await store.close();
  }
}

/** Edits the store behind Airlock's back, as someone with access to the file or the database could. */
async function tamper(statements: string) {
  const store = await openStore(current.url, current.dir);
  try {
    for (const statement of statements.split(';').filter((x) => x.trim())) await sql.raw(statement).execute(store.db);
  } finally {
    await store.close();
  }
}

describeEachStore('audit chain tamper detection', (stores) => {
  /** Six real events: two requests, one approval, two grants, one revocation. */
  beforeEach(async () => {
    current = await stores.fresh();
    w = await createWorld(undefined, { storeUrl: current.url });
    const read = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 600, reason: 'INC-1' });
    const write = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'write', durationSeconds: 600, reason: 'r', ticket: 'INC-2' });
    await w.lifecycle.approve(w.user('bob'), write.request.id);
    await w.lifecycle.revoke(w.user('root'), read.grant!.id, 'done');
    // Expiry runs the events above set off must end before the store closes: the test world's error handler throws.
    w.expiry.stop();
    await w.expiry.idle();
    await w.store.close();
  });

  afterEach(async () => {
    await w.close().catch(() => {});
  });

  it('holds for an untouched log', async () => {
    expect(await verifyFile()).toEqual({ ok: true, events: 6, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('names the edited row when details are changed', async () => {
    await tamper(`update audit_events set details = replace(details, 'done', 'routine') where seq = 6`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 6, problem: expect.stringContaining('changed') });
  });

  it('names the edited row when its actor is rewritten', async () => {
    await tamper(`update audit_events set actor = 'carol' where seq = 3`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('names the gap when a row is deleted', async () => {
    await tamper(`delete from audit_events where seq = 2`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringContaining('missing') });
  });

  it('detects rows swapped into a different order', async () => {
    await tamper(`update audit_events set seq = -1 where seq = 4; update audit_events set seq = 4 where seq = 5; update audit_events set seq = 5 where seq = -1;`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 4 });
  });

  it('detects the newest rows being cut off', async () => {
    await tamper(`delete from audit_events where seq >= 5`);
    expect(await verifyFile()).toMatchObject({ ok: false, firstBadSeq: 5, problem: expect.stringContaining('removed') });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../../src/audit/chain.js';
import { ManualClock } from '../../../src/core/clock.js';
import { parseConfig } from '../../../src/config/load.js';
import { startAirlock, type RunningAirlock } from '../../../src/server/airlock.js';

/**
 * A session that ends while the store cannot be written (a full disk) still
 * gets its end record, with the time and reason it really ended, as soon as
 * the store takes writes again: `who` never lists a session that is gone.
 */
const YAML = `
users:
  - { name: alice, groups: [oncall] }
resources:
  - name: full-db
    kind: postgres
    upstream: { host: 127.0.0.1, port: 5432, database: test }
    roles:
      read: { credential: { user: postgres }, allow: [read] }
policies:
  - { name: oncall, who: { groups: [oncall] }, resources: { names: [full-db] }, roles: [read], max_duration: 1h, approval: none }
gateway:
  postgres: { listen: 127.0.0.1:0 }
`;

let air: RunningAirlock;
let dir: string;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-full-'));
  air = await startAirlock(parseConfig(YAML, 'airlock.yaml', dir), { clock, listen: '127.0.0.1:0', postgresListen: '127.0.0.1:0' });
});

afterAll(async () => {
  await air?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Fills the store's file up to a fixed size, as a full disk would: every write that needs space then fails with SQLITE_FULL. */
async function fillTheDisk(): Promise<() => Promise<void>> {
  const db = air.store.db;
  const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count;
  await sql.raw(`pragma max_page_count = ${pages + 2}`).execute(db);
  let n = 0;
  for (const size of [100_000, 10_000, 1000, 100, 1]) {
    for (;;) {
      try {
        await db.insertInto('meta').values({ key: `pad-${n++}`, value: 'x'.repeat(size) }).execute();
      } catch {
        break;
      }
    }
  }
  // The audit table's own pages fill too (with ordinary chained events), so the end record finds no room either.
  for (const size of [1000, 100, 1]) {
    for (;;) {
      try {
        await air.store.transaction((tx) => appendAudit(tx, clock.now(), [{ actor: 'test', action: 'test.padding', target: 'disk', details: { pad: 'x'.repeat(size) } }]));
      } catch {
        break;
      }
    }
  }
  return async () => {
    await sql.raw('pragma max_page_count = 1073741823').execute(db);
    await db.deleteFrom('meta').where('key', 'like', 'pad-%').execute();
  };
}

describe('end records when the store was unwritable', () => {
  it('records the end with its real time and reason once the store takes writes again', async () => {
    const alice = air.directory.users.get('alice')!;
    const asked = await air.lifecycle.request(alice, { resource: 'full-db', role: 'read', durationSeconds: 1800, reason: 'disk full test' });
    const { secret } = await air.lifecycle.issueSecret(alice, asked.grant!.id);
    const gw = air.gateways.postgres!;
    const c = new pg.Client({ host: gw.host, port: gw.port, user: 'alice', password: secret, database: 'full-db' });
    await c.connect();
    await c.query('select 1');
    await air.flushAudit();

    const freeSpace = await fillTheDisk();
    const endedAt = clock.now();
    await c.end();
    const session = () => air.store.db.selectFrom('sessions').selectAll().where('grant_id', '=', asked.grant!.id).executeTakeFirstOrThrow();
    const kernel = () => air.running.get('postgres')!;
    // The session is gone from the gateway; its end record waits for the store.
    for (let i = 0; i < 500 && kernel().sessions().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(kernel().sessions()).toHaveLength(0);
    expect((await session()).ended_at).toBeNull();

    await freeSpace();
    clock.advance(5_000);
    for (let i = 0; i < 500 && (await session()).ended_at === null; i++) await new Promise((r) => setTimeout(r, 10));
    const ended = await session();
    expect(ended.end_reason).toBe('client');
    expect(ended.ended_at).toBe(endedAt.toISOString());
  });
});

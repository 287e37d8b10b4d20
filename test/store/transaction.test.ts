import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';

let store: Store | null = null;
let dir: string | null = null;
afterEach(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('store transactions', () => {
  it('report a full disk as the cause, not the rollback error that followed it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-store-'));
    store = await openStore(`sqlite:${join(dir, 'a.db')}`, dir);
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(store.db)).rows[0]!.page_count;
    const failure = await store
      .transaction(async (tx) => {
        // The file may not grow past its current size: the next page it needs is "disk full", as on a real full disk.
        await sql.raw(`pragma max_page_count = ${pages}`).execute(tx);
        await tx.insertInto('meta').values({ key: 'pad', value: 'x'.repeat(200_000) }).execute();
      })
      .then(
        () => null,
        (err: unknown) => err as Error & { code?: string },
      );
    expect(failure?.code).toBe('SQLITE_FULL');
    expect(failure?.message).toMatch(/full/);
  });
});

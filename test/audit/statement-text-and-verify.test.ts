import { createHash } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, verifyAudit } from '../../src/audit/chain.js';
import { DEFAULT_STATEMENT_TEXT_CAP_BYTES, statementText } from '../../src/audit/statement-text.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../support/stores.js';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('statement text kept in the audit', () => {
  it('keeps a short text whole, with its size and hash', () => {
    expect(statementText('select 1')).toEqual({ text: 'select 1', truncated: false, bytes: 8, sha256: sha('select 1') });
  });

  it('cuts a long text at the cap on a character boundary and hashes the whole text', () => {
    const whole = `select '${'é'.repeat(40_000)}'`; // 80,009 bytes
    const kept = statementText(whole);
    expect(kept.truncated).toBe(true);
    expect(kept.bytes).toBe(Buffer.byteLength(whole));
    expect(kept.sha256).toBe(sha(whole));
    expect(Buffer.byteLength(kept.text)).toBeLessThanOrEqual(DEFAULT_STATEMENT_TEXT_CAP_BYTES);
    expect(Buffer.byteLength(kept.text)).toBeGreaterThan(DEFAULT_STATEMENT_TEXT_CAP_BYTES - 2);
    expect(whole.startsWith(kept.text)).toBe(true);
    expect(kept.text).not.toContain('\uFFFD');
  });

  it('never splits a four-byte character or leaves half a surrogate pair', () => {
    const whole = 'ab😀😀';
    for (const cap of [2, 3, 4, 5, 6, 7, 9, 10]) {
      const kept = statementText(whole, cap);
      expect(Buffer.byteLength(kept.text)).toBeLessThanOrEqual(cap);
      expect(Buffer.from(kept.text, 'utf8').toString('utf8')).toBe(kept.text);
      expect(whole.startsWith(kept.text)).toBe(true);
    }
    expect(statementText(whole, 5).text).toBe('ab');
    expect(statementText(whole, 6).text).toBe('ab😀');
    expect(statementText(whole, 0)).toMatchObject({ text: '', truncated: true, bytes: 10 });
  });
});

/** Observes the largest string value any query result hands back: what verify holds in memory at once. */
function largestStringSeen(): { plugin: KyselyPlugin; largest: () => number } {
  let largest = 0;
  return {
    plugin: {
      transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => args.node,
      transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
        for (const row of args.result.rows) for (const v of Object.values(row)) if (typeof v === 'string') largest = Math.max(largest, v.length);
        return args.result;
      },
    },
    largest: () => largest,
  };
}

describeEachStore('verifying the audit chain', (stores) => {
  let store: Store;
  beforeEach(async () => {
    store = await (await stores.fresh()).open();
  });
  afterEach(async () => store?.close());

  const at = new Date('2026-11-29T12:00:00Z');
  const append = (details: Record<string, unknown>) => store.transaction((tx) => appendAudit(tx, at, [{ actor: 'alice', action: 'statement', target: 's1', details }]));

  it('verifies rows far larger than it reads at once, holding no more than a slice of any of them', async () => {
    await append({ text: 'select 1' });
    // 3 MB texts with quotes, backslashes, controls and characters outside the BMP, so escaping across slices is tested.
    const unit = `a"b\\c\n😀é${'x'.repeat(40)}`;
    for (let i = 0; i < 3; i++) await append({ text: unit.repeat(Math.ceil(3_000_000 / unit.length)) + i });
    await append({ text: 'select 2' });
    const seen = largestStringSeen();
    expect(await verifyAudit(store.db.withPlugin(seen.plugin))).toMatchObject({ ok: true, events: 5 });
    // Before, each 3 MB details came back whole (and a page held up to 5,000 of them).
    expect(seen.largest()).toBeLessThanOrEqual(2 * 1024 * 1024 + 64);
  });

  it('still names a large row that was changed after it was written', async () => {
    await append({ text: 'select 1' });
    await append({ text: 'y'.repeat(2_500_000) });
    await append({ text: 'select 3' });
    await store.db
      .updateTable('audit_events')
      .set({ details: JSON.stringify({ text: `${'y'.repeat(2_000_000)}z${'y'.repeat(499_999)}` }) })
      .where('seq', '=', 2)
      .execute();
    expect(await verifyAudit(store.db)).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'event 2 was changed after it was written' });
  });
});

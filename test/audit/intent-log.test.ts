import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/chain.js';
import { checkIntentCoverage } from '../../src/audit/intent-coverage.js';
import { IntentLog, readSegment, segmentFiles } from '../../src/audit/intent-log.js';
import { MAY_HAVE_RUN, recoverIntents } from '../../src/audit/intent-recovery.js';
import { ManualClock } from '../../src/core/clock.js';
import { openStore, type Store } from '../../src/store/store.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Lets the file system's callbacks (fdatasync, close, unlink) run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('not within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-intents-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function scratchStore(dir: string): Promise<Store> {
  const store = await openStore(`sqlite:${join(dir, 'a.db')}`, dir);
  cleanups.push(() => store.close());
  return store;
}

const outcome = (clock: ManualClock, store: Store, intent: string, text: string) =>
  store.transaction((tx) => appendAudit(tx, clock.now(), [{ actor: 'alice', action: 'statement', target: 'ses_1', details: { intent, outcome: 'ok', text } }]));

describe('the intent log', () => {
  it('numbers intents without gaps, rotates segments, and removes a segment once every intent in it is settled', async () => {
    const dir = scratchDir();
    const clock = new ManualClock();
    const log = new IntentLog({ dir, clock, segmentMs: 1000 });
    const a = log.intend('ses_1', 'insert 1');
    const b = log.intend('ses_1', 'insert 2');
    clock.advance(1500);
    log.tend();
    const c = log.intend('ses_2', 'insert 3');
    expect([a, b, c].map((id) => id.split('.')[2])).toEqual(['1', '2', '3']);
    expect(segmentFiles(dir)).toHaveLength(2);
    log.settled([a]);
    await settle();
    expect(segmentFiles(dir)).toHaveLength(2);
    log.settled([b]);
    // The first segment is done with (once it is on disk); the second still takes appends.
    await until(() => segmentFiles(dir).length === 1);
    expect(readSegment(segmentFiles(dir)[0]!).intents.map((i) => i.text)).toEqual(['insert 3']);
    log.settled([c]);
    log.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('survives a segment it cannot start (folder gone, disk full): the timer never throws, appends go on in the current segment, rotation retries', () => {
    const dir = scratchDir();
    const clock = new ManualClock();
    const log = new IntentLog({ dir, clock, segmentMs: 1000 });
    cleanups.push(() => log.close());
    log.intend('ses_1', 'select 1');
    rmSync(dir, { recursive: true, force: true });
    clock.advance(1500);
    // On the timer, an exception here would be uncaught and end the whole gateway process.
    expect(() => log.tend()).not.toThrow();
    const id = log.intend('ses_1', 'select 2');
    expect(id.split('.').slice(1)).toEqual(['1', '2']);
    // Once the folder is back, the next tick starts the new segment.
    mkdirSync(dir, { recursive: true });
    log.tend();
    expect(log.intend('ses_1', 'select 3').split('.')[1]).toBe('2');
    expect(segmentFiles(dir)).toHaveLength(1);
  });

  it('keeps unsettled intents on disk when closed, for recovery', () => {
    const dir = scratchDir();
    const log = new IntentLog({ dir, clock: new ManualClock() });
    log.intend('ses_1', 'update t set x = 1');
    log.close();
    const [file] = segmentFiles(dir);
    expect(readSegment(file!).intents).toMatchObject([{ session: 'ses_1', text: 'update t set x = 1' }]);
  });
});

describe('intents queued for the end of a turn', () => {
  it('reach the file in one write when the first is asked about, in the order queued', () => {
    const dir = scratchDir();
    const log = new IntentLog({ dir, clock: new ManualClock() });
    cleanups.push(() => log.close());
    const a = log.queue('ses_1', 'insert 1');
    const b = log.queue('ses_2', 'insert 2');
    const c = log.queue('ses_1', 'insert 3');
    // Nothing is on disk yet: none of these statements may be forwarded.
    expect(readSegment(segmentFiles(dir)[0]!).intents).toEqual([]);
    const writes = log.writes;
    expect(log.written(b)).toBe(true);
    expect(log.writes).toBe(writes + 1);
    expect(readSegment(segmentFiles(dir)[0]!).intents.map((i) => i.id)).toEqual([a, b, c]);
    // The others' are in already: asking costs no write.
    expect(log.written(a) && log.written(c)).toBe(true);
    expect(log.writes).toBe(writes + 1);
  });

  it('says no for every intent of a write that failed, also to sessions that ask after another one saw it fail, and yes again once writes work', () => {
    const dir = scratchDir();
    const log = new IntentLog({ dir, clock: new ManualClock() });
    cleanups.push(() => log.close());
    const a = log.queue('ses_1', 'insert 1');
    const b = log.queue('ses_2', 'insert 2');
    // The segment's descriptor stops taking writes (as a disk that fails would).
    const seg = (log as unknown as { current: { fd: number } }).current;
    const fd = seg.fd;
    seg.fd = 1_000_000;
    const errors: unknown[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      expect(log.written(a)).toBe(false);
      expect(log.written(b)).toBe(false);
      expect(() => log.intend('ses_3', 'insert 3')).toThrow();
    } finally {
      console.error = error;
      seg.fd = fd;
    }
    expect(errors).toHaveLength(1);
    const d = log.queue('ses_1', 'insert 4');
    expect(log.written(d)).toBe(true);
    expect(log.written(a) || log.written(b)).toBe(false);
    expect(readSegment(segmentFiles(dir)[0]!).intents.map((i) => i.text)).toEqual(['insert 4']);
  });

  it('are written before their segment is retired, so each line is in the segment its id names', () => {
    const dir = scratchDir();
    const clock = new ManualClock();
    const log = new IntentLog({ dir, clock, segmentMs: 1000 });
    cleanups.push(() => log.close());
    const a = log.queue('ses_1', 'insert 1');
    clock.advance(1500);
    log.tend();
    const b = log.queue('ses_1', 'insert 2');
    expect(log.written(a) && log.written(b)).toBe(true);
    const files = segmentFiles(dir);
    expect(files.map((f) => readSegment(f).intents.map((i) => i.id))).toEqual([[a], [b]]);
  });

  it('a crash after the write and before the forwards: recovery closes them as "may or may not have run"', async () => {
    const dir = scratchDir();
    const store = await scratchStore(dir);
    const clock = new ManualClock();
    const intents = join(dir, 'intents');
    const log = new IntentLog({ dir: intents, clock });
    const a = log.queue('ses_1', 'insert into t values (1)');
    const b = log.queue('ses_2', 'insert into t values (2)');
    expect(log.written(b)).toBe(true);
    // The process dies here: the turn's statements were never forwarded, and no outcome was recorded.
    log.close();
    expect(await recoverIntents(store, intents, clock.now())).toEqual({ closed: 2, segments: 1 });
    const rows = await store.db.selectFrom('audit_events').select('details').where('action', '=', 'statement').execute();
    const details = rows.map((row) => JSON.parse(row.details) as Record<string, unknown>);
    expect(details).toEqual([
      expect.objectContaining({ intent: a, outcome: 'unknown', reason: MAY_HAVE_RUN }),
      expect.objectContaining({ intent: b, outcome: 'unknown', reason: MAY_HAVE_RUN }),
    ]);
  });
});

describe('recovery at start-up', () => {
  it('closes only the intents whose outcome is not in the chain, ignores a torn last line, and removes the segments', async () => {
    const dir = scratchDir();
    const store = await scratchStore(dir);
    const clock = new ManualClock();
    const intents = join(dir, 'intents');
    const log = new IntentLog({ dir: intents, clock });
    const done = log.intend('ses_1', 'insert into t values (1)');
    const lost = log.intend('ses_1', 'insert into t values (2)');
    await outcome(clock, store, done, 'insert into t values (1)');
    log.close();
    // The process died mid-append.
    appendFileSync(segmentFiles(intents)[0]!, '{"id":"torn');

    const before = await checkIntentCoverage(store.db, intents);
    expect(before).toMatchObject({ ok: true, closed: 1, open: 2 });
    const r = await recoverIntents(store, intents, clock.now());
    expect(r).toEqual({ closed: 1, segments: 1 });
    const rows = await store.db.selectFrom('audit_events').select('details').where('action', '=', 'statement').execute();
    const details = rows.map((row) => JSON.parse(row.details) as Record<string, unknown>);
    expect(details).toHaveLength(2);
    expect(details[1]).toMatchObject({ intent: lost, outcome: 'unknown', reason: MAY_HAVE_RUN, text: 'insert into t values (2)' });
    expect(existsSync(segmentFiles(intents)[0] ?? '/nonexistent')).toBe(false);
    expect(await checkIntentCoverage(store.db, intents)).toMatchObject({ ok: true, closed: 2, open: 0 });
  });
});

describe('audit verify: every intent has its outcome', () => {
  it('names an intent whose record is missing, and one recorded twice', async () => {
    const dir = scratchDir();
    const store = await scratchStore(dir);
    const clock = new ManualClock();
    await outcome(clock, store, 'abcd.1.1', 'a');
    await outcome(clock, store, 'abcd.1.2', 'b');
    await outcome(clock, store, 'abcd.1.4', 'd');
    expect(await checkIntentCoverage(store.db, null)).toMatchObject({ ok: false, missing: ['abcd.3'], missingCount: 1 });
    await outcome(clock, store, 'abcd.1.3', 'c');
    expect(await checkIntentCoverage(store.db, null)).toMatchObject({ ok: true, closed: 4 });
    await outcome(clock, store, 'abcd.1.2', 'b again');
    expect(await checkIntentCoverage(store.db, null)).toMatchObject({ ok: false, duplicated: ['abcd.2'] });
  });
});

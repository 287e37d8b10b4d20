import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appendAudit, verifyAudit } from '../../src/audit/chain.js';
import { createControlPlanePort } from '../../src/gateway/kernel/control-plane-port.js';
import { createStatementRecorder } from '../../src/audit/statement-recorder.js';
import { serverKey } from '../../src/store/meta.js';
import { findSession } from '../../src/store/sessions.js';
import { openStore } from '../../src/store/store.js';
import { createWorld, type World } from '../support/world.js';
import { describeEachStore, holdWriteLock, type TestStore } from '../support/stores.js';

let w: World;
let current: TestStore;

describeEachStore('statement audit', (stores) => {
  beforeEach(async () => {
    current = await stores.fresh();
    w = await createWorld(undefined, { storeUrl: current.url });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await w.close();
  });

  async function backendWithGrant() {
    const saltKey = await serverKey(w.store.db, 'grant-salt');
    const backend = createControlPlanePort({ store: w.store, clock: w.clock, bus: w.bus, directory: w.config.directory, saltKey, kind: 'postgres' });
    const { grant } = await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 600, reason: 'INC-1' });
    return { backend, grantId: grant!.id };
  }

  /** The store, whose first `failures` transactions fail as a full or broken disk would. */
  function failingFirst(failures: number) {
    return {
      ...w.store,
      transaction: <T>(fn: Parameters<typeof w.store.transaction<T>>[0]) =>
        failures-- > 0 ? Promise.reject(new Error('disk I/O error')) : w.store.transaction(fn),
    };
  }

  describe('statement audit on a writer thread', () => {
    it('interleaves worker-written statements and main-thread lifecycle events into one chain that verifies', async () => {
      const { backend, grantId } = await backendWithGrant();
      const sessions = await Promise.all([1, 2, 3, 4].map((i) => backend.sessionStarted({ grantId, clientAddress: `127.0.0.1:${5000 + i}` })));
      const perSession = 300;
      // The thread is up (it loads the store code as it starts) before the race begins.
      const warmUp = await backend.sessionStarted({ grantId, clientAddress: '127.0.0.1:4999' });
      await backend.statement({ sessionId: warmUp.sessionId, text: 'select 0', outcome: 'ok', durationMs: 0.1 });
      await backend.flush();

      // Statements stream in from four sessions while the main thread writes lifecycle events of its own, concurrently.
      // Two handshakes make the interleaving certain on any store and any load: the ticks start once the first
      // statement batch is committed, and the second half of the statements waits for the first tick.
      let firstBatchCommitted!: () => void;
      const afterFirstBatch = new Promise<void>((r) => (firstBatchCommitted = r));
      let firstTickCommitted!: () => void;
      const afterFirstTick = new Promise<void>((r) => (firstTickCommitted = r));
      const statements = (async () => {
        for (let n = 0; n < perSession; n++) {
          for (const [i, { sessionId }] of sessions.entries()) {
            await backend.statement({ sessionId, text: `select ${n}`, outcome: (n + i) % 7 === 0 ? 'refused' : 'ok', durationMs: 0.1 });
          }
          if (n === 0) {
            await backend.flush();
            firstBatchCommitted();
          }
          if (n === perSession / 2) await afterFirstTick;
          if (n % 20 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const lifecycle = (async () => {
        await afterFirstBatch;
        for (let n = 0; n < 40; n++) {
          await w.store.transaction((tx) => appendAudit(tx, w.clock.now(), [{ actor: 'test', action: 'test.tick', target: `tick-${n}`, details: { n } }]));
          if (n === 0) firstTickCommitted();
          if (n % 5 === 0) await w.lifecycle.request(w.user('alice'), { resource: 'orders-db', role: 'read', durationSeconds: 60, reason: `r${n}` });
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await Promise.all([statements, lifecycle]);
      await backend.flush();

      const verified = await verifyAudit(w.store.db);
      expect(verified).toMatchObject({ ok: true });

      const rows = await w.store.db.selectFrom('audit_events').select(['seq', 'action', 'target', 'details']).orderBy('seq').execute();
      const statementRows = rows.filter((r) => (r.action === 'statement' || r.action === 'statement.refused') && r.target !== warmUp.sessionId);
      expect(statementRows).toHaveLength(4 * perSession);
      expect(rows.filter((r) => r.action === 'test.tick')).toHaveLength(40);
      // Lifecycle events really landed between statement batches, not all before or after them.
      const firstStatement = statementRows[0]!.seq;
      const lastStatement = statementRows.at(-1)!.seq;
      expect(rows.some((r) => r.action === 'test.tick' && r.seq > firstStatement && r.seq < lastStatement)).toBe(true);
      // Each session's statements are in the order they were sent.
      for (const { sessionId } of sessions) {
        const texts = statementRows.filter((r) => r.target === sessionId).map((r) => (JSON.parse(r.details) as { text: string }).text);
        expect(texts).toEqual(Array.from({ length: perSession }, (_, n) => `select ${n}`));
      }
      // Session counts reached the store with the batches.
      for (const [i, { sessionId }] of sessions.entries()) {
        const s = await findSession(w.store.db, sessionId);
        const refused = Array.from({ length: perSession }, (_, n) => n).filter((n) => (n + i) % 7 === 0).length;
        expect(s).toMatchObject({ statements: perSession, refused });
      }

      for (const { sessionId } of sessions) {
        await backend.sessionEnded({ sessionId, reason: 'client', statements: perSession, refused: 0, bytesIn: 0, bytesOut: 0, at: w.clock.now() });
      }
      await backend.close();
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true });
    });

    it('uses the thread for a store file, and writes on the main thread for a :memory: store', async () => {
      const onFile = createStatementRecorder(w.store, w.clock);
      expect(onFile.usesThread()).toBe(true);
      const mem = await openStore('sqlite::memory:', '/');
      try {
        const inMemory = createStatementRecorder(mem, w.clock);
        expect(inMemory.usesThread()).toBe(false);
        inMemory.record({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x' } });
        await inMemory.flush();
        expect(await verifyAudit(mem.db)).toMatchObject({ ok: true, events: 1 });
      } finally {
        await mem.close();
      }
    });

    it('writes the batch on the main thread when the writer thread dies, and restarts it', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const recorder = createStatementRecorder(w.store, w.clock, { maxDelayMs: 0, minIntervalMs: 0 });
      const entry = (n: number) => ({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x', details: { n } } });
      recorder.record(entry(1));
      await recorder.flush();
      // The thread is killed with a batch on its way to it: that batch is written on the main thread instead.
      recorder.record(entry(2));
      const flushed = recorder.flush();
      await Promise.resolve();
      await recorder.crashThread();
      await flushed;
      recorder.record(entry(3));
      await recorder.flush();
      expect(recorder.usesThread()).toBe(true);
      const rows = await w.store.db.selectFrom('audit_events').select('details').where('action', '=', 'statement').orderBy('seq').execute();
      expect(rows.map((r) => (JSON.parse(r.details) as { n: number }).n)).toEqual([1, 2, 3]);
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true });
      await recorder.close();
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('did not write 1 statement audit event(s); writing them on the main thread'), expect.any(Error));
    });

    it('runs the writer thread at a lower CPU priority than the sessions (Linux)', async () => {
      expect(process.platform).toBe('linux');
      const niceOf = (tid: string) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        // Fields after the parenthesised name; nice is field 19 of stat(5).
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const niceOfThreads = () => readdirSync('/proc/self/task').map(niceOf);
      const base = niceOf(String(process.pid));
      const lowered = Math.min(19, base + 5);
      const before = niceOfThreads().filter((n) => n === lowered).length;
      const recorder = createStatementRecorder(w.store, w.clock, { maxDelayMs: 0, minIntervalMs: 0, writerNiceness: 5 });
      recorder.record({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x' } });
      await recorder.flush();
      expect(recorder.usesThread()).toBe(true);
      expect(niceOfThreads().filter((n) => n === lowered).length).toBe(before + 1);
      expect(niceOf(String(process.pid))).toBe(base);
      await recorder.close();
    });

    it('holds sessions back while more statements wait than the backlog allows, until half are committed', async () => {
      const recorder = createStatementRecorder(w.store, w.clock, { maxDelayMs: 60_000, minIntervalMs: 0, maxBacklog: 10 });
      const entry = (n: number) => ({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x', details: { n } } });
      // Another connection holds the store's write lock, as a slow disk or a long checkpoint would.
      const other = await holdWriteLock(current);
      let released = false;
      try {
        for (let n = 1; n <= 10; n++) recorder.record(entry(n));
        expect(recorder.congested()).toBeUndefined();
        recorder.record(entry(11));
        const held = recorder.congested();
        expect(held).toBeInstanceOf(Promise);
        expect(recorder.congested()).toBe(held);
        expect(recorder.backlog()).toBe(11);
        let drained = false;
        void held!.then(() => (drained = true));
        await Promise.resolve();
        expect(drained).toBe(false);
        released = true;
        await other.release();
        await held;
        expect(recorder.backlog()).toBeLessThanOrEqual(5);
        expect(recorder.congested()).toBeUndefined();
      } finally {
        if (!released) await other.release();
      }
      await recorder.close();
      const rows = await w.store.db.selectFrom('audit_events').select('details').where('action', '=', 'statement').orderBy('seq').execute();
      expect(rows.map((r) => (JSON.parse(r.details) as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true });
    });

    it('fails closed when a batch cannot be written at all: record throws, so sessions are cut', async () => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const broken = { ...w.store, transaction: () => Promise.reject(new Error('disk I/O error')) };
      const recorder = createStatementRecorder(broken, w.clock, { writer: 'inline', maxDelayMs: 0, minIntervalMs: 0, failClosedMs: 60_000 });
      recorder.record({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x' } });
      await recorder.flush();
      expect(errors).toHaveBeenCalledWith(expect.stringContaining('could not write 1 statement audit event'), expect.any(Error));
      expect(() => recorder.record({ sessionId: 'ses_x', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_x' } })).toThrow(/cannot be written/);
    });

    it('stays closed until the gap is recorded in the chain, holding sessions meanwhile, then opens again', async () => {
      vi.spyOn(console, 'error').mockImplementation(() => {});
      const flaky = failingFirst(2);
      const recorder = createStatementRecorder(flaky, w.clock, { writer: 'inline', maxDelayMs: 0, minIntervalMs: 0, failClosedMs: 0 });
      const statement = { sessionId: 'ses_y', refused: false, entry: { actor: 'a', action: 'statement', target: 'ses_y' } };
      recorder.record(statement);
      await recorder.flush();
      // A statement that finishes now already ran: it is refused a place in the chain, and counted in the gap.
      expect(() => recorder.record(statement)).toThrow(/cannot be written/);
      const held = recorder.congested();
      expect(held).toBeInstanceOf(Promise);
      await held;
      expect(recorder.congested()).toBeUndefined();
      recorder.record(statement);
      await recorder.flush();
      const gap = await w.store.db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'audit.gap').executeTakeFirstOrThrow();
      expect(JSON.parse(gap.details)).toMatchObject({ lost_statements: 2, sessions: ['ses_y'] });
      expect(await w.store.db.selectFrom('audit_events').select('seq').where('action', '=', 'statement').execute()).toHaveLength(1);
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true });
    });

    it('names every lost statement and session in the gap, also those of a batch that failed after the first', async () => {
      vi.spyOn(console, 'error').mockImplementation(() => {});
      const flaky = failingFirst(2);
      const recorder = createStatementRecorder(flaky, w.clock, { writer: 'inline', maxDelayMs: 0, minIntervalMs: 0, failClosedMs: 0 });
      const of = (sessionId: string) => ({ sessionId, refused: false, entry: { actor: 'a', action: 'statement', target: sessionId } });
      recorder.record(of('ses_A'));
      const first = recorder.flush();
      for (let i = 0; i < 3; i++) recorder.record(of('ses_B'));
      const second = recorder.flush();
      await Promise.all([first, second]);
      await recorder.congested();
      const gaps = await w.store.db.selectFrom('audit_events').select('details').where('action', '=', 'audit.gap').execute();
      const details = gaps.map((g) => JSON.parse(g.details) as { lost_statements: number; sessions: string[] });
      expect(details.reduce((n, d) => n + d.lost_statements, 0)).toBe(4);
      expect(new Set(details.flatMap((d) => d.sessions))).toEqual(new Set(['ses_A', 'ses_B']));
      expect(() => recorder.record(of('ses_C'))).not.toThrow();
      await recorder.flush();
      expect(await verifyAudit(w.store.db)).toMatchObject({ ok: true });
    });
  });
});

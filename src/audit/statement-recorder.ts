import type { AuditEntry } from './chain.js';
import { writeStatementBatch } from './statement-batch.js';
import { countsOf, entriesOf, intentAt, pushEntry, pushStatement, sessionAt, STRIDE, type StatementFacts, type StatementFields } from './statement-fields.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { randomBytes } from 'node:crypto';
import { createWriterThread, writerScript, type BatchMarker, type WriterThread } from './writer-thread.js';

export interface QueuedStatement {
  readonly entry: AuditEntry;
  readonly sessionId: string;
  readonly refused: boolean;
  /** The write-ahead intent this record closes, settled once the record is committed. */
  readonly intent?: string;
}

export interface RecorderOptions {
  readonly maxDelayMs?: number;
  readonly minIntervalMs?: number;
  readonly maxBatch?: number;
  /**
   * `thread` (the default for a store file): batches are written by a worker
   * thread with its own connection. `inline`: on this thread, through the
   * store's connection (always so for a `:memory:` store, which one
   * connection owns).
   */
  readonly writer?: 'thread' | 'inline';
  /** After a batch cannot be written, how long to wait before each attempt to record the gap (statements are refused meanwhile). */
  readonly failClosedMs?: number;
  /**
   * Statements recorded but not yet committed beyond which `congested()`
   * holds sessions back, until the backlog is down to half. Bounds the
   * memory a slow disk or a starved writer thread can make the gateway hold.
   */
  readonly maxBacklog?: number;
  /** Nice value added to the writer thread (see writer-worker.ts). */
  readonly writerNiceness?: number;
  /** Called with the intents a committed batch closed (the intent log then lets their segment go). */
  readonly settled?: (intents: string[]) => void;
}

/** A writer thread that dies this many times is not restarted: batches are then written on this thread. */
const MAX_THREAD_FAILURES = 3;

/**
 * Group commit for per-statement audit: statements queue in memory and are
 * written in one transaction per batch, in order, so recording every
 * statement costs one fsync per batch instead of one per statement. A batch
 * is written `maxDelayMs` after its first statement, or at once when it
 * reaches `maxBatch`.
 *
 * Batches are written by a worker thread (writer-worker.ts) with its own
 * connection to the store file, so the commit, fsync, canonical JSON and
 * hashing do not stall the sessions on the event loop. It takes the same
 * `BEGIN IMMEDIATE` write lock as the store's transactions and reads the chain
 * head inside it, so statements and lifecycle events stay one chain. If the
 * thread fails or dies, the batch is written on this thread instead (and the
 * thread restarted for the next one); if that fails too, the batch is logged
 * as lost and `record` throws until an `audit.gap` event naming the lost
 * count and sessions is committed, which closes the sessions that go on
 * sending statements (fail closed, see ClientSession.record).
 *
 * Under load, commits are spaced at least `minIntervalMs` apart (50 ms:
 * half the commits of 25 ms took ~3 µs of the writer thread's ~18 µs per
 * statement at 3,000 statements/s; what the audit must not lose on a crash
 * is already in the intent log) and the batches grow instead. A lone
 * statement is still written within `maxDelayMs`.
 */
export function createStatementRecorder(store: Store, clock: Clock, opts: RecorderOptions = {}) {
  const maxDelayMs = opts.maxDelayMs ?? 5;
  const minIntervalMs = opts.minIntervalMs ?? 50;
  const maxBatch = opts.maxBatch ?? 2000;
  const failClosedMs = opts.failClosedMs ?? 1000;
  const maxBacklog = opts.maxBacklog ?? 50_000;
  /** Recorded, not yet committed (or given up on). */
  let backlog = 0;
  let drained: Signal | null = null;
  /** The statements of the next batch, STRIDE slots each (see statement-fields.ts). */
  let queue: StatementFields = [];
  let queued = 0;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let lastFlushAt = -Infinity;
  let lost: { events: number; sessions: Set<string> } | null = null;
  let threadFailures = 0;
  // Each batch commits a marker with its number: when the thread dies after committing
  // but before answering, the retry on this thread sees it and does not write the batch twice.
  const markerKey = `statement_batch:${randomBytes(8).toString('hex')}`;
  let batchNo = 0;
  const inMemory = store.target.dialect === 'sqlite' && store.target.path === ':memory:';
  const script = opts.writer !== 'inline' && !inMemory ? writerScript() : null;
  if (opts.writer === 'thread' && !script) {
    console.error('airlock: the audit writer thread script was not found (run `npm run build`); statements are written on the main thread');
  }
  let thread: WriterThread | null = script ? createWriterThread(script, { target: store.target, busyTimeoutMs: 5000, niceness: opts.writerNiceness ?? 5 }) : null;
  thread?.warm();

  /** On this thread, through the generic append path: the same rows the writer thread writes (see statement-fields.ts). */
  async function writeInline(at: Date, batch: StatementFields, marker: BatchMarker): Promise<void> {
    const entries = entriesOf(batch);
    const counts = countsOf(batch);
    await store.transaction((tx) => writeStatementBatch(tx, { at, entries, counts, marker }));
  }

  async function write(batch: StatementFields): Promise<void> {
    const at = clock.now();
    const marker: BatchMarker = [markerKey, ++batchNo];
    if (thread) {
      try {
        await thread.write(at, batch, marker);
        return;
      } catch (err) {
        threadFailures += 1;
        const giveUp = threadFailures >= MAX_THREAD_FAILURES;
        console.error(
          `airlock: the audit writer thread did not write ${batch.length / STRIDE} statement audit event(s); writing them on the main thread${giveUp ? ' from now on' : ''}:`,
          err,
        );
        if (giveUp) {
          void thread.terminate();
          thread = null;
        }
      }
    }
    await writeInline(at, batch, marker);
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queued > 0) {
      lastFlushAt = performance.now();
      const batch = queue;
      const n = queued;
      queue = [];
      queued = 0;
      writing = writing
        .then(() => write(batch))
        .then(() => releaseIntents(batch))
        .catch((err: unknown) => {
          console.error(`airlock: could not write ${n} statement audit event(s):`, err);
          noteLost(batch);
        })
        .finally(() => settled(n));
    }
    return writing;
  }

  function releaseIntents(batch: StatementFields): void {
    if (!opts.settled) return;
    const intents: string[] = [];
    for (let i = 0, n = batch.length / STRIDE; i < n; i++) {
      const intent = intentAt(batch, i);
      if (intent) intents.push(intent);
    }
    if (intents.length > 0) opts.settled(intents);
  }

  function settled(n: number): void {
    backlog -= n;
    if (drained && backlog <= maxBacklog / 2) {
      drained.resolve();
      drained = null;
    }
  }

  /**
   * Statements already ran when their batch failed, so the chain has a gap.
   * Until a record of that gap is committed, every session is refused (fail
   * closed, not for a fixed time); the gap record is retried until it lands.
   */
  function noteLost(batch: StatementFields): void {
    const first = lost === null;
    lost ??= { events: 0, sessions: new Set() };
    const n = batch.length / STRIDE;
    lost.events += n;
    for (let i = 0; i < n; i++) {
      const id = sessionAt(batch, i);
      if (id) lost.sessions.add(id);
    }
    if (first) scheduleGapRecord();
  }

  /** Resolves when the gap is on record and sessions may go on; sessions hold on it meanwhile (see congested). */
  let gapRecorded: Signal | null = null;

  function scheduleGapRecord(): void {
    const t = setTimeout(() => {
      writing = writing
        .then(async () => {
          const gap = lost;
          if (!gap) return;
          // Taken in the chain, after every batch queued before it has failed or landed, so none is left out.
          const events = gap.events;
          const sessions = [...gap.sessions];
          const record: StatementFields = [];
          pushEntry(record, '', false, {
            actor: 'airlock',
            action: 'audit.gap',
            target: 'gateway:postgres',
            details: { lost_statements: events, sessions, why: 'the audit store could not be written; these sessions were cut' },
          });
          await write(record);
          gap.events -= events;
          for (const id of sessions) gap.sessions.delete(id);
          if (gap.events > 0 || gap.sessions.size > 0) {
            // More was lost while this record was written: that needs a record of its own.
            scheduleGapRecord();
            return;
          }
          lost = null;
          gapRecorded?.resolve();
          gapRecorded = null;
        })
        .catch((err: unknown) => {
          console.error('airlock: the audit store still cannot be written; sessions stay refused:', err);
          scheduleGapRecord();
        });
    }, failClosedMs);
    t.unref?.();
  }

  function refuseWhileLost(sessionId: string): void {
    if (lost === null) return;
    // It ran (it is being recorded after the fact): it belongs to the gap.
    lost.events += 1;
    if (sessionId) lost.sessions.add(sessionId);
    throw new Error('the audit log cannot be written');
  }

  function queuedOne(): void {
    queued += 1;
    backlog += 1;
    if (queued >= maxBatch) void flush();
    else if (!timer) {
      const delay = Math.max(maxDelayMs, lastFlushAt + minIntervalMs - performance.now());
      timer = setTimeout(() => void flush(), delay);
      timer.unref?.();
    }
  }

  return {
    /** Queues any audit entry (the per-statement path is `statement`). */
    record(q: QueuedStatement): void {
      refuseWhileLost(q.sessionId);
      pushEntry(queue, q.sessionId, q.refused, q.entry, q.intent);
      queuedOne();
    },
    /** Queues one statement's record: plain values only, turned into its audit row by the writer. */
    statement(s: StatementFacts, user: string, resource: string, grant: string): void {
      refuseWhileLost(s.sessionId);
      pushStatement(queue, s, user, resource, grant);
      queuedOne();
    },
    /**
     * While more than `maxBacklog` statements wait to be committed: a promise
     * that resolves once half of them are. While a gap in the audit is not yet
     * on record: a promise that resolves once it is. Sessions wait on it before
     * their next message, so the audit is never further behind than that, and
     * nothing runs that could not be recorded.
     */
    congested(): Promise<void> | undefined {
      if (lost !== null) {
        // Nothing more is forwarded until the gap is on record: what would run now could not be audited.
        gapRecorded ??= signal();
        return gapRecorded.promise;
      }
      if (backlog <= maxBacklog) return drained?.promise;
      if (!drained) {
        drained = signal();
        // The batches already queued must be on their way for the backlog to fall.
        void flush();
      }
      return drained.promise;
    },
    /** Statements recorded and not yet committed (metrics, tests). */
    backlog: () => backlog,
    /** Writes everything queued so far; resolves once it is committed. */
    flush,
    /** Flushes, then stops the writer thread (a later statement starts it again). */
    async close(): Promise<void> {
      await flush();
      await thread?.close();
    },
    /** Whether batches go to the writer thread (tests). */
    usesThread: () => thread !== null,
    /** Kills the writer thread as a crash would (tests). */
    crashThread: () => thread?.terminate() ?? Promise.resolve(),
  };
}

/** A promise sessions wait on, and the function that lets them go. */
interface Signal {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function signal(): Signal {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

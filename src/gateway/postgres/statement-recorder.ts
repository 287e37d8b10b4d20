import { appendAuditBatch, type AuditEntry } from '../../audit/chain.js';
import type { Clock } from '../../core/clock.js';
import { addSessionCounts } from '../../store/sessions.js';
import type { Store } from '../../store/store.js';

export interface QueuedStatement {
  readonly entry: AuditEntry;
  readonly sessionId: string;
  readonly refused: boolean;
}

/**
 * Group commit for per-statement audit: statements queue in memory and are
 * written in one transaction per batch, in order, so recording every
 * statement costs one fsync per batch instead of one per statement. A batch
 * is written `maxDelayMs` after its first statement, or at once when it
 * reaches `maxBatch`.
 *
 * The SQLite driver commits (and fsyncs) on the event loop's thread, so every
 * commit stalls every session for as long as the disk takes (1–3 ms measured
 * on the bench machine). Under load, commits are therefore spaced at least
 * `minIntervalMs` apart and the batches grow instead: at most ~40 stalls a
 * second rather than ~200. A lone statement is still written within
 * `maxDelayMs`.
 */
export function createStatementRecorder(store: Store, clock: Clock, opts: { maxDelayMs?: number; minIntervalMs?: number; maxBatch?: number } = {}) {
  const maxDelayMs = opts.maxDelayMs ?? 5;
  const minIntervalMs = opts.minIntervalMs ?? 25;
  const maxBatch = opts.maxBatch ?? 2000;
  let queue: QueuedStatement[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let lastFlushAt = -Infinity;

  async function write(batch: QueuedStatement[]): Promise<void> {
    const perSession = new Map<string, { statements: number; refused: number }>();
    for (const q of batch) {
      const c = perSession.get(q.sessionId) ?? { statements: 0, refused: 0 };
      c.statements += 1;
      if (q.refused) c.refused += 1;
      perSession.set(q.sessionId, c);
    }
    await store.transaction(async (tx) => {
      await appendAuditBatch(tx, clock.now(), batch.map((q) => q.entry));
      for (const [id, c] of perSession) await addSessionCounts(tx, id, c.statements, c.refused);
    });
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length > 0) {
      lastFlushAt = performance.now();
      const batch = queue;
      queue = [];
      writing = writing.then(() => write(batch)).catch((err: unknown) => {
        console.error(`airlock: could not write ${batch.length} statement audit event(s):`, err);
      });
    }
    return writing;
  }

  return {
    record(q: QueuedStatement): void {
      queue.push(q);
      if (queue.length >= maxBatch) void flush();
      else if (!timer) {
        const delay = Math.max(maxDelayMs, lastFlushAt + minIntervalMs - performance.now());
        timer = setTimeout(() => void flush(), delay);
        timer.unref?.();
      }
    },
    /** Writes everything queued so far; resolves once it is committed. */
    flush,
  };
}

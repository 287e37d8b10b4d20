import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { exponentialBackoff, type BackoffPolicy } from './backoff.js';
import { headOf, markDead, markDelivered, markRetry, withSinkLease } from './outbox-store.js';
import type { Executor } from '../store/store.js';
import { sendRow } from './send.js';
import type { Sink } from './sinks.js';

export interface DeliveryOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly sinks: readonly Sink[];
  readonly fetch?: typeof fetch;
  /** A receiver that has not answered by then counts as down for this attempt (default 10 s). */
  readonly timeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly log?: (line: string) => void;
  /**
   * How often to look for rows nobody announced to this node (default: every
   * second on a shared PostgreSQL store, where other nodes write rows and a
   * node that died may leave a sink's retries behind; never on SQLite).
   */
  readonly pollMs?: number;
}

export interface DeliveryStats {
  delivered: number;
  failedAttempts: number;
  gaveUp: number;
}

/**
 * Drains the outbox, one sink at a time and in row order within a sink
 * (so per grant), outside any transaction: a slow or dead receiver delays
 * only its own notifications, never an access decision. Retries are armed on
 * the injectable clock, so tests move time instead of sleeping, and a restart
 * simply finds the pending rows again.
 */
export function startDeliveryWorker(opts: DeliveryOptions) {
  const { store, clock, sinks } = opts;
  const fetchImpl = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const backoff = opts.backoff ?? exponentialBackoff();
  const log = opts.log ?? ((line: string) => console.error(`airlock: ${line}`));
  const stats: Record<string, DeliveryStats> = Object.fromEntries(sinks.map((s) => [s.id, { delivered: 0, failedAttempts: 0, gaveUp: 0 }]));
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const timers = new Map<string, () => void>();
  let stopped = false;

  /**
   * Delivers this sink's due rows in order, as the sink's only deliverer
   * among the nodes (see withSinkLease); returns when it is empty or waiting
   * for a retry time, or at once when another node is delivering it. A row
   * committed just as the lease was let go is looked for once more, so it
   * does not wait for the next poll.
   */
  async function drain(sink: Sink): Promise<void> {
    while (!stopped) {
      if (!(await withSinkLease(store, sink.id, (db) => drainLeased(sink, db)))) return;
      if (store.dialect === 'sqlite') return;
      const next = await headOf(store.db, sink.id);
      if (!next || new Date(next.next_attempt_at) > clock.now()) return;
    }
  }

  async function drainLeased(sink: Sink, db: Executor): Promise<void> {
    const s = stats[sink.id]!;
    while (!stopped) {
      const row = await headOf(db, sink.id);
      if (!row) return;
      const dueAt = new Date(row.next_attempt_at);
      if (dueAt > clock.now()) {
        timers.get(sink.id)?.();
        timers.set(sink.id, clock.at(dueAt, () => kickSink(sink)));
        return;
      }
      const result = await sendRow(sink, row, clock.now(), fetchImpl, timeoutMs);
      const attempts = row.attempts + 1;
      if (result.ok) {
        await markDelivered(db, row.id, clock.now(), attempts);
        s.delivered += 1;
        continue;
      }
      s.failedAttempts += 1;
      if (attempts >= backoff.maxAttempts) {
        await markDead(db, row.id, clock.now(), attempts, result.error);
        s.gaveUp += 1;
        log(`notification ${row.id} (${row.event_type}) to ${sink.label} given up after ${attempts} attempts: ${result.error}`);
        continue;
      }
      await markRetry(db, row.id, attempts, new Date(clock.now().getTime() + backoff.delayMs(attempts)), result.error);
      if (attempts === 1) log(`notification to ${sink.label} failed (${result.error}); retrying with backoff`);
    }
  }

  function kickSink(sink: Sink): Promise<void> {
    if (stopped) return Promise.resolve();
    const current = running.get(sink.id);
    if (current) {
      again.add(sink.id);
      return current;
    }
    const run = (async () => {
      do {
        again.delete(sink.id);
        try {
          await drain(sink);
        } catch (err) {
          // A store hiccup must not kill the worker; the next kick or timer tries again.
          log(`notification delivery to ${sink.label} stopped on an error: ${err instanceof Error ? err.message : String(err)}`);
        }
      } while (again.has(sink.id) && !stopped);
      running.delete(sink.id);
    })();
    running.set(sink.id, run);
    return run;
  }

  const kick = () => Promise.all(sinks.map(kickSink)).then(() => {});
  void kick();
  const pollMs = opts.pollMs ?? (store.dialect === 'postgres' ? 1000 : 0);
  const poll = pollMs > 0 && sinks.length > 0 ? setInterval(() => void kick(), pollMs) : null;
  poll?.unref();

  return {
    /** Looks for new rows now (called after each commit that may have written some). */
    kick,
    /** Resolves once no delivery is in flight (tests: after moving a manual clock). */
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    stats: (): Readonly<Record<string, Readonly<DeliveryStats>>> => stats,
    async stop(): Promise<void> {
      stopped = true;
      if (poll) clearInterval(poll);
      for (const cancel of timers.values()) cancel();
      await Promise.all([...running.values()]);
    },
  };
}

export type DeliveryWorker = ReturnType<typeof startDeliveryWorker>;

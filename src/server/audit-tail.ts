import { toAuditEvent, type AuditEvent } from '../audit/chain.js';
import type { EventBus } from '../core/events.js';
import type { Store } from '../store/store.js';

export type TailListener = (events: readonly AuditEvent[]) => void;

/**
 * Follows the audit log as it grows and hands each new row, in seq order, to
 * subscribers (the live event stream, metrics). The audit log is the one
 * record every change lands in — lifecycle changes, gateway sessions, each
 * statement, tokens issued by another process — so following it misses
 * nothing. A bus event wakes it at once; a short poll catches writes that
 * publish no bus event (statement batches, other processes).
 */
export async function startAuditTail(store: Store, bus: EventBus, opts: { pollMs?: number; onError?: (err: unknown) => void } = {}) {
  const pollMs = opts.pollMs ?? 250;
  const onError = opts.onError ?? ((err: unknown) => console.error('airlock: audit tail failed:', err));
  const listeners = new Set<TailListener>();
  const head = await store.db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
  let last = Number(head?.seq ?? 0);
  let running: Promise<void> | null = null;
  let again = false;

  async function read(): Promise<void> {
    for (;;) {
      const rows = await store.db.selectFrom('audit_events').selectAll().where('seq', '>', last).orderBy('seq').limit(500).execute();
      if (rows.length === 0) return;
      const events = rows.map(toAuditEvent);
      last = events.at(-1)!.seq;
      for (const l of [...listeners]) {
        try {
          l(events);
        } catch (err) {
          onError(err);
        }
      }
    }
  }

  function poke(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await read().catch(onError);
      } while (again);
      running = null;
    })();
    return running;
  }

  const unsubscribe = bus.subscribe(() => void poke());
  const timer = setInterval(() => void poke(), pollMs);
  timer.unref?.();

  return {
    /** The highest seq handed to subscribers: everything up to it has been announced. */
    head: () => last,
    subscribe(listener: TailListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Reads the log now (tests call it instead of waiting for the poll). */
    poke,
    /** Rows with seq in (after, upTo], oldest first: what a reconnecting client missed. */
    async between(after: number, upTo: number, limit: number): Promise<AuditEvent[]> {
      const rows = await store.db.selectFrom('audit_events').selectAll().where('seq', '>', after).where('seq', '<=', upTo).orderBy('seq').limit(limit).execute();
      return rows.map(toAuditEvent);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      unsubscribe();
      listeners.clear();
      while (running) await running;
    },
  };
}

export type AuditTail = Awaited<ReturnType<typeof startAuditTail>>;

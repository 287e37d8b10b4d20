import type { EventBus } from '../core/events.js';
import type { Store } from '../store/store.js';

/**
 * What followers need of a row. Details are left out on purpose: under load
 * most rows are statements, and decoding each one's details again would cost
 * more than everything the followers do with them.
 */
export interface TailEvent {
  readonly seq: number;
  readonly at: string;
  readonly action: string;
  readonly resource: string | null;
}

export type TailListener = (events: readonly TailEvent[]) => void;

const COLUMNS = ['seq', 'at', 'action', 'resource'] as const;

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
      const events = await store.db.selectFrom('audit_events').select(COLUMNS).where('seq', '>', last).orderBy('seq').limit(2000).execute();
      if (events.length === 0) return;
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
    between(after: number, upTo: number, limit: number): Promise<TailEvent[]> {
      return store.db.selectFrom('audit_events').select(COLUMNS).where('seq', '>', after).where('seq', '<=', upTo).orderBy('seq').limit(limit).execute();
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

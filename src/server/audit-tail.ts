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
  /**
   * Statement rows arrive summed: one event per (action, resource) per read,
   * standing for `count` rows, with the seq and time of the last of them.
   * Absent means 1 (every other event is one row).
   */
  readonly count?: number;
}

export type TailListener = (events: readonly TailEvent[]) => void;

const COLUMNS = ['seq', 'at', 'action', 'resource'] as const;
/** The per-statement actions the gateway writes; thousands a second under load. */
export const STATEMENT_ACTIONS = ['statement', 'statement.refused'] as const;
const READ_LIMIT = 2000;

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

  /**
   * Other rows one by one, statement rows summed in SQL: materialising every
   * statement row as a JavaScript object blocked the event loop (and so every
   * session) for ~2 ms per poll at 7,000 statements a second.
   */
  async function readOnce(): Promise<TailEvent[]> {
    const max = await store.db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    let upTo = Number(max?.seq ?? 0);
    if (upTo <= last) return [];
    const others = await store.db
      .selectFrom('audit_events')
      .select(COLUMNS)
      .where('seq', '>', last)
      .where('seq', '<=', upTo)
      .where('action', 'not in', STATEMENT_ACTIONS)
      .orderBy('seq')
      .limit(READ_LIMIT)
      .execute();
    if (others.length === READ_LIMIT) upTo = others.at(-1)!.seq;
    const statements = await store.db
      .selectFrom('audit_events')
      .select((eb) => ['action', 'resource', eb.fn.max('seq').as('seq'), eb.fn.max('at').as('at'), eb.fn.countAll<number>().as('count')])
      .where('seq', '>', last)
      .where('seq', '<=', upTo)
      .where('action', 'in', STATEMENT_ACTIONS)
      .groupBy(['action', 'resource'])
      .execute();
    last = upTo;
    const summed: TailEvent[] = statements.map((r) => ({ seq: Number(r.seq), at: String(r.at), action: r.action, resource: r.resource, count: Number(r.count) }));
    return [...others, ...summed].sort((a, b) => a.seq - b.seq);
  }

  async function read(): Promise<void> {
    for (;;) {
      const events = await readOnce();
      if (events.length === 0) return;
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

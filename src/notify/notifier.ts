import type { AuditEvent } from '../audit/chain.js';
import type { Clock } from '../core/clock.js';
import type { AirlockEvent, EventBus } from '../core/events.js';
import type { ConfigFile } from '../config/schema.js';
import type { Executor, Store } from '../store/store.js';
import type { BackoffPolicy } from './backoff.js';
import { startDeliveryWorker } from './delivery-worker.js';
import { createOutboxWriter } from './outbox-writer.js';
import { sinksFromConfig } from './sinks.js';

export interface NotifierOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly log?: (line: string) => void;
}

/**
 * Notifications, end to end: `onCommit` goes into the lifecycle (outbox rows
 * in the change's transaction), and every bus event — published only after a
 * commit — wakes the delivery worker.
 */
export function startNotifier(
  deps: { store: Store; clock: Clock; bus: EventBus; notify: ConfigFile['notify'] },
  opts: NotifierOptions = {},
) {
  const sinks = sinksFromConfig(deps.notify, opts.env ?? process.env);
  const log = opts.log ?? ((line: string) => console.error(`airlock: ${line}`));
  for (const s of sinks) {
    if (!s.url()) log(`notify ${s.label}: no URL yet; notifications queue until it is set`);
    if (s.signed && !s.secret()) log(`notify ${s.label}: secret_env is not set; signed deliveries wait for it`);
  }
  const writer = createOutboxWriter(sinks, deps.clock);
  const worker = startDeliveryWorker({ store: deps.store, clock: deps.clock, sinks, fetch: opts.fetch, timeoutMs: opts.timeoutMs, backoff: opts.backoff, log });
  const unsubscribe = deps.bus.subscribe(() => void worker.kick());
  return {
    sinks,
    worker,
    onCommit: (tx: Executor, events: readonly AirlockEvent[], audit: readonly AuditEvent[]) => writer(tx, events, audit),
    async stop() {
      unsubscribe();
      await worker.stop();
    },
  };
}

export type Notifier = ReturnType<typeof startNotifier>;

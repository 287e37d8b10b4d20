import type { Clock } from './clock.js';
import type { EventBus } from './events.js';

const RETRY_AFTER_FAILURE_MS = 1000;

export interface ExpiryTarget {
  expireDue(): Promise<void>;
  nextDeadline(): Promise<Date | null>;
}

/**
 * Keeps exactly one timer, set for the next deadline (a grant's expiry or a
 * pending request's review timeout), instead of polling. Anything that moves a
 * deadline re-arms it. Runs never overlap: a change during a run re-arms after.
 * The timer is a wall-clock deadline (`clock.at`), re-checked against the wall
 * clock at least every second, so a clock step never keeps a grant past its end.
 */
export function startExpiryScheduler(
  clock: Clock,
  bus: EventBus,
  target: ExpiryTarget,
  onError: (err: unknown) => void = (err) => console.error('airlock: expiry run failed:', err),
) {
  let cancelTimer: (() => void) | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function run(): Promise<void> {
    try {
      await target.expireDue();
      const next = await target.nextDeadline();
      cancelTimer?.();
      cancelTimer = null;
      if (next && !stopped) cancelTimer = clock.at(next, () => void kick());
    } catch (err) {
      onError(err);
      // A failed run (e.g. the store busy) must not leave expiry unarmed until the next request.
      cancelTimer?.();
      // A length of time, not a wall-clock end: a wall clock stepped back must not stall the retry.
      cancelTimer = stopped ? null : clock.after(RETRY_AFTER_FAILURE_MS, () => void kick());
    }
  }

  function kick(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await run();
      } while (again && !stopped);
      running = null;
    })();
    return running;
  }

  const unsubscribe = bus.subscribe((e) => {
    if (e.type === 'request.created' || e.type === 'grant.activated' || e.type === 'grant.extended') void kick();
  });

  return {
    /** Expires what is overdue now and arms the timer; resolves when that run is done. */
    kick,
    /** Resolves once no run is in flight (for tests that move a manual clock). */
    idle: async () => {
      while (running) await running;
    },
    stop() {
      stopped = true;
      unsubscribe();
      cancelTimer?.();
    },
  };
}

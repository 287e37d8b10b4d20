/**
 * Time, injectable. Domain code never reads Date.now() or calls setTimeout
 * directly, so expiry is tested by moving a manual clock instead of sleeping.
 */
export interface Clock {
  now(): Date;
  /** Runs `fn` once the clock reaches `at` (at once if it already has). Returns a cancel function. */
  at(at: Date, fn: () => void): () => void;
}

// setTimeout overflows past 2^31-1 ms (~24.8 days); longer waits re-arm.
const MAX_TIMER_MS = 2_147_000_000;

export const systemClock: Clock = {
  now: () => new Date(),
  at(at, fn) {
    let handle: NodeJS.Timeout;
    const arm = () => {
      const wait = at.getTime() - Date.now();
      if (wait > MAX_TIMER_MS) handle = setTimeout(arm, MAX_TIMER_MS);
      else handle = setTimeout(fn, Math.max(0, wait));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

interface PendingTimer {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to; timers fire in time order as it passes them. */
export class ManualClock implements Clock {
  private ms: number;
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  at(at: Date, fn: () => void): () => void {
    const timer = { atMs: at.getTime(), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, each at its own time. */
  advance(ms: number): void {
    const target = this.ms + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.atMs <= target)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.ms = Math.max(this.ms, due.atMs);
      due.fn();
    }
    this.ms = target;
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}

import { DeadlineWatch } from './deadline-watch.js';

/**
 * Time, injectable. Domain code never reads Date.now() or calls setTimeout
 * directly, so expiry is tested by moving a manual clock instead of sleeping.
 */
export interface Clock {
  now(): Date;
  /**
   * Runs `fn` once the wall clock reaches `at` (at once if it already has),
   * within about a second whatever the wall clock does meanwhile (see
   * deadline-watch.ts). Returns a cancel function.
   */
  at(at: Date, fn: () => void): () => void;
  /**
   * Runs `fn` after `ms` of elapsed time, whatever the wall clock does: for
   * waits that are lengths (a retry, a grace period), not wall-clock ends.
   */
  after(ms: number, fn: () => void): () => void;
}

// setTimeout overflows past 2^31-1 ms (~24.8 days); a longer wait re-arms.
const MAX_TIMER_MS = 2_147_000_000;

/** A monotonic timer that never holds the process open. */
function monotonicTimer(ms: number, fn: () => void): () => void {
  let handle: NodeJS.Timeout;
  const deadline = performance.now() + ms;
  const arm = () => {
    const wait = deadline - performance.now();
    handle = wait > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, wait));
    handle.unref?.();
  };
  arm();
  return () => clearTimeout(handle);
}

const systemDeadlines = new DeadlineWatch(() => Date.now(), monotonicTimer);

export const systemClock: Clock = {
  now: () => new Date(),
  at: (at, fn) => systemDeadlines.at(at, fn),
  after: monotonicTimer,
};

interface PendingTimer {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. It keeps a wall clock and a monotonic
 * clock, as a machine does: `advance` moves both and fires the timers that fall
 * due on the way, each at its own time; `jumpWallClock` moves only the wall
 * clock, as an NTP step or a resumed VM does, and fires nothing by itself.
 */
export class ManualClock implements Clock {
  private wallMs: number;
  private monotonicMs = 0;
  private timers: PendingTimer[] = [];
  private seq = 0;
  private readonly deadlines = new DeadlineWatch(() => this.wallMs, (ms, fn) => this.after(ms, fn));

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.wallMs = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.wallMs);
  }

  at(at: Date, fn: () => void): () => void {
    return this.deadlines.at(at, fn);
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { atMs: this.monotonicMs + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, each at its own time. */
  advance(ms: number): void {
    const target = this.monotonicMs + ms;
    for (;;) {
      let due: PendingTimer | undefined;
      for (const t of this.timers) {
        if (t.atMs <= target && (!due || t.atMs < due.atMs || (t.atMs === due.atMs && t.seq < due.seq))) due = t;
      }
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.moveTo(Math.max(this.monotonicMs, due.atMs));
      due.fn();
    }
    this.moveTo(target);
  }

  /** Steps the wall clock by `ms` (negative: backwards) without elapsed time: no timer fires until time moves on. */
  jumpWallClock(ms: number): void {
    this.wallMs += ms;
  }

  /** Wall-clock deadlines set with `at` that have not fired or been cancelled. */
  pendingTimers(): number {
    return this.deadlines.size;
  }

  private moveTo(monotonicMs: number): void {
    this.wallMs += monotonicMs - this.monotonicMs;
    this.monotonicMs = monotonicMs;
  }
}

/**
 * Wall-clock deadlines kept on monotonic timers.
 *
 * A grant ends at a wall-clock time (`expires_at`), but timers run on the
 * monotonic clock: a timer armed for "in 2 h" still fires 2 h later when the
 * wall clock jumps forward an hour in between (NTP step, VM resume), and the
 * grant would outlive its end by that hour. So no timer here waits longer than
 * `checkEveryMs`, and every fire reads the wall clock again: whatever the wall
 * clock does, a deadline fires at most `checkEveryMs` (plus event-loop delay)
 * after the wall clock has passed it, and never before.
 *
 * The real clock and the manual clock of the tests both run this code; they
 * differ only in where the wall time and the monotonic timers come from.
 */

/** One monotonic timer: runs `fn` after `ms`; returns a cancel function. */
export type MonotonicTimer = (ms: number, fn: () => void) => () => void;

/** How long a timer may wait before the wall clock is read again. */
export const WALL_CLOCK_CHECK_MS = 1000;

interface Deadline {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class DeadlineWatch {
  /** Pending deadlines, earliest first (ties in the order they were set). */
  private pending: Deadline[] = [];
  private seq = 0;
  private cancelTimer: (() => void) | null = null;
  /** The wall time the armed timer was meant to check at; an earlier deadline re-arms. */
  private checkAtMs = Infinity;

  constructor(
    private readonly wallNowMs: () => number,
    private readonly timer: MonotonicTimer,
    private readonly checkEveryMs = WALL_CLOCK_CHECK_MS,
  ) {}

  /** Runs `fn` once the wall clock reaches `at` (on the next check if it already has). Returns a cancel function. */
  at(at: Date, fn: () => void): () => void {
    const deadline: Deadline = { atMs: at.getTime(), seq: this.seq++, fn };
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.atMs > deadline.atMs) i--;
    this.pending.splice(i, 0, deadline);
    if (!this.cancelTimer || deadline.atMs < this.checkAtMs) this.arm();
    return () => {
      const at = this.pending.indexOf(deadline);
      if (at < 0) return;
      this.pending.splice(at, 1);
      if (this.pending.length === 0) this.disarm();
    };
  }

  get size(): number {
    return this.pending.length;
  }

  /** Fires every deadline the wall clock has passed, in order, then arms the next check. */
  private check(): void {
    this.cancelTimer = null;
    this.checkAtMs = Infinity;
    try {
      for (;;) {
        const next = this.pending[0];
        if (!next || next.atMs > this.wallNowMs()) break;
        this.pending.shift();
        next.fn();
      }
    } finally {
      // Even when a callback throws, the rest still fire on the next check.
      if (this.pending.length > 0 && !this.cancelTimer) this.arm();
    }
  }

  private arm(): void {
    this.disarm();
    const next = this.pending[0];
    if (!next) return;
    const now = this.wallNowMs();
    const wait = Math.min(Math.max(0, next.atMs - now), this.checkEveryMs);
    this.checkAtMs = now + wait;
    this.cancelTimer = this.timer(wait, () => this.check());
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.checkAtMs = Infinity;
  }
}

/**
 * Slows down guessing without letting a guesser lock anyone out.
 *
 * Failures are counted per (client address, user). From the `maxFailures`th
 * of them within `windowMs` of each other, the answer to each failure is
 * held back for a delay that doubles with every failure, from `baseDelayMs`
 * up to `maxDelayMs`: an online guesser gets at most one answer per delay
 * per connection it can hold open. (Given only `lockoutMs`, the delay is
 * that long from the start: the HTTP API's behaviour, where a failure inside
 * the delay is turned away without being audited again.)
 *
 * A correct secret is never refused or delayed because of failures: the
 * secret is checked first and the throttle only decides how long a *failure*
 * waits. (It used to refuse every attempt for 300 s after five failures, so
 * anyone could keep a user out of their own database by sending five wrong
 * passwords from the user's address.) A success does not reset the count
 * either: the pair is shared with whoever else sends from that address, and
 * a success must not hand a guesser a fresh allowance. Time comes from
 * `now`, never from Date.now().
 */
export interface AuthThrottleOptions {
  readonly now: () => number;
  /** The failure that starts the delays (default 5): the ones before it are answered at once. */
  readonly maxFailures?: number;
  /** A failure this long after the previous one starts the count again (default 15 min). */
  readonly windowMs?: number;
  /** Hold on the first delayed failure (default 1 s); doubles with each further failure. */
  readonly baseDelayMs?: number;
  /** Longest hold (default 30 s). */
  readonly maxDelayMs?: number;
  /** A fixed delay (both `baseDelayMs` and `maxDelayMs`) when those are not given. */
  readonly lockoutMs?: number;
  /** Bound on tracked pairs, so a scan of random user names cannot grow memory without limit. */
  readonly maxEntries?: number;
}

interface Entry {
  failures: number;
  lastAt: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.baseDelayMs = opts.baseDelayMs ?? opts.lockoutMs ?? 1_000;
    this.maxDelayMs = opts.maxDelayMs ?? opts.lockoutMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** How long the answer to the pair's latest failure is held (0 before the `maxFailures`th). */
  failureDelayMs(address: string, user: string): number {
    const entry = this.current(key(address, user), this.opts.now());
    return entry ? this.delayFor(entry.failures) : 0;
  }

  /**
   * Milliseconds until the pair's last delay has passed, or 0: for callers
   * that answer a failure at once and instead turn away the pair's next
   * failures for that long (never a correct secret: check it first).
   */
  retryAfterMs(address: string, user: string): number {
    const now = this.opts.now();
    const entry = this.current(key(address, user), now);
    if (!entry) return 0;
    return Math.max(0, entry.lastAt + this.delayFor(entry.failures) - now);
  }

  /** Records a failure; returns true when this failure is the first to be delayed (worth an audit entry). */
  failed(address: string, user: string): boolean {
    const now = this.opts.now();
    const k = key(address, user);
    let entry = this.current(k, now);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) this.prune(now);
      entry = { failures: 0, lastAt: now };
      this.entries.set(k, entry);
    }
    entry.failures++;
    entry.lastAt = now;
    return entry.failures === this.maxFailures;
  }

  private delayFor(failures: number): number {
    if (failures < this.maxFailures) return 0;
    const doublings = Math.min(failures - this.maxFailures, 30);
    return Math.min(this.baseDelayMs * 2 ** doublings, this.maxDelayMs);
  }

  /** The pair's entry unless its last failure is older than the window (then it is forgotten). */
  private current(k: string, now: number): Entry | undefined {
    const entry = this.entries.get(k);
    if (entry && now - entry.lastAt >= this.windowMs) {
      this.entries.delete(k);
      return undefined;
    }
    return entry;
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.lastAt >= this.windowMs) this.entries.delete(k);
    }
    // Still full: forget the oldest pair rather than grow.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

const key = (address: string, user: string) => `${address}\0${user}`;

/**
 * Slows down guessing: after `maxFailures` failed sign-ins from one client
 * address for one user within `windowMs`, that pair is refused for
 * `lockoutMs`. Keyed per (address, user) so one attacker cannot lock a user
 * out from everywhere. Time comes from `now`, never from Date.now().
 */
export interface AuthThrottleOptions {
  readonly now: () => number;
  readonly maxFailures?: number;
  readonly windowMs?: number;
  readonly lockoutMs?: number;
  /** Bound on tracked pairs, so a scan of random user names cannot grow memory without limit. */
  readonly maxEntries?: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.lockoutMs = opts.lockoutMs ?? 5 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Milliseconds the pair must still wait, or 0 when it may try. */
  retryAfterMs(address: string, user: string): number {
    const entry = this.entries.get(key(address, user));
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntil - this.opts.now());
  }

  /** Records a failure; returns true when this failure starts a lockout. */
  failed(address: string, user: string): boolean {
    const now = this.opts.now();
    const k = key(address, user);
    let entry = this.entries.get(k);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) this.prune(now);
      entry = { failures: [], lockedUntil: 0 };
      this.entries.set(k, entry);
    }
    entry.failures = entry.failures.filter((t) => now - t < this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.maxFailures && entry.lockedUntil <= now) {
      entry.lockedUntil = now + this.lockoutMs;
      entry.failures = [];
      return true;
    }
    return false;
  }

  succeeded(address: string, user: string): void {
    this.entries.delete(key(address, user));
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.lockedUntil <= now && e.failures.every((t) => now - t >= this.windowMs)) this.entries.delete(k);
    }
    // Still full: forget the oldest pair rather than grow.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

const key = (address: string, user: string) => `${address}\0${user}`;

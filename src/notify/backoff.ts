export interface BackoffPolicy {
  /** Wait before attempt `attempts + 1`, given `attempts` failures so far (≥ 1). */
  delayMs(attempts: number): number;
  /** After this many failed attempts a row is given up on (closed as dead, counted in metrics). */
  readonly maxAttempts: number;
}

/**
 * Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 15 min, each
 * scaled by a random factor in [0.5, 1] so many Airlock nodes do not retry a
 * recovering receiver in lockstep. 30 attempts is roughly five hours of
 * trying; `random` is injectable so tests know the schedule.
 */
export function exponentialBackoff(opts: { baseMs?: number; capMs?: number; maxAttempts?: number; random?: () => number } = {}): BackoffPolicy {
  const base = opts.baseMs ?? 1000;
  const cap = opts.capMs ?? 15 * 60_000;
  const random = opts.random ?? Math.random;
  return {
    maxAttempts: opts.maxAttempts ?? 30,
    delayMs(attempts) {
      const raw = Math.min(cap, base * 2 ** Math.max(0, attempts - 1));
      return Math.round(raw * (0.5 + random() / 2));
    },
  };
}

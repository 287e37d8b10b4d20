import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { AirlockError } from '../core/errors.js';

export interface StoreHealthOptions {
  /** One cheap round trip to the store (`select 1`); rejects when it cannot be made. */
  readonly probe: () => Promise<unknown>;
  readonly clock: Clock;
  /** How long the store may stay unreachable before every live session is cut (`store_loss_grace`). */
  readonly graceMs: number;
  /** Time between probes (default 1 s). */
  readonly intervalMs?: number;
  /** A probe not answered within this counts as failed (default 2 s): a store behind a dead link hangs rather than refuses. */
  readonly timeoutMs?: number;
  /** The grace is over: cut every live session, with this message for their users. */
  readonly onLost: (message: string) => void;
  /** The store went away or came back (for the server log). */
  readonly onChange?: (reachable: boolean, detail: string) => void;
}

const clockTime = (at: Date) => `${at.toISOString().slice(11, 19)}Z`;

/**
 * Whether this node can reach its store, probed on an interval and whenever
 * a query fails. While it cannot, the node refuses new work (a node that
 * cannot learn of revocations must not open sessions on grants it may no
 * longer trust), keeps enforcing the expiry it knows, and once the grace is
 * over cuts every session: fail closed. It recovers on the first probe that
 * answers.
 */
export function startStoreHealth(options: StoreHealthOptions) {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  let downSince: Date | null = null;
  let lastError = '';
  let lost = false;
  let stopped = false;
  let probing: Promise<void> | null = null;
  let cancelGrace: (() => void) | null = null;
  let cancelNext: (() => void) | null = null;

  function markDown(detail: string): void {
    lastError = detail;
    if (downSince) return;
    downSince = clock.now();
    options.onChange?.(false, detail);
    cancelGrace = clock.after(options.graceMs, () => {
      cancelGrace = null;
      if (!downSince || lost) return;
      lost = true;
      options.onLost(
        `airlock: this gateway node lost its store at ${clockTime(downSince)} and could not reach it for ${formatDuration(options.graceMs / 1000)}, so it can no longer tell whether access was revoked; the session was closed. Reconnect (through another node if this one stays down)`,
      );
    });
  }

  function markUp(): void {
    if (!downSince) return;
    const since = downSince;
    downSince = null;
    lost = false;
    cancelGrace?.();
    cancelGrace = null;
    options.onChange?.(true, `reachable again (unreachable since ${since.toISOString()})`);
  }

  function probeOnce(): Promise<void> {
    if (probing) return probing;
    probing = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (ok: boolean, detail = '') => {
        if (settled) return;
        settled = true;
        cancelTimeout();
        if (ok) markUp();
        else markDown(detail);
        resolve();
      };
      const cancelTimeout = clock.after(timeoutMs, () => finish(false, `no answer within ${timeoutMs} ms`));
      options.probe().then(
        () => finish(true),
        (err: unknown) => finish(false, err instanceof Error ? err.message : String(err)),
      );
    }).finally(() => {
      probing = null;
    });
    return probing;
  }

  function loop(): void {
    if (stopped) return;
    void probeOnce().then(() => {
      if (!stopped) cancelNext = clock.after(intervalMs, loop);
    });
  }
  loop();

  return {
    /** Whether the last probe reached the store. */
    reachable: () => downSince === null,
    /** The error new work gets while the store is unreachable, or null. */
    refusal(): AirlockError | null {
      if (!downSince) return null;
      return new AirlockError(
        'store_unavailable',
        'unavailable',
        `airlock: this node cannot reach its store since ${downSince.toISOString()} (${lastError}), so it refuses changes and new sessions; retry shortly or go through another node`,
        { since: downSince.toISOString() },
      );
    },
    /** A query failed in a way that may mean the store is gone: probe now rather than at the next interval. */
    suspect(): Promise<void> {
      return probeOnce();
    },
    /** Probe now and resolve once answered (tests). */
    check: () => probeOnce(),
    stop(): void {
      stopped = true;
      cancelNext?.();
      cancelGrace?.();
    },
  };
}

export type StoreHealth = ReturnType<typeof startStoreHealth>;

import type { Clock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../store/store.js';
import { startFleet, type Fleet } from './fleet.js';

export interface FleetTiming {
  /** Reconcile interval (default 2 s). */
  readonly reconcileMs?: number;
  /** Store probe interval (default 1 s). */
  readonly probeMs?: number;
}

/** Joins the fleet when the store is PostgreSQL; null on SQLite, where the in-process bus is the whole story. */
export function joinFleet(config: LoadedConfig, deps: { store: Store; clock: Clock; kickExpiry: () => void; timing?: FleetTiming }): Fleet | null {
  const { store } = deps;
  if (store.target.dialect !== 'postgres') return null;
  return startFleet({
    url: store.target.url,
    node: store.node,
    store,
    clock: deps.clock,
    graceMs: parseDuration(config.file.store_loss_grace) * 1000,
    kickExpiry: deps.kickExpiry,
    reconcileMs: deps.timing?.reconcileMs,
    probeMs: deps.timing?.probeMs,
  });
}

import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../store/store.js';
import { startFleet, type Fleet } from './fleet.js';

/** The PostgreSQL URL the store runs on, or null for the embedded SQLite store (one node: no fleet). */
export function postgresStoreUrl(config: LoadedConfig): string | null {
  const url = config.file.store;
  return /^postgres(ql)?:\/\//.test(url) ? url : null;
}

/** This node's name in the fleet: `node.name` in the config, else the host name. */
export function nodeName(config: LoadedConfig): string {
  return (config.file as { node?: { name?: string } }).node?.name ?? hostname();
}

export interface FleetTiming {
  /** Reconcile interval (default 2 s). */
  readonly reconcileMs?: number;
  /** Store probe interval (default 1 s). */
  readonly probeMs?: number;
}

/** Joins the fleet when the store is PostgreSQL; null on SQLite, where the in-process bus is the whole story. */
export function joinFleet(config: LoadedConfig, deps: { store: Store; clock: Clock; kickExpiry: () => void; timing?: FleetTiming }): Fleet | null {
  const url = postgresStoreUrl(config);
  if (!url) return null;
  return startFleet({
    url,
    node: nodeName(config),
    store: deps.store,
    clock: deps.clock,
    graceMs: parseDuration(config.file.store_loss_grace) * 1000,
    kickExpiry: deps.kickExpiry,
    reconcileMs: deps.timing?.reconcileMs,
    probeMs: deps.timing?.probeMs,
  });
}

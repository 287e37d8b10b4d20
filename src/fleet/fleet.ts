import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { AirlockError } from '../core/errors.js';
import type { AirlockEvent } from '../core/events.js';
import { grantEndedMessage } from '../core/grant-messages.js';
import type { GrantEnded } from '../gateway/kernel/port.js';
import { findGrants } from '../store/grants.js';
import type { Executor, Store } from '../store/store.js';
import { startGrantChannel } from './grant-channel.js';
import { beat } from './node-heartbeat.js';
import { endedMessage, GRANT_CHANNEL, noticesFor, type GrantNotice } from './grant-notice.js';
import { startStoreHealth } from './store-health.js';

/**
 * What the gateways of one node hear from the rest of the fleet: grants ended
 * or extended on other nodes, the store lost for longer than the grace, and
 * whether new work must be refused now.
 */
export interface GrantSignals {
  onEnded(listener: (ended: GrantEnded) => void): () => void;
  onExtended(listener: (extended: { readonly grantId: string; readonly expiresAt: Date }) => void): () => void;
  onStoreLost(listener: (message: string) => void): () => void;
  /** The error new sessions and API calls get while the store is unreachable, or null. */
  refusal(): AirlockError | null;
  /** A store call failed unexpectedly: probe now instead of at the next interval. */
  suspect(): void;
}

export interface FleetOptions {
  /** The store's PostgreSQL URL (the grant channel holds a connection of its own). */
  readonly url: string;
  /** This node's name, for the log. */
  readonly node: string;
  readonly store: Store;
  readonly clock: Clock;
  /** `store_loss_grace` in ms. */
  readonly graceMs: number;
  /** How often the grants of this node's live sessions are read again (default 2 s): the floor under a lost notification. */
  readonly reconcileMs?: number;
  /** How often the store is probed (default 1 s). */
  readonly probeMs?: number;
  /** Another node changed a deadline, or this one may have missed it: look for due expiries now. */
  readonly kickExpiry: () => void;
  readonly log?: (line: string) => void;
}

type Listener<T> = (value: T) => void;

function listeners<T>() {
  const set = new Set<Listener<T>>();
  return {
    add(l: Listener<T>) {
      set.add(l);
      return () => void set.delete(l);
    },
    emit(value: T) {
      for (const l of [...set]) {
        try {
          l(value);
        } catch (err) {
          console.error('airlock: fleet: a listener failed:', err);
        }
      }
    },
  };
}

/**
 * One node's part in a fleet on a shared PostgreSQL store (README "Running
 * several nodes"): it announces its grant changes with NOTIFY inside their
 * transaction (so only committed changes are heard), LISTENs for the others',
 * reconciles the grants of its live sessions on an interval in case a
 * notification was lost, and watches the store.
 */
export function startFleet(options: FleetOptions) {
  const { clock, store } = options;
  const log = options.log ?? ((line: string) => console.error(`airlock: fleet: ${line}`));
  // Per process, not the node name: two processes wrongly given one name must still hear each other.
  const origin = randomUUID();
  const ended = listeners<GrantEnded>();
  const extended = listeners<{ grantId: string; expiresAt: Date }>();
  const lost = listeners<string>();
  const sources = new Set<() => Iterable<string>>();
  const startedAt = clock.now();
  let stopped = false;

  const health = startStoreHealth({
    probe: () => sql`select 1`.execute(store.db),
    clock,
    graceMs: options.graceMs,
    intervalMs: options.probeMs,
    onLost: (message) => {
      log(`the store has been unreachable for longer than store_loss_grace: cutting every live session`);
      lost.emit(message);
    },
    onChange: (reachable, detail) => {
      log(reachable ? `store ${detail}` : `store unreachable (${detail}): refusing new sessions and changes`);
      if (reachable) void reconcile();
    },
  });

  function onNotice(n: GrantNotice): void {
    if (n.node === origin) return;
    if (n.kind === 'ended') ended.emit({ grantId: n.grant, reason: n.reason, message: endedMessage(n) });
    else if (n.kind === 'extended') extended.emit({ grantId: n.grant, expiresAt: new Date(n.expiresAt) });
    // Any change may have moved the next deadline; if the node that made it dies, this one records the expiry.
    options.kickExpiry();
  }

  let reconciling: Promise<void> | null = null;
  /** Reads the grants of this node's live sessions and applies what changed: the floor under a lost notification. */
  function reconcile(): Promise<void> {
    if (reconciling) return reconciling;
    reconciling = (async () => {
      await beat(store.db, options.node, startedAt, clock.now());
      const ids = new Set<string>();
      for (const source of sources) for (const id of source()) ids.add(id);
      options.kickExpiry();
      if (ids.size === 0) return;
      const grants = await findGrants(store.db, [...ids]);
      for (const g of grants) {
        if (g.state === 'active') extended.emit({ grantId: g.id, expiresAt: g.expiresAt });
        else ended.emit({ grantId: g.id, reason: g.state, message: grantEndedMessage(g, g.state, g.endedBy, g.endReason) });
      }
    })()
      .catch((err: unknown) => {
        log(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
        void health.suspect();
      })
      .finally(() => {
        reconciling = null;
      });
    return reconciling;
  }

  const channel = startGrantChannel({ url: options.url, clock, onNotice, onListening: () => void reconcile() });
  let cancelTick: (() => void) | null = null;
  const tick = () => {
    if (stopped) return;
    void reconcile().finally(() => {
      if (!stopped) cancelTick = clock.after(options.reconcileMs ?? 2000, tick);
    });
  };
  cancelTick = clock.after(options.reconcileMs ?? 2000, tick);

  const signals: GrantSignals = {
    onEnded: (l) => ended.add(l),
    onExtended: (l) => extended.add(l),
    onStoreLost: (l) => lost.add(l),
    refusal: () => health.refusal(),
    suspect: () => void health.suspect(),
  };

  return {
    node: options.node,
    signals,
    health,
    /**
     * Runs inside each lifecycle change's transaction: pg_notify is delivered
     * on commit and dropped on rollback, so no node acts on a change that did
     * not happen.
     */
    async onCommit(tx: Executor, events: readonly AirlockEvent[]): Promise<void> {
      for (const n of noticesFor(events, origin)) await sql`select pg_notify(${GRANT_CHANNEL}, ${JSON.stringify(n)})`.execute(tx);
    },
    /** Adds a source of the grant ids this node's live sessions run under (one per gateway). */
    track(liveGrants: () => Iterable<string>): () => void {
      sources.add(liveGrants);
      return () => void sources.delete(liveGrants);
    },
    reconcile,
    listening: () => channel.listening(),
    async stop(): Promise<void> {
      stopped = true;
      cancelTick?.();
      health.stop();
      await channel.stop();
      while (reconciling) await reconciling;
    },
  };
}

export type Fleet = ReturnType<typeof startFleet>;

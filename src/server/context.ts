import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Directory, User } from '../core/model.js';
import type { Store } from '../store/store.js';

/** What the HTTP API reaches: the lifecycle for changes, the store for reads, the bus for live updates. */
export interface ControlPlane {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: Directory;
  readonly lifecycle: Lifecycle;
  /** Where each gateway listens, filled in once it is up; clients are told this to connect. */
  readonly gateways: { postgres?: { host: string; port: number } };
}

export type ApiEnv = { Variables: { user: User } };

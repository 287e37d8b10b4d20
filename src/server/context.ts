import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Lifecycle } from '../core/lifecycle.js';
import type { Directory, Resource, User } from '../core/model.js';
import type { TokenScope, UserLookup } from '../core/tokens.js';
import type { VisibilityRules } from '../core/visibility.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Store } from '../store/store.js';
import type { SignIn } from './sign-in.js';

/** Identity settings the API applies: token lifetimes, who sees what, and where users come from. */
export interface IdentityContext {
  readonly tokenTtlSeconds: number;
  readonly tokenMaxTtlSeconds?: number;
  readonly visibility: VisibilityRules;
  /** YAML users, then users who signed in through the identity provider. */
  readonly users: UserLookup;
  /** Sign-in through the OpenID Provider of `identity.oidc`; absent when none is configured. */
  readonly signIn?: SignIn;
  /** `server.public_url`: the base of the provider's redirect URI (the request's own origin when unset). */
  readonly publicUrl?: string;
}

/** What the HTTP API reaches: the lifecycle for changes, the store for reads, the bus for live updates. */
export interface ControlPlane {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: Directory;
  readonly lifecycle: Lifecycle;
  readonly identity: IdentityContext;
  /** Where each gateway listens, filled in once it is up; clients are told this to connect. */
  readonly gateways: Partial<Record<Resource['kind'], { host: string; port: number; tls?: boolean }>>;
  /** This node's part in a fleet on a PostgreSQL store; null on SQLite (one node). */
  readonly fleet?: Fleet | null;
}

/** How the caller proved who they are: an API token (with its scope) or a signed-in session. */
export type Caller = { readonly kind: 'token'; readonly id: string; readonly scope: TokenScope } | { readonly kind: 'session'; readonly id: string; readonly scope: TokenScope };

export type ApiEnv = { Variables: { user: User; caller: Caller } };

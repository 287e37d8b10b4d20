import type { AccessRequest, Grant, Review } from './model.js';

export type GrantEndReason = 'expired' | 'released' | 'revoked';

export interface SessionSummary {
  readonly id: string;
  readonly grantId: string;
  readonly user: string;
  readonly resource: string;
  readonly role: string;
  readonly clientAddress: string;
  readonly applicationName: string | null;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly endReason: string | null;
  readonly statements: number;
  readonly refused: number;
}

/** Everything that happens to access, as one typed stream (DESIGN.md: one bus, everyone subscribes). */
export type AirlockEvent =
  | { readonly type: 'request.created'; readonly request: AccessRequest; readonly reviewers: readonly string[] }
  | { readonly type: 'request.approved'; readonly request: AccessRequest; readonly review: Review }
  | { readonly type: 'request.denied'; readonly request: AccessRequest; readonly review: Review }
  | { readonly type: 'request.cancelled'; readonly request: AccessRequest }
  | { readonly type: 'request.expired'; readonly request: AccessRequest }
  | { readonly type: 'grant.activated'; readonly grant: Grant }
  | { readonly type: 'grant.extended'; readonly grant: Grant; readonly previousExpiresAt: Date }
  | {
      readonly type: 'grant.ended';
      readonly grant: Grant;
      readonly reason: GrantEndReason;
      readonly by: string | null;
      readonly why: string | null;
    }
  | { readonly type: 'session.started'; readonly session: SessionSummary }
  | { readonly type: 'session.updated'; readonly session: SessionSummary }
  | { readonly type: 'session.ended'; readonly session: SessionSummary };

export type EventType = AirlockEvent['type'];
export type Listener = (event: AirlockEvent) => void;

export interface EventBus {
  publish(event: AirlockEvent): void;
  subscribe(listener: Listener): () => void;
}

/**
 * In-process bus. A failing subscriber is reported and skipped: a broken
 * notifier must never stop the gateway from hearing about a revocation.
 */
export function createEventBus(onListenerError: (err: unknown) => void = (err) => console.error(err)): EventBus {
  const listeners = new Set<Listener>();
  return {
    publish(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (err) {
          onListenerError(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

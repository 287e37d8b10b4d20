import { createHash } from 'node:crypto';
import type { ConfigFile } from '../config/schema.js';
import type { EventType } from '../core/events.js';

/** The events a sink may subscribe to; session events are live-view material, not notifications. */
export const NOTIFIABLE_EVENTS = [
  'request.created',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.expired',
  'grant.activated',
  'grant.extended',
  'grant.ended',
] as const satisfies readonly EventType[];

export type NotifiableEvent = (typeof NOTIFIABLE_EVENTS)[number];

/** What a sink gets when its config names no events: every change to access, not the noise around it. */
const DEFAULT_EVENTS: readonly NotifiableEvent[] = ['request.created', 'request.approved', 'request.denied', 'grant.activated', 'grant.extended', 'grant.ended'];

export type SinkKind = 'slack' | 'webhook';

export interface Sink {
  /**
   * Stable across restarts and config reordering, and safe to store: a Slack
   * webhook URL is itself a credential, so the id carries only a hash of where
   * the URL comes from.
   */
  readonly id: string;
  readonly kind: SinkKind;
  readonly events: ReadonlySet<string>;
  /** Read at delivery time, so a rotated environment takes effect without rewriting the outbox. */
  readonly url: () => string | undefined;
  /** The HMAC key of a signed webhook; undefined for Slack or an unsigned webhook. */
  readonly secret: () => string | undefined;
  /** A name for logs and metrics that reveals no URL: `webhook:AIRLOCK_HOOK_URL` or `webhook:hooks.example`. */
  readonly label: string;
  readonly signed: boolean;
}

type SinkConfig = ConfigFile['notify'][number];

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

export function sinkFromConfig(entry: SinkConfig, env: NodeJS.ProcessEnv): Sink {
  const source = entry.url_env ? `env:${entry.url_env}` : `url:${entry.url ?? ''}`;
  const id = `${entry.kind}:${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
  const label = `${entry.kind}:${entry.url_env ?? hostOf(entry.url ?? '')}`;
  return {
    id,
    kind: entry.kind,
    label,
    events: new Set(entry.events ?? DEFAULT_EVENTS),
    url: () => (entry.url_env ? env[entry.url_env] || undefined : entry.url),
    secret: () => (entry.secret_env ? env[entry.secret_env] || undefined : undefined),
    signed: entry.secret_env !== undefined,
  };
}

export function sinksFromConfig(entries: readonly SinkConfig[], env: NodeJS.ProcessEnv = process.env): Sink[] {
  return entries.map((e) => sinkFromConfig(e, env));
}

import pg from 'pg';
import type { Clock } from '../core/clock.js';
import { GRANT_CHANNEL, parseNotice, type GrantNotice } from './grant-notice.js';

export interface GrantChannelOptions {
  /** The store's PostgreSQL URL: the channel holds one connection of its own on it. */
  readonly url: string;
  readonly clock: Clock;
  readonly onNotice: (notice: GrantNotice) => void;
  /**
   * The channel is listening again after a gap (or for the first time):
   * whatever was sent meanwhile is lost, so the caller reconciles.
   */
  readonly onListening: () => void;
  /** How long to wait before trying again after the connection failed (default 1 s, doubling to 4 s). */
  readonly retryMs?: number;
  readonly onError?: (err: unknown) => void;
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other
 * queries and lose the subscription), reconnecting when it drops. NOTIFY is
 * at most once: a gap is covered by the reconcile the caller runs on
 * `onListening`, not by replay.
 */
export function startGrantChannel(options: GrantChannelOptions) {
  const baseRetry = options.retryMs ?? 1000;
  const onError = options.onError ?? ((err: unknown) => console.error(`airlock: fleet: grant channel: ${err instanceof Error ? err.message : String(err)}`));
  let client: pg.Client | null = null;
  let stopped = false;
  let listening = false;
  let failures = 0;
  let cancelRetry: (() => void) | null = null;

  function retry(): void {
    if (stopped || cancelRetry) return;
    const wait = baseRetry * 2 ** Math.min(failures, 2);
    failures++;
    cancelRetry = options.clock.after(wait, () => {
      cancelRetry = null;
      void connect();
    });
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new pg.Client({ connectionString: options.url, keepAlive: true, connectionTimeoutMillis: 5000 });
    client = c;
    let lost = false;
    const drop = (err?: unknown) => {
      if (lost) return;
      lost = true;
      if (client === c) {
        client = null;
        listening = false;
      }
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      if (err && !stopped) onError(err);
      retry();
    };
    c.on('error', drop);
    c.on('end', () => drop());
    c.on('notification', (msg) => {
      if (msg.channel !== GRANT_CHANNEL) return;
      const notice = parseNotice(msg.payload);
      if (notice) options.onNotice(notice);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${GRANT_CHANNEL}`);
    } catch (err) {
      drop(err);
      return;
    }
    if (stopped || lost) return;
    failures = 0;
    listening = true;
    options.onListening();
  }

  void connect();

  return {
    /** True while the subscription is in place. */
    listening: () => listening,
    async stop(): Promise<void> {
      stopped = true;
      cancelRetry?.();
      const c = client;
      client = null;
      listening = false;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}

export type GrantChannel = ReturnType<typeof startGrantChannel>;

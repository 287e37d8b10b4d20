import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { appendAudit } from '../audit/chain.js';
import { intentDirFor, recoverIntents } from '../audit/intent-recovery.js';
import { systemClock, type Clock } from '../core/clock.js';
import { createEventBus, type EventBus } from '../core/events.js';
import { startExpiryScheduler } from '../core/expiry.js';
import { joinFleet, type FleetTiming } from '../fleet/fleet-config.js';
import { createLifecycle } from '../core/lifecycle.js';
import type { LoadedConfig } from '../config/load.js';
import { serverKey } from '../store/meta.js';
import { closeOrphanedSessions } from '../store/sessions.js';
import { openConfiguredStore } from '../store/configured.js';
import { startNotifier, type NotifierOptions } from '../notify/notifier.js';
import { dashboardAppOptions, mergeAppOptions } from '../web/dashboard.js';
import { createApp, type AppOptions } from './app.js';
import { startAuditTail } from './audit-tail.js';
import type { ControlPlane } from './context.js';
import { identityContext, oidcSettings } from './identity-config.js';
import { createIdentityProvider } from './identity-provider.js';
import { createSignIn } from './sign-in.js';
import { createMetrics } from './metrics.js';
import type { EventStreamOptions } from './routes/events.js';

export interface StartOptions {
  /** Where role credentials' password_env variables are read, by the gateways and `resources check` (defaults to process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly bus?: EventBus;
  /** Overrides server.listen (tests pass 127.0.0.1:0). */
  readonly listen?: string;
  readonly app?: AppOptions;
  /** Notification delivery: environment for url_env/secret_env, fetch, timeout and backoff (tests inject these). */
  readonly notify?: NotifierOptions;
  /** Live event stream: heartbeat, replay limit, and how often the audit log is polled for writes no bus event announces. */
  readonly events?: EventStreamOptions & { readonly pollMs?: number };
  /** Sign-in: where client_secret_env is read (defaults to process.env), and the fetch every provider call goes through. */
  readonly identity?: { readonly env?: NodeJS.ProcessEnv; readonly fetch?: typeof fetch };
  /** On a PostgreSQL store: how often grants are reconciled and the store probed. */
  readonly fleet?: FleetTiming;
}

export function splitHostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not HOST:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * Brings the control plane up: store, recovery after a crash (overdue grants
 * expire at once, sessions the dead process held are closed), the expiry
 * timer, and the HTTP API.
 */
export async function startControlPlane(config: LoadedConfig, options: StartOptions = {}) {
  const clock = options.clock ?? systemClock;
  const bus = options.bus ?? createEventBus();
  const store = await openConfiguredStore(config);
  const saltKey = await serverKey(store.db, 'grant-salt');
  const notifier = startNotifier({ store, clock, bus, notify: config.file.notify }, options.notify);
  let kickExpiry = () => {};
  const fleet = joinFleet(config, { store, clock, kickExpiry: () => kickExpiry(), timing: options.fleet });
  const lifecycle = createLifecycle({
    store, clock, bus, directory: config.directory, saltKey,
    onCommit: async (tx, events, audit) => {
      await notifier.onCommit(tx, events, audit);
      await fleet?.onCommit(tx, events);
    },
  });
  // Statements a dead process forwarded without recording their outcome are closed first, inside their sessions.
  const intentDir = intentDirFor(store);
  if (intentDir) await recoverIntents(store, intentDir, clock.now());
  await store.transaction(async (tx) => {
    const orphaned = await closeOrphanedSessions(tx, clock.now(), store.dialect === 'postgres' ? { node: store.node } : 'all');
    await appendAudit(
      tx,
      clock.now(),
      orphaned.map((id) => ({ actor: 'airlock', action: 'session.ended', target: id, details: { reason: 'shutdown', detail: 'the gateway process stopped while the session was open' } })),
    );
  });
  const expiry = startExpiryScheduler(clock, bus, lifecycle);
  kickExpiry = () => void expiry.kick();
  await expiry.kick();

  const oidc = oidcSettings(config.file, options.identity?.env);
  const signIn = oidc
    ? createSignIn({
        store, clock, directory: config.directory, lifecycle,
        provider: createIdentityProvider(oidc, { fetch: options.identity?.fetch }),
        sealKey: await serverKey(store.db, 'sign-in-seal'),
      })
    : undefined;
  const identity = identityContext(config.file, config.directory, store, signIn);
  const cp: ControlPlane = { store, clock, bus, directory: config.directory, lifecycle, identity, gateways: {}, fleet };
  const tail = await startAuditTail(store, bus, { pollMs: options.events?.pollMs });
  const metrics = await createMetrics({
    store, clock, bus, directory: config.directory, tail,
    deliveryStats: notifier.worker.stats,
    sinkLabels: new Map(notifier.sinks.map((s) => [s.id, s.label])),
  });
  const app = createApp(cp, {
    ...mergeAppOptions(dashboardAppOptions(cp, { tail, metrics, events: options.events, ticketUrl: config.file.ticket_url }), options.app),
    env: options.env,
    storeHealth: fleet ? { refusal: () => fleet.signals.refusal(), suspect: () => void fleet.health.suspect() } : undefined,
  });
  const { host, port } = splitHostPort(options.listen ?? config.file.server.listen);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    ...cp,
    saltKey,
    app,
    url,
    expiry,
    notifier,
    tail,
    metrics,
    async close() {
      expiry.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE streams and keep-alive sockets would otherwise hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await expiry.idle();
      metrics.stop();
      await tail.stop();
      await notifier.stop();
      await fleet?.stop();
      await store.close();
    },
  };
}

export type RunningControlPlane = Awaited<ReturnType<typeof startControlPlane>>;

import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { Directory } from '../core/model.js';
import { outboxCounts } from '../notify/outbox-store.js';
import type { DeliveryStats } from '../notify/delivery-worker.js';
import type { Store } from '../store/store.js';
import type { AuditTail } from './audit-tail.js';
import { createHistogram, type MetricFamily, type Sample } from './prometheus-text.js';

export interface MetricsDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: Directory;
  readonly tail: AuditTail;
  /** Per-sink delivery counters of this process's notifier. */
  readonly deliveryStats?: () => Readonly<Record<string, Readonly<DeliveryStats>>>;
  readonly sinkLabels?: ReadonlyMap<string, string>;
}

const STATEMENT_ACTIONS = { statement: 'allowed', 'statement.refused': 'refused' } as const;
type StatementAction = keyof typeof STATEMENT_ACTIONS;
const isStatement = (a: string): a is StatementAction => a in STATEMENT_ACTIONS;

/**
 * What Airlock exposes to Prometheus. State (grants, requests, sessions,
 * backlog) is read from the store at scrape time, so every node reports the
 * truth; statement counters start from the audit log's own count and follow
 * its tail, so they never go backwards across a restart.
 */
export async function createMetrics(deps: MetricsDeps) {
  const { store, directory } = deps;
  const statements = new Map<string, number>();
  const key = (resource: string, outcome: string) => `${resource}\u0000${outcome}`;
  const add = (resource: string | null, action: StatementAction, n: number) => {
    const k = key(resource ?? '', STATEMENT_ACTIONS[action]);
    statements.set(k, (statements.get(k) ?? 0) + n);
  };
  // Head and subscription in one synchronous step: every row after `upTo` reaches the listener, every row up to it the count below.
  const upTo = deps.tail.head();
  const unTail = deps.tail.subscribe((events) => {
    for (const e of events) if (e.seq > upTo && isStatement(e.action)) add(e.resource, e.action, e.count ?? 1);
  });
  const initial = await store.db
    .selectFrom('audit_events')
    .select((eb) => ['action', 'resource', eb.fn.countAll<number>().as('n')])
    .where('action', 'in', Object.keys(STATEMENT_ACTIONS))
    .where('seq', '<=', upTo)
    .groupBy(['action', 'resource'])
    .execute();
  for (const r of initial) if (isStatement(r.action)) add(r.resource, r.action, Number(r.n));

  const expiryLag = createHistogram([0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300]);
  const ended = new Map<string, number>();
  const unBus = deps.bus.subscribe((e) => {
    if (e.type !== 'grant.ended') return;
    ended.set(e.reason, (ended.get(e.reason) ?? 0) + 1);
    // How late expiry was enforced: processing time minus the promised end.
    if (e.reason === 'expired') expiryLag.observe(Math.max(0, (deps.clock.now().getTime() - e.grant.expiresAt.getTime()) / 1000));
  });

  async function countBy(table: 'grants' | 'requests' | 'sessions', where: (q: ReturnType<typeof base>) => ReturnType<typeof base>) {
    const rows = await where(base(table)).execute();
    return new Map(rows.map((r) => [r.resource, Number(r.n)]));
  }
  function base(table: 'grants' | 'requests' | 'sessions') {
    return store.db.selectFrom(table).select((eb) => ['resource', eb.fn.countAll<number>().as('n')]).groupBy('resource');
  }
  const perResource = (counts: Map<string, number>): Sample[] => {
    const names = new Set([...directory.resources.keys(), ...counts.keys()]);
    return [...names].sort().map((resource) => ({ labels: { resource }, value: counts.get(resource) ?? 0 }));
  };

  async function collect(): Promise<MetricFamily[]> {
    const now = deps.clock.now();
    const active = await countBy('grants', (q) => q.where('state', '=', 'active').where('expires_at', '>', now.toISOString()));
    const pending = await countBy('requests', (q) => q.where('state', '=', 'pending'));
    const live = await countBy('sessions', (q) => q.where('ended_at', 'is', null));
    const outbox = await outboxCounts(store.db);
    const stats = deps.deliveryStats?.() ?? {};
    const sinkIds = [...new Set([...Object.keys(stats), ...outbox.map((o) => o.sink)])].sort();
    const sinkLabel = (id: string) => ({ sink: deps.sinkLabels?.get(id) ?? id });
    const perSink = (value: (id: string) => number): Sample[] => sinkIds.map((id) => ({ labels: sinkLabel(id), value: value(id) }));
    const outboxOf = (id: string) => outbox.find((o) => o.sink === id);
    return [
      { name: 'airlock_active_grants', help: 'Grants active right now.', type: 'gauge', samples: perResource(active) },
      { name: 'airlock_pending_requests', help: 'Access requests waiting for review.', type: 'gauge', samples: perResource(pending) },
      { name: 'airlock_live_sessions', help: 'Gateway sessions open right now.', type: 'gauge', samples: perResource(live) },
      {
        name: 'airlock_statements_total',
        help: 'Statements seen by the gateway, by outcome (refused: outside the role).',
        type: 'counter',
        samples: [...statements.entries()].sort().map(([k, value]) => {
          const [resource, outcome] = k.split('\u0000') as [string, string];
          return { labels: { resource, outcome }, value };
        }),
      },
      {
        name: 'airlock_grants_ended_total',
        help: 'Grants ended since this process started, by reason.',
        type: 'counter',
        samples: ['expired', 'released', 'revoked'].map((reason) => ({ labels: { reason }, value: ended.get(reason) ?? 0 })),
      },
      { name: 'airlock_grant_expiry_lag_seconds', help: 'Seconds between a grant\'s expires_at and Airlock ending it.', type: 'histogram', samples: expiryLag.samples() },
      { name: 'airlock_notification_backlog', help: 'Notifications waiting to be delivered.', type: 'gauge', samples: perSink((id) => outboxOf(id)?.pending ?? 0) },
      {
        name: 'airlock_notification_oldest_pending_seconds',
        help: 'Age of the oldest undelivered notification\'s next attempt time (0 when none).',
        type: 'gauge',
        samples: perSink((id) => {
          const oldest = outboxOf(id)?.oldestPendingAt;
          return oldest ? Math.max(0, (now.getTime() - new Date(oldest).getTime()) / 1000) : 0;
        }),
      },
      { name: 'airlock_notifications_dead', help: 'Notifications given up on after every retry.', type: 'gauge', samples: perSink((id) => outboxOf(id)?.dead ?? 0) },
      { name: 'airlock_notifications_delivered_total', help: 'Notifications delivered by this process.', type: 'counter', samples: perSink((id) => stats[id]?.delivered ?? 0) },
      { name: 'airlock_notification_failures_total', help: 'Failed delivery attempts by this process (each is retried).', type: 'counter', samples: perSink((id) => stats[id]?.failedAttempts ?? 0) },
      { name: 'airlock_audit_events', help: 'Events in the audit chain (its head seq).', type: 'gauge', samples: [{ value: deps.tail.head() }] },
    ];
  }

  return {
    collect,
    stop() {
      unTail();
      unBus();
    },
  };
}

export type Metrics = Awaited<ReturnType<typeof createMetrics>>;

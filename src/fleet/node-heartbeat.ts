import type { Executor } from '../store/store.js';

/** A node not heard from for this long is shown as gone (it beats every 2 s). */
export const NODE_SILENT_AFTER_MS = 10_000;

export interface NodeStatus {
  readonly name: string;
  readonly startedAt: string;
  readonly lastSeen: string;
  /** Heard from within NODE_SILENT_AFTER_MS. */
  readonly live: boolean;
  /** Sessions the store says this node carries now. */
  readonly sessions: number;
}

/** This node is alive now. Outside the audit transaction on purpose: a heartbeat is not an event and must not queue behind the chain's lock. */
export async function beat(db: Executor, name: string, startedAt: Date, now: Date): Promise<void> {
  await db
    .insertInto('nodes')
    .values({ name, started_at: startedAt.toISOString(), last_seen: now.toISOString() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ started_at: startedAt.toISOString(), last_seen: now.toISOString() }))
    .execute();
}

/** Every node that has ever beaten, with its live sessions; the most recently seen first. */
export async function listNodes(db: Executor, now: Date): Promise<NodeStatus[]> {
  const rows = await db.selectFrom('nodes').selectAll().orderBy('last_seen', 'desc').execute();
  const counts = await db
    .selectFrom('sessions')
    .select((eb) => ['node', eb.fn.countAll<number>().as('n')])
    .where('ended_at', 'is', null)
    .groupBy('node')
    .execute();
  const live = new Map(counts.map((c) => [c.node, Number(c.n)]));
  return rows.map((r) => ({
    name: r.name,
    startedAt: r.started_at,
    lastSeen: r.last_seen,
    live: now.getTime() - Date.parse(r.last_seen) < NODE_SILENT_AFTER_MS,
    sessions: live.get(r.name) ?? 0,
  }));
}

import { Hono } from 'hono';
import { listNodes } from '../../fleet/node-heartbeat.js';
import type { ApiEnv, ControlPlane } from '../context.js';

/**
 * `GET /api/nodes`: the nodes sharing this store, whether each is heard from,
 * and how many sessions each carries. On the embedded SQLite store there is
 * one node, this one.
 */
export function nodeRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    const now = cp.clock.now();
    const nodes = cp.fleet
      ? await listNodes(cp.store.db, now)
      : [{ name: cp.store.node, startedAt: null, lastSeen: now.toISOString(), live: true, sessions: (await cp.store.db.selectFrom('sessions').select('id').where('ended_at', 'is', null).execute()).length }];
    return c.json(nodes.map((n) => ({ name: n.name, started_at: n.startedAt, last_seen: n.lastSeen, live: n.live, sessions: n.sessions, this_node: n.name === cp.store.node })));
  });
  return app;
}

export interface NodeView {
  readonly name: string;
  readonly started_at: string | null;
  readonly last_seen: string;
  readonly live: boolean;
  readonly sessions: number;
  readonly this_node: boolean;
}

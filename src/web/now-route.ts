import { Hono } from 'hono';
import { canReview, canRevoke, policyNamed } from '../core/policy.js';
import type { Grant, User } from '../core/model.js';
import type { ApiEnv, ControlPlane } from '../server/context.js';
import { grantView } from '../server/views.js';
import { listGrants } from '../store/grants.js';
import { listRequests } from '../store/requests.js';
import { listSessions } from '../store/sessions.js';

/** The lifecycle's own revoke rule, so the button shows only where the API would allow it. */
export function mayRevoke(cp: ControlPlane, me: User, g: Grant): boolean {
  return canRevoke(cp.directory, me, policyNamed(cp.directory, g.policy));
}

/**
 * `GET /api/dashboard/now`: what `GET /api/who` shows, plus what the caller
 * may do to each grant and how many requests wait for them, and the server's
 * time, so countdowns are right even when the viewer's clock is not.
 */
export function nowRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/now', async (c) => {
    const me = c.var.user;
    const now = cp.clock.now();
    const active = (await listGrants(cp.store.db, { state: 'active' })).filter((g) => g.expiresAt > now).sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
    const sessions = await listSessions(cp.store.db, { live: true, grantIds: active.map((g) => g.id) });
    const pending = await listRequests(cp.store.db, { state: 'pending', limit: 500 });
    const waiting = pending.filter((r) => canReview(cp.directory, me, r.user, policyNamed(cp.directory, r.policy))).length;
    c.header('cache-control', 'no-store');
    return c.json({
      now: now.toISOString(),
      waiting,
      grants: active.map((g) => ({
        ...grantView(g, sessions.filter((s) => s.grantId === g.id)),
        // A read-scoped caller (a read token, an auditor) is offered no buttons: the API would refuse them.
        can_release: g.user === me.name && c.var.caller.scope !== 'read',
        can_revoke: mayRevoke(cp, me, g) && c.var.caller.scope === 'admin',
      })),
    });
  });
  return app;
}

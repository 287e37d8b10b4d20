import { Hono } from 'hono';
import { canReview, canRevoke, policyNamed } from '../core/policy.js';
import type { Grant, User } from '../core/model.js';
import type { ApiEnv, ControlPlane } from '../server/context.js';
import { grantView } from '../server/views.js';
import { listGrants } from '../store/grants.js';
import { findRequest, listRequests } from '../store/requests.js';
import { listSessions } from '../store/sessions.js';

/** The lifecycle's own revoke rule, so the button shows only where the API would allow it. */
export function mayRevoke(cp: ControlPlane, me: User, g: Grant): boolean {
  return canRevoke(cp.directory, me, policyNamed(cp.directory, g.policy));
}

/**
 * `GET /api/dashboard/now`: what `GET /api/who` shows, plus what the caller
 * may do to each grant and how many requests wait for them, and the server's
 * time, so countdowns are right even when the viewer's clock is not. An
 * extended grant carries the end it was first given; `ticket_url` (the
 * config's tracker link, `{ticket}` in it) lets the page link each ticket.
 */
export function nowRoute(cp: ControlPlane, ticketUrl?: string) {
  const app = new Hono<ApiEnv>();
  app.get('/now', async (c) => {
    const me = c.var.user;
    const now = cp.clock.now();
    const active = (await listGrants(cp.store.db, { state: 'active' })).filter((g) => g.expiresAt > now).sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
    const sessions = await listSessions(cp.store.db, { live: true, grantIds: active.map((g) => g.id) });
    const pending = await listRequests(cp.store.db, { state: 'pending', limit: 500 });
    // An extension moved expires_at; the end first granted is the start plus the first request's duration.
    const originalEnd = async (g: Grant) => {
      const first = await findRequest(cp.store.db, g.requestId);
      const end = first ? new Date(g.startsAt.getTime() + first.durationSeconds * 1000) : null;
      return end && end.getTime() !== g.expiresAt.getTime() ? end.toISOString() : null;
    };
    const waiting = pending.filter((r) => canReview(cp.directory, me, r.user, policyNamed(cp.directory, r.policy))).length;
    c.header('cache-control', 'no-store');
    return c.json({
      now: now.toISOString(),
      waiting,
      ticket_url: ticketUrl ?? null,
      gateways: cp.gateways,
      kinds: Object.fromEntries(active.map((g) => [g.resource, cp.directory.resources.get(g.resource)?.kind ?? null])),
      grants: await Promise.all(active.map(async (g) => ({
        ...grantView(g, sessions.filter((s) => s.grantId === g.id)),
        original_expires_at: await originalEnd(g),
        // A read-scoped caller (a read token, an auditor) is offered no buttons: the API would refuse them.
        can_release: g.user === me.name && c.var.caller.scope !== 'read',
        can_revoke: mayRevoke(cp, me, g) && c.var.caller.scope === 'admin',
      }))),
    });
  });
  return app;
}

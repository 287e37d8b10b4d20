import { Hono } from 'hono';
import { notFound } from '../core/errors.js';
import { canReview, policyNamed } from '../core/policy.js';
import { seesEverything } from '../core/visibility.js';
import type { ApiEnv, ControlPlane } from '../server/context.js';
import { grantView, requestView } from '../server/views.js';
import { findGrant } from '../store/grants.js';
import { findRequest, listRequests, reviewsOf } from '../store/requests.js';
import { listSessions } from '../store/sessions.js';

/**
 * `GET /api/dashboard/grants/:id`: one grant's whole story for its page — the
 * request that opened it, its reviews, each extension asked for, its
 * sessions and how it ended. The grant and its sessions are everyone's to
 * see (as `GET /api/grants/:id`); the reviews and extension requests follow
 * the request API's rule (the requester, those who may review, admins and
 * auditors), since a reviewer's comment is not for everyone.
 */
export function grantRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { directory: dir, store } = cp;
  app.get('/grants/:id', async (c) => {
    const me = c.var.user;
    const g = await findGrant(store.db, c.req.param('id'));
    if (!g) throw notFound('unknown_grant', `there is no grant ${c.req.param('id')}`);
    const policy = policyNamed(dir, g.policy);
    const mayRead = g.user === me.name || seesEverything(dir, cp.identity.visibility, me) || canReview(dir, me, g.user, policy);
    const request = mayRead ? await findRequest(store.db, g.requestId) : undefined;
    const extensions = mayRead ? (await listRequests(store.db, { limit: 2000 })).filter((r) => r.extendsGrantId === g.id).reverse() : [];
    c.header('cache-control', 'no-store');
    return c.json({
      grant: grantView(g, await listSessions(store.db, { grantIds: [g.id] })),
      request: request ? requestView(request, await reviewsOf(store.db, request.id)) : null,
      extensions: await Promise.all(extensions.map(async (r) => requestView(r, await reviewsOf(store.db, r.id)))),
      details_hidden: !mayRead,
    });
  });
  return app;
}

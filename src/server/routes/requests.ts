import { Hono } from 'hono';
import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { notFound } from '../../core/errors.js';
import { canReview, policyNamed } from '../../core/policy.js';
import { seesEverything } from '../../core/visibility.js';
import { findRequest, listRequests, reviewsOf } from '../../store/requests.js';
import { readBody } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import { grantView, requestView } from '../views.js';

const askBody = z.object({
  resource: z.string().min(1),
  role: z.string().min(1),
  duration: z.string().min(1),
  reason: z.string().max(2000).nullish(),
  ticket: z.string().max(200).nullish(),
});
const commentBody = z.object({ comment: z.string().max(2000).nullish() });

export function requestRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { lifecycle, store, directory } = cp;

  const outcome = async (o: Awaited<ReturnType<typeof lifecycle.request>>) => ({
    request: requestView(o.request, await reviewsOf(store.db, o.request.id)),
    grant: o.grant && grantView(o.grant),
  });

  app.post('/', async (c) => {
    const body = await readBody(c, askBody);
    const o = await lifecycle.request(c.var.user, { ...body, durationSeconds: parseDuration(body.duration) });
    return c.json(await outcome(o), 201);
  });

  app.get('/', async (c) => {
    const me = c.var.user;
    const pendingOnly = c.req.query('pending') === 'true';
    const all = await listRequests(store.db, { state: pendingOnly ? 'pending' : undefined, limit: 500 });
    // Auditors see every request; others their own and those waiting for their review.
    const everything = seesEverything(directory, cp.identity.visibility, me) && !pendingOnly && c.req.query('all') === 'true';
    const visible = all.filter(
      (r) => everything || r.user === me.name || (r.state === 'pending' && canReview(directory, me, r.user, policyNamed(directory, r.policy))),
    );
    return c.json(
      await Promise.all(
        visible.map(async (r) => ({
          ...requestView(r, await reviewsOf(store.db, r.id)),
          can_review: r.state === 'pending' && canReview(directory, me, r.user, policyNamed(directory, r.policy)),
        })),
      ),
    );
  });

  app.get('/:id', async (c) => {
    const r = await findRequest(store.db, c.req.param('id'));
    const me = c.var.user;
    // Same rule as the list: the requester, those who may review it, and admins (a denial's comment is not for everyone).
    const visible = r && (r.user === me.name || seesEverything(directory, cp.identity.visibility, me) || canReview(directory, me, r.user, policyNamed(directory, r.policy)));
    if (!r || !visible) throw notFound('unknown_request', `there is no request ${c.req.param('id')}`);
    return c.json(requestView(r, await reviewsOf(store.db, r.id)));
  });

  app.post('/:id/approve', async (c) => {
    const { comment } = await readBody(c, commentBody);
    return c.json(await outcome(await lifecycle.approve(c.var.user, c.req.param('id'), comment)));
  });

  app.post('/:id/deny', async (c) => {
    const { comment } = await readBody(c, commentBody);
    return c.json(await outcome(await lifecycle.deny(c.var.user, c.req.param('id'), comment ?? '')));
  });

  app.post('/:id/cancel', async (c) => {
    const r = await lifecycle.cancel(c.var.user, c.req.param('id'));
    return c.json({ request: requestView(r, await reviewsOf(store.db, r.id)), grant: null });
  });

  return app;
}

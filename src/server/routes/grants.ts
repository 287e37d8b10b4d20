import { Hono } from 'hono';
import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { forbidden, notFound } from '../../core/errors.js';
import type { GrantState } from '../../core/model.js';
import { seesEverything } from '../../core/visibility.js';
import { findGrant, listGrants } from '../../store/grants.js';
import { listSessions } from '../../store/sessions.js';
import { limitParam, readBody } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import { grantView, requestView } from '../views.js';

const extendBody = z.object({ duration: z.string().min(1), reason: z.string().max(2000).nullish() });
const revokeBody = z.object({ reason: z.string().max(2000) });
const GRANT_STATES = ['active', 'expired', 'released', 'revoked'] as const;

export function grantRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { lifecycle, store, directory } = cp;

  app.get('/', async (c) => {
    const me = c.var.user;
    const all = c.req.query('all') === 'true';
    if (all && !seesEverything(directory, cp.identity.visibility, me)) throw forbidden('admins_only', 'only admins and auditors can list everyone\'s grants; drop --all to see yours');
    const state = c.req.query('state');
    const grants = await listGrants(store.db, {
      user: all ? c.req.query('user') : me.name,
      resource: c.req.query('resource'),
      state: GRANT_STATES.includes(state as GrantState) ? (state as GrantState) : undefined,
      limit: limitParam(c.req.query('limit'), 500, 5000),
    });
    return c.json(grants.map((g) => grantView(g)));
  });

  app.get('/:id', async (c) => {
    const g = await findGrant(store.db, c.req.param('id'));
    if (!g) throw notFound('unknown_grant', `there is no grant ${c.req.param('id')}`);
    return c.json(grantView(g, await listSessions(store.db, { grantIds: [g.id] })));
  });

  app.post('/:id/extend', async (c) => {
    const body = await readBody(c, extendBody);
    const o = await lifecycle.extend(c.var.user, c.req.param('id'), parseDuration(body.duration), body.reason);
    return c.json({ request: requestView(o.request), grant: o.grant && grantView(o.grant) }, 201);
  });

  app.post('/:id/release', async (c) => c.json({ grant: grantView(await lifecycle.release(c.var.user, c.req.param('id'))) }));

  app.post('/:id/revoke', async (c) => {
    const { reason } = await readBody(c, revokeBody);
    return c.json({ grant: grantView(await lifecycle.revoke(c.var.user, c.req.param('id'), reason)) });
  });

  app.post('/:id/credentials', async (c) => {
    const { grant, secret } = await lifecycle.issueSecret(c.var.user, c.req.param('id'));
    return c.json({ grant: grantView(grant), secret }, 201);
  });

  return app;
}

/** `GET /api/who`: every active grant, with its live sessions. Everyone may see it: that is the point. */
export function whoRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    const now = cp.clock.now();
    const active = (await listGrants(cp.store.db, { state: 'active' })).filter((g) => g.expiresAt > now);
    const sessions = await listSessions(cp.store.db, { live: true, grantIds: active.map((g) => g.id) });
    return c.json(
      active
        .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
        .map((g) => grantView(g, sessions.filter((s) => s.grantId === g.id))),
    );
  });
  return app;
}

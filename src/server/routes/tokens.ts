import { Hono } from 'hono';
import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { forbidden } from '../../core/errors.js';
import { isAdmin } from '../../core/policy.js';
import { issueToken, revokeApiToken, tokensOf, type StoredToken } from '../../core/tokens.js';
import { seesEverything } from '../../core/visibility.js';
import { readBody } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';

const issueBody = z.object({
  name: z.string().min(1).max(64),
  scope: z.enum(['read', 'request', 'admin']).default('request'),
  expires: z.string().min(1).max(20).optional(),
  user: z.string().min(1).max(200).optional(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A token as the API shows it: never the secret, never its hash. */
export function tokenView(t: StoredToken, now: Date) {
  const state = t.revokedAt ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active';
  return {
    id: t.id,
    user: t.user,
    name: t.name,
    scope: t.scope,
    state,
    created_at: iso(t.createdAt),
    created_by: t.createdBy,
    expires_at: iso(t.expiresAt),
    last_used_at: iso(t.lastUsedAt),
    revoked_at: iso(t.revokedAt),
    revoked_by: t.revokedBy,
  };
}

export type TokenView = ReturnType<typeof tokenView>;

/**
 * `/api/tokens`: list (yours; `?all=true` everyone's for admins and auditors),
 * issue (for yourself; admins may name another YAML user), revoke (yours;
 * admins any). The secret is in the issue answer only.
 */
export function tokenRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { store, clock, directory, identity } = cp;

  app.get('/', async (c) => {
    const me = c.var.user;
    const all = c.req.query('all') === 'true';
    if (all && !seesEverything(directory, identity.visibility, me)) throw forbidden('admins_only', 'only admins and auditors can list everyone\'s tokens; drop --all to see yours');
    const tokens = await tokensOf(store, clock, { user: all ? c.req.query('user') : me.name, includeEnded: c.req.query('ended') === 'true' });
    const now = clock.now();
    return c.json(tokens.map((t) => tokenView(t, now)));
  });

  app.post('/', async (c) => {
    const me = c.var.user;
    const body = await readBody(c, issueBody);
    const forOther = body.user !== undefined && body.user !== me.name;
    if (forOther && !isAdmin(directory, me)) throw forbidden('admins_only', 'only admins can issue tokens for another user');
    const issued = await issueToken(store, clock, directory, body.user ?? me.name, me.name, {
      name: body.name,
      scope: body.scope,
      ttlSeconds: body.expires ? parseDuration(body.expires) : identity.tokenTtlSeconds,
      maxTtlSeconds: identity.tokenMaxTtlSeconds,
      knownUser: !forOther,
    });
    const stored = (await tokensOf(store, clock, { user: body.user ?? me.name, includeEnded: true })).find((t) => t.id === issued.id)!;
    return c.json({ ...tokenView(stored, clock.now()), token: issued.token }, 201);
  });

  app.post('/:id/revoke', async (c) => {
    const revoked = await revokeApiToken(store, clock, c.var.user, c.req.param('id'), isAdmin(directory, c.var.user));
    return c.json(tokenView(revoked, clock.now()));
  });

  return app;
}

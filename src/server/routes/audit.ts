import { Hono } from 'hono';
import { parseDuration } from '../../core/duration.js';
import { forbidden, invalid } from '../../core/errors.js';
import { seesEverything } from '../../core/visibility.js';
import { toAuditEvent, verifyAudit } from '../../audit/chain.js';
import { checkIntentCoverage } from '../../audit/intent-coverage.js';
import { intentDirFor } from '../../audit/intent-recovery.js';
import { limitParam } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import type { Context } from 'hono';

export function auditRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { store, directory, clock } = cp;

  function query(c: Context<ApiEnv>, limit: number) {
    const me = c.var.user;
    let q = store.db.selectFrom('audit_events').selectAll();
    // Others see the trail of their own access: what they did and what was done to their requests and grants;
    // with visibility.statements: all, also everyone's sessions and statements.
    if (!seesEverything(directory, cp.identity.visibility, me)) {
      const everyonesStatements = cp.identity.visibility.statements === 'all';
      q = q.where((eb) =>
        eb.or([
          eb('actor', '=', me.name),
          eb('subject_user', '=', me.name),
          ...(everyonesStatements ? [eb('action', 'like', 'statement%'), eb('action', 'like', 'session.%')] : []),
        ]),
      );
    }
    const { user, resource, action, since, target, after } = c.req.query();
    if (user) q = q.where((eb) => eb.or([eb('actor', '=', user), eb('subject_user', '=', user)]));
    if (resource) q = q.where('resource', '=', resource);
    // `statement.*` covers plain `statement` too: a prefix names a family, and the family's head is in it.
    if (action?.endsWith('.*')) q = q.where((eb) => eb.or([eb('action', '=', action.slice(0, -2)), eb('action', 'like', `${action.slice(0, -1)}%`)]));
    else if (action) q = action.endsWith('*') ? q.where('action', 'like', `${action.slice(0, -1)}%`) : q.where('action', '=', action);
    if (target) q = q.where('target', '=', target);
    if (since) q = q.where('at', '>=', new Date(clock.now().getTime() - parseDuration(since) * 1000).toISOString());
    if (after) {
      if (!/^\d+$/.test(after)) throw invalid('invalid_query', 'after must be an event seq number');
      q = q.where('seq', '>', Number(after));
    }
    return q.limit(limit);
  }

  app.get('/', async (c) => {
    const limit = limitParam(c.req.query('limit'), 100, 10_000);
    const order = c.req.query('order') === 'asc' ? 'asc' : 'desc';
    const rows = await query(c, limit).orderBy('seq', order).execute();
    return c.json(rows.map(toAuditEvent));
  });

  app.get('/export', async (c) => {
    if (!seesEverything(directory, cp.identity.visibility, c.var.user)) throw forbidden('admins_only', 'only admins and auditors can export the whole audit log');
    const rows = await query(c, 1_000_000).orderBy('seq', 'asc').execute();
    c.header('content-type', 'application/x-ndjson');
    return c.body(rows.map((r) => JSON.stringify(toAuditEvent(r))).join('\n') + (rows.length ? '\n' : ''));
  });

  app.get('/verify', async (c) => {
    const result = await verifyAudit(store.db);
    const intents = await checkIntentCoverage(store.db, intentDirFor(store));
    return c.json({ ...result, intents });
  });

  return app;
}

import { Hono } from 'hono';
import { forbidden, notFound } from '../../core/errors.js';
import { policyNamed } from '../../core/policy.js';
import { mayReadStatements } from '../../core/visibility.js';
import { toAuditEvent } from '../../audit/chain.js';
import { findGrant } from '../../store/grants.js';
import { findSession, listSessions } from '../../store/sessions.js';
import { limitParam } from '../body.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import { sessionView } from '../views.js';

export function sessionRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { store, directory } = cp;

  app.get('/', async (c) => {
    const sessions = await listSessions(store.db, {
      live: c.req.query('live') === 'true',
      user: c.req.query('user'),
      limit: limitParam(c.req.query('limit'), 100, 1000),
    });
    return c.json(sessions.map(sessionView));
  });

  /**
   * A session and its statements in order. Statement text is sensitive: with
   * `visibility.statements: own` (the default) the session's user, the
   * reviewers of its policy, admins and auditors read it; with `all`, everyone.
   */
  app.get('/:id', async (c) => {
    const me = c.var.user;
    const s = await findSession(store.db, c.req.param('id'));
    if (!s) throw notFound('unknown_session', `there is no session ${c.req.param('id')}`);
    const grant = await findGrant(store.db, s.grantId);
    const policy = grant && policyNamed(directory, grant.policy);
    if (!mayReadStatements(directory, cp.identity.visibility, me, s.user, policy)) {
      throw forbidden('not_allowed', `only ${s.user}, reviewers of its policy, admins and auditors can read the statements of session ${s.id}`);
    }
    const events = await store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('target', '=', s.id)
      .orderBy('seq')
      .execute();
    return c.json({ session: sessionView(s), events: events.map(toAuditEvent) });
  });

  return app;
}

import { Hono } from 'hono';
import { appendAudit } from '../audit/chain.js';
import { authenticateToken } from '../core/tokens.js';
import type { ApiEnv, ControlPlane } from './context.js';
import { errorResponse } from './errors.js';
import { auditRoutes } from './routes/audit.js';
import { connectRoute } from './routes/connect.js';
import { grantRoutes, whoRoute } from './routes/grants.js';
import { requestRoutes } from './routes/requests.js';
import { resourceRoutes, whoamiRoute } from './routes/resources.js';
import { sessionRoutes } from './routes/sessions.js';

export interface AppOptions {
  /** Extra routes mounted before authentication (e.g. the dashboard's static files). */
  readonly extend?: (app: Hono<ApiEnv>) => void;
  /** How the caller's token is found besides the Authorization header (e.g. the dashboard's cookie). */
  readonly tokenFrom?: (c: import('hono').Context<ApiEnv>) => string | undefined;
  readonly clientAddress?: (c: import('hono').Context<ApiEnv>) => string;
  /** Extra routes mounted after authentication, so `c.var.user` is set (e.g. the event stream). */
  readonly authenticated?: (app: Hono<ApiEnv>) => void;
}

/** The HTTP API. Tested in-process through `app.request()` and over a real socket in the server tests. */
export function createApp(cp: ControlPlane, options: AppOptions = {}) {
  const app = new Hono<ApiEnv>();
  app.onError(errorResponse);
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no such endpoint: ${c.req.method} ${c.req.path}` } }, 404));

  app.get('/api/health', (c) => c.json({ ok: true, time: cp.clock.now().toISOString() }));
  options.extend?.(app);

  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const token = header?.replace(/^Bearer\s+/i, '') ?? options.tokenFrom?.(c);
    try {
      c.set('user', await authenticateToken(cp.store, cp.directory, token ?? ''));
    } catch (err) {
      if (token) {
        await cp.store.transaction((tx) =>
          appendAudit(tx, cp.clock.now(), [
            { actor: 'anonymous', action: 'auth.failed', target: 'api', details: { address: options.clientAddress?.(c) ?? null, path: c.req.path } },
          ]),
        );
      }
      throw err;
    }
    await next();
  });

  app.route('/api/whoami', whoamiRoute(cp));
  app.route('/api/resources', resourceRoutes(cp));
  app.route('/api/requests', requestRoutes(cp));
  app.route('/api/grants', grantRoutes(cp));
  app.route('/api/who', whoRoute(cp));
  app.route('/api/audit', auditRoutes(cp));
  app.route('/api/sessions', sessionRoutes(cp));
  app.route('/api/connect', connectRoute(cp));
  options.authenticated?.(app);
  return app;
}

import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { appendAudit } from '../audit/chain.js';
import { AuthThrottle } from '../core/auth-throttle.js';
import { AirlockError } from '../core/errors.js';
import { scopeGuard } from './caller-scope.js';
import { identifyCaller } from './caller.js';
import type { ApiEnv, ControlPlane } from './context.js';
import { errorResponse } from './errors.js';
import { auditRoutes } from './routes/audit.js';
import { connectRoute } from './routes/connect.js';
import { grantRoutes, whoRoute } from './routes/grants.js';
import { requestRoutes } from './routes/requests.js';
import { resourceCheckRoute } from './routes/resource-check.js';
import { resourceRoutes, whoamiRoute } from './routes/resources.js';
import { nodeRoutes } from './routes/nodes.js';
import { sessionRoutes } from './routes/sessions.js';
import { tokenRoutes } from './routes/tokens.js';

export interface AppOptions {
  /** Extra routes mounted before authentication (e.g. the dashboard's static files). */
  readonly extend?: (app: Hono<ApiEnv>) => void;
  /** How the caller's token is found besides the Authorization header (e.g. the dashboard's cookie). */
  readonly tokenFrom?: (c: Context<ApiEnv>) => string | undefined;
  readonly clientAddress?: (c: Context<ApiEnv>) => string;
  /** Extra routes mounted after authentication, so `c.var.user` is set (e.g. the event stream). */
  readonly authenticated?: (app: Hono<ApiEnv>) => void;
  /** Where `resources check` reads role credentials' password_env variables (defaults to process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Why this node refuses API calls now (its store is unreachable), or null.
   * The health check then answers 503 too, so a load balancer sends callers
   * to another node.
   */
  readonly storeHealth?: {
    refusal(): AirlockError | null;
    /** A call failed with an error that was not a refusal of ours: maybe the store went away, so probe it now. */
    suspect(): void;
  };
}

/** Requests carry small JSON documents; anything bigger is refused before it is read into memory. */
export const MAX_BODY_BYTES = 1024 * 1024;

function peerAddress(c: Context<ApiEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'in-process';
  }
}

/** The HTTP API. Tested in-process through `app.request()` and over a real socket in the server tests. */
export function createApp(cp: ControlPlane, options: AppOptions = {}) {
  const app = new Hono<ApiEnv>();
  const clientAddress = options.clientAddress ?? peerAddress;
  // Failed tokens are audited, so unthrottled guessing would also flood the audit log.
  const throttle = new AuthThrottle({ now: () => cp.clock.now().getTime(), maxFailures: 10, windowMs: 60_000, lockoutMs: 5 * 60_000 });
  app.onError(errorResponse);
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: { code: 'body_too_large', message: `the request body is larger than ${MAX_BODY_BYTES} bytes` } }, 413),
    }),
  );
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no such endpoint: ${c.req.method} ${c.req.path}` } }, 404));

  app.get('/api/health', (c) => {
    const refusal = options.storeHealth?.refusal();
    if (refusal) return c.json({ ok: false, time: cp.clock.now().toISOString(), error: { code: refusal.code, message: refusal.message } }, 503);
    return c.json({ ok: true, time: cp.clock.now().toISOString() });
  });
  if (options.storeHealth) {
    const health = options.storeHealth;
    app.use('/api/*', async (c, next) => {
      const err = health.refusal();
      if (err) throw err;
      await next();
      if (c.error && !(c.error instanceof AirlockError)) health.suspect();
    });
  }
  options.extend?.(app);

  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const token = header?.replace(/^Bearer\s+/i, '') ?? options.tokenFrom?.(c);
    try {
      const { user, caller } = await identifyCaller(cp, token ?? '');
      c.set('user', user);
      c.set('caller', caller);
    } catch (err) {
      if (!token) throw err;
      // A valid token from the same address still works; only the failures stop being written.
      const address = clientAddress(c);
      const waitMs = throttle.retryAfterMs(address, 'api');
      if (waitMs > 0) {
        c.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new AirlockError('too_many_failures', 'rate_limited', `too many failed sign-ins from ${address}; try again in ${Math.ceil(waitMs / 1000)}s`);
      }
      const lockedOut = throttle.failed(address, 'api');
      await cp.store.transaction((tx) =>
        appendAudit(tx, cp.clock.now(), [
          { actor: 'anonymous', action: lockedOut ? 'auth.locked_out' : 'auth.failed', target: 'api', details: { address, path: c.req.path.slice(0, 200), why: (err as Error).message.slice(0, 300) } },
        ]),
      );
      throw err;
    }
    await next();
  });
  app.use('/api/*', scopeGuard());

  app.route('/api/tokens', tokenRoutes(cp));
  app.route('/api/whoami', whoamiRoute(cp));
  app.route('/api/resources/check', resourceCheckRoute(cp, options.env));
  app.route('/api/resources', resourceRoutes(cp));
  app.route('/api/requests', requestRoutes(cp));
  app.route('/api/grants', grantRoutes(cp));
  app.route('/api/who', whoRoute(cp));
  app.route('/api/audit', auditRoutes(cp));
  app.route('/api/sessions', sessionRoutes(cp));
  app.route('/api/nodes', nodeRoutes(cp));
  app.route('/api/connect', connectRoute(cp));
  options.authenticated?.(app);
  return app;
}

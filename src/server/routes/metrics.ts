import { Hono } from 'hono';
import { identifyCaller } from '../caller.js';
import type { ApiEnv, ControlPlane } from '../context.js';
import type { Metrics } from '../metrics.js';
import { renderPrometheus } from '../prometheus-text.js';
import { tokenFromCookie } from '../session-cookie.js';

/**
 * `GET /metrics` in Prometheus text format. It needs an API token like the
 * rest of the API (Prometheus: `authorization: { credentials: <token> }`;
 * a dedicated `prometheus` user is the usual choice): resource names and
 * counts describe production and are not for anonymous eyes, and a listener
 * bound beyond localhost would otherwise publish them.
 */
export function metricsRoute(cp: ControlPlane, metrics: Metrics) {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    const bearer = c.req.header('authorization')?.replace(/^Bearer\s+/i, '');
    await identifyCaller(cp, bearer ?? tokenFromCookie(c) ?? '');
    c.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    c.header('cache-control', 'no-store');
    return c.body(renderPrometheus(await metrics.collect()));
  });
  return app;
}

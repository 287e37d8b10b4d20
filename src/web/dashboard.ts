import type { Hono } from 'hono';
import type { AppOptions } from '../server/app.js';
import type { AuditTail } from '../server/audit-tail.js';
import type { ApiEnv, ControlPlane } from '../server/context.js';
import type { Metrics } from '../server/metrics.js';
import { eventRoutes, type EventStreamOptions } from '../server/routes/events.js';
import { metricsRoute } from '../server/routes/metrics.js';
import { signInRoutes } from '../server/routes/sign-in.js';
import { authRoutes, csrfGuard, tokenFromCookie } from '../server/session-cookie.js';
import { grantRoute } from './grant-route.js';
import { nowRoute } from './now-route.js';
import { reviewRoute } from './review-route.js';
import { DASHBOARD_HTML } from './page.js';
import { DASHBOARD_SCRIPT } from './script.js';
import { setPageHeaders } from './security-headers.js';
import { DASHBOARD_CSS } from './styles.js';

export interface DashboardDeps {
  readonly tail: AuditTail;
  readonly metrics: Metrics;
  readonly events?: EventStreamOptions;
  /** The config's `ticket_url`: the tracker link with `{ticket}` in it. */
  readonly ticketUrl?: string;
}

/**
 * Everything discoverability adds to the HTTP app: the page and its assets,
 * cookie sign-in with CSRF protection, the live event stream, the dashboard's
 * permission-aware view, and /metrics.
 */
export function dashboardAppOptions(cp: ControlPlane, deps: DashboardDeps): AppOptions {
  const asset = (body: string, type: string) => (app: Hono<ApiEnv>, path: string) =>
    app.get(path, (c) => {
      setPageHeaders(c);
      c.header('content-type', type);
      return c.body(body);
    });
  return {
    extend(app) {
      app.use('/api/*', csrfGuard());
      app.use('/auth/logout', csrfGuard());
      asset(DASHBOARD_HTML, 'text/html; charset=utf-8')(app, '/');
      asset(DASHBOARD_SCRIPT, 'text/javascript; charset=utf-8')(app, '/assets/dashboard.js');
      asset(DASHBOARD_CSS, 'text/css; charset=utf-8')(app, '/assets/dashboard.css');
      app.route('/auth', authRoutes(cp));
      app.route('/auth', signInRoutes(cp));
      app.route('/metrics', metricsRoute(cp, deps.metrics));
    },
    tokenFrom: tokenFromCookie,
    authenticated(app) {
      app.route('/api/events', eventRoutes(deps.tail, deps.events));
      app.route('/api/dashboard', nowRoute(cp, deps.ticketUrl));
      app.route('/api/dashboard', reviewRoute(cp));
      app.route('/api/dashboard', grantRoute(cp));
    },
  };
}

/** Combines the dashboard's options with a caller's own (tests, embedders): both sets of routes, the caller's token source first. */
export function mergeAppOptions(a: AppOptions, b: AppOptions = {}): AppOptions {
  return {
    extend: (app) => {
      a.extend?.(app);
      b.extend?.(app);
    },
    tokenFrom: (c) => b.tokenFrom?.(c) ?? a.tokenFrom?.(c),
    clientAddress: b.clientAddress ?? a.clientAddress,
    authenticated: (app) => {
      a.authenticated?.(app);
      b.authenticated?.(app);
    },
  };
}

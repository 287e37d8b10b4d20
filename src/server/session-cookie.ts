import { createHash } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { appendAudit } from '../audit/chain.js';
import { AirlockError, forbidden } from '../core/errors.js';
import { isAdmin } from '../core/policy.js';
import { constantTimeEqual } from '../core/secret.js';
import { readBody } from './body.js';
import { identifyCaller } from './caller.js';
import { isSignInToken } from './sign-in.js';
import type { ApiEnv, ControlPlane } from './context.js';

/**
 * Dashboard sign-in. The browser holds the personal API token in an
 * HttpOnly, SameSite=Strict cookie (page script never sees it), and every
 * state-changing request made with that cookie must also carry
 * `X-Airlock-CSRF`: a value derived from the token that only a page able to
 * read `/auth/session` (same origin) can learn. Bearer-token callers (the
 * CLI) are not CSRF-able and are left alone.
 */
export const SESSION_COOKIE = 'airlock_session';
export const CSRF_HEADER = 'x-airlock-csrf';
const SESSION_SECONDS = 12 * 3600;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfTokenFor(apiToken: string): string {
  return createHash('sha256').update(`airlock-csrf\u0000${apiToken}`).digest('base64url');
}

export function tokenFromCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE) || undefined;
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** The dashboard's sign-in cookie: HttpOnly (page script never sees it), SameSite=Strict. */
export function setSessionCookie(c: Context, value: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, value, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: maxAgeSeconds, secure: isHttps(c) });
}

const sameText = (a: string, b: string): boolean => constantTimeEqual(Buffer.from(a), Buffer.from(b));

/** Refuses a request a browser says came from another site (defence in depth beside SameSite and the header). */
function assertSameOrigin(c: Context): void {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') throw forbidden('cross_site_request', 'cross-site requests are refused');
  const origin = c.req.header('origin');
  if (origin && origin !== 'null' && origin !== new URL(c.req.url).origin) {
    throw forbidden('cross_site_request', `requests from ${origin} are refused`);
  }
}

/** Mounted on /api/* and /auth/logout: cookie-authenticated changes need the CSRF header. */
export function csrfGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.req.header('authorization')) return next();
    const token = tokenFromCookie(c);
    if (!token) return next();
    assertSameOrigin(c);
    const sent = c.req.header(CSRF_HEADER) ?? '';
    if (!sameText(sent, csrfTokenFor(token))) {
      throw forbidden('csrf_failed', 'this change needs the X-Airlock-CSRF header the dashboard sends; reload the page and try again');
    }
    return next();
  };
}

const loginBody = z.object({ token: z.string().min(1).max(200) });

export function authRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();

  app.post('/login', async (c) => {
    assertSameOrigin(c);
    const { token } = await readBody(c, loginBody);
    let user;
    try {
      user = (await identifyCaller(cp, token)).user;
    } catch (err) {
      if (err instanceof AirlockError) {
        await cp.store.transaction((tx) =>
          appendAudit(tx, cp.clock.now(), [{ actor: 'anonymous', action: 'auth.failed', target: 'dashboard', details: { path: c.req.path } }]),
        );
      }
      throw err;
    }
    setSessionCookie(c, token.trim(), SESSION_SECONDS);
    return c.json({ user: user.name, groups: user.groups, admin: isAdmin(cp.directory, user), csrf: csrfTokenFor(token.trim()) });
  });

  /** Who the cookie signs in as, and the CSRF value the page sends back; 401 when signed out. */
  app.get('/session', async (c) => {
    const token = tokenFromCookie(c);
    const { user } = await identifyCaller(cp, token ?? '');
    c.header('cache-control', 'no-store');
    return c.json({ user: user.name, groups: user.groups, admin: isAdmin(cp.directory, user), csrf: csrfTokenFor(token!) });
  });

  app.post('/logout', async (c) => {
    const token = tokenFromCookie(c);
    // A provider sign-in ends on the server too, so a copied cookie stops working at once.
    if (token && cp.identity.signIn && isSignInToken(token)) await cp.identity.signIn.signOut(token).catch(() => undefined);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  return app;
}

import type { MiddlewareHandler } from 'hono';
import { forbidden } from '../core/errors.js';
import type { TokenScope } from '../core/tokens.js';
import type { ApiEnv } from './context.js';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Changes a `request`-scoped token (a bot that asks for access) may make: ask,
 * cancel its own request, extend, release or connect to its own grants, and
 * revoke its own tokens. Reviewing (approve, deny) and revoking grants are
 * not among them. Anything not listed needs `admin` scope: deny by default.
 */
const REQUEST_SCOPE: readonly RegExp[] = [
  /^\/api\/requests\/?$/,
  /^\/api\/requests\/[^/]+\/cancel$/,
  /^\/api\/grants\/[^/]+\/(?:extend|release|credentials)$/,
  /^\/api\/tokens\/[^/]+\/revoke$/,
];

export function scopeAllows(scope: TokenScope, method: string, path: string): boolean {
  if (READ_METHODS.has(method)) return true;
  if (scope === 'admin') return true;
  if (scope === 'request') return REQUEST_SCOPE.some((p) => p.test(path));
  return false;
}

/** Mounted on /api/* after authentication: the caller's scope bounds what the route may do, whatever the user's own rights. */
export function scopeGuard(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const { scope, kind, id } = c.var.caller;
    if (!scopeAllows(scope, c.req.method, c.req.path)) {
      const what = kind === 'token' ? `API token ${id} has scope "${scope}"` : `this sign-in is ${scope === 'read' ? 'read-only (auditor)' : `limited to ${scope}`}`;
      throw forbidden('scope_insufficient', `${what}, which does not allow ${c.req.method} ${c.req.path}; ${scope === 'read' ? 'read scope only reads' : 'reviews and revocations need an admin-scope token'}`);
    }
    return next();
  };
}

import { Hono } from 'hono';
import { AirlockError, notFound } from '../../core/errors.js';
import type { ApiEnv, ControlPlane } from '../context.js';

/**
 * `GET /api/connect/:resource`: where the caller's client should connect for
 * a resource. The password is the grant secret (POST /api/grants/:id/credentials);
 * the upstream's own address and credentials are never disclosed.
 */
export function connectRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/:resource', (c) => {
    const resource = cp.directory.resources.get(c.req.param('resource'));
    if (!resource) throw notFound('unknown_resource', `there is no resource "${c.req.param('resource')}"`);
    const gateway = cp.gateways[resource.kind];
    if (!gateway) {
      throw new AirlockError('no_gateway', 'unavailable', `no ${resource.kind} gateway is running for ${resource.name}; add gateway.${resource.kind}.listen to the server's config`);
    }
    return c.json({ kind: resource.kind, host: gateway.host, port: gateway.port, user: c.var.user.name, database: resource.name, ...(gateway.tls ? { tls: true } : {}) });
  });
  return app;
}

import { Hono } from 'hono';
import { formatDuration } from '../../core/duration.js';
import { isAdmin, maxDurationFor, policiesSelecting } from '../../core/policy.js';
import { isAuditor } from '../../core/visibility.js';
import type { ApiEnv, ControlPlane } from '../context.js';

function describeApproval(p: { approval: { count: number; from: { users?: readonly string[]; groups?: readonly string[] } } | null }) {
  if (!p.approval) return 'none';
  const from = [...(p.approval.from.users ?? []), ...(p.approval.from.groups ?? []).map((g) => `@${g}`)].join(', ');
  return `${p.approval.count} of ${from}`;
}

/** What the caller may request: one row per resource and role, with the least demanding policy that allows it. */
export function resourceRoutes(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/', (c) => {
    const me = c.var.user;
    const rows = [];
    for (const resource of cp.directory.resources.values()) {
      for (const role of resource.roles.values()) {
        const policies = policiesSelecting(cp.directory, me, resource, role.name).sort(
          (a, b) => (a.approval?.count ?? 0) - (b.approval?.count ?? 0),
        );
        if (policies.length === 0) continue;
        const best = policies[0]!;
        const max = Math.max(...policies.map((p) => maxDurationFor(p, resource, role.name)));
        rows.push({
          resource: resource.name,
          kind: resource.kind,
          labels: resource.labels,
          role: role.name,
          allow: role.allow,
          approval: describeApproval(best),
          approval_needed: best.approval !== null,
          max_duration: formatDuration(max),
          policies: policies.map((p) => p.name),
          requires: { reason: policies.every((p) => p.require.reason), ticket: best.require.ticket?.source ?? null },
        });
      }
    }
    return c.json(rows);
  });
  return app;
}

export function whoamiRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  app.get('/', (c) =>
    c.json({
      user: c.var.user.name,
      groups: c.var.user.groups,
      admin: isAdmin(cp.directory, c.var.user),
      auditor: isAuditor(cp.identity.visibility, c.var.user),
      scope: c.var.caller.scope,
      via: c.var.caller.kind,
    }),
  );
  return app;
}

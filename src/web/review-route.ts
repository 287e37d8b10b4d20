import { Hono } from 'hono';
import { formatDuration } from '../core/duration.js';
import type { AccessRequest, Directory, HttpRule, Policy, Role, User } from '../core/model.js';
import { canReview, maxDurationFor, policyNamed } from '../core/policy.js';
import type { ApiEnv, ControlPlane } from '../server/context.js';
import { requestView } from '../server/views.js';
import { listGrants } from '../store/grants.js';
import { listRequests, reviewsOf } from '../store/requests.js';

const rule = (r: HttpRule) => `${r.methods.join(',')} ${r.path}`;

/** What a role lets its holder do, in the words of the config: what a reviewer is really saying yes to. */
export function roleScope(role: Role | undefined) {
  if (!role) return null;
  if (role.http) return { kind: 'http' as const, allow: role.http.allow.map(rule), deny: role.http.deny.map(rule) };
  return { kind: 'sql' as const, classes: role.allow, tables: role.tables ?? ['every table'], deny_tables: role.denyTables ?? [] };
}

/** A policy as a reviewer needs it: who approves, the longest grant, what a request must carry. */
export function policyFacts(dir: Directory, p: Policy | undefined, r: AccessRequest) {
  if (!p) return null;
  const resource = dir.resources.get(r.resource);
  const from = p.approval ? [...(p.approval.from.users ?? []), ...(p.approval.from.groups ?? []).map((g) => `@${g}`)] : [];
  return {
    name: p.name,
    approval: p.approval ? `${p.approval.count} approval${p.approval.count === 1 ? '' : 's'} from ${from.join(', ')}` : 'none (granted at once)',
    max_duration: resource ? formatDuration(maxDurationFor(p, resource, r.role)) : null,
    requires: { reason: p.require.reason, ticket: p.require.ticket?.source ?? null },
  };
}

/** Everyone else who may decide: named users of the directory, and the approving groups for people only the identity provider knows. */
function otherReviewers(dir: Directory, me: User, r: AccessRequest, p: Policy | undefined): string[] {
  if (!p) return [];
  const named = [...dir.users.values()].filter((u) => u.name !== me.name && canReview(dir, u, r.user, p)).map((u) => u.name);
  const groups = (p.approval?.from.groups ?? []).map((g) => `@${g}`);
  return [...named, ...groups];
}

/**
 * `GET /api/dashboard/requests`: the Requests view in one call. Requests
 * waiting for the caller's review come with what a reviewer needs to decide
 * (the role's scope, the policy, who else may approve, the requester's
 * recent grants on that resource); the caller's own requests; and requests
 * the caller could review that are already decided, so a decision does not
 * vanish the moment it is made. Visibility is the request API's: the
 * requester, those who may review it, and admins.
 */
export function reviewRoute(cp: ControlPlane) {
  const app = new Hono<ApiEnv>();
  const { directory: dir, store } = cp;
  app.get('/requests', async (c) => {
    const me = c.var.user;
    const all = await listRequests(store.db, { limit: 500 });
    const mayDecide = (r: AccessRequest) => canReview(dir, me, r.user, policyNamed(dir, r.policy));
    // A read-scoped caller (a read token, an auditor) is offered no decisions: the API would refuse them.
    const mayAct = c.var.caller.scope === 'admin';
    const withReviews = async (r: AccessRequest) => ({ ...requestView(r, await reviewsOf(store.db, r.id)), can_review: mayAct && r.state === 'pending' && mayDecide(r) });
    const toReview = await Promise.all(
      all
        .filter((r) => mayAct && r.state === 'pending' && mayDecide(r))
        .map(async (r) => {
          const policy = policyNamed(dir, r.policy);
          const recent = (await listGrants(store.db, { user: r.user, resource: r.resource, limit: 5 })).map((g) => ({
            id: g.id,
            role: g.role,
            state: g.state,
            reason: g.reason,
            starts_at: g.startsAt.toISOString(),
            ended_at: (g.endedAt ?? g.expiresAt).toISOString(),
          }));
          return {
            ...(await withReviews(r)),
            scope: roleScope(dir.resources.get(r.resource)?.roles.get(r.role)),
            policy_facts: policyFacts(dir, policy, r),
            other_reviewers: otherReviewers(dir, me, r, policy),
            recent_grants: recent,
          };
        }),
    );
    const mine = await Promise.all(all.filter((r) => r.user === me.name).slice(0, 30).map(withReviews));
    const decided = await Promise.all(
      all
        .filter((r) => r.state !== 'pending' && r.user !== me.name && mayDecide(r))
        .sort((a, b) => (b.decidedAt?.getTime() ?? 0) - (a.decidedAt?.getTime() ?? 0))
        .slice(0, 20)
        .map(withReviews),
    );
    c.header('cache-control', 'no-store');
    return c.json({ to_review: toReview, mine, decided });
  });
  return app;
}

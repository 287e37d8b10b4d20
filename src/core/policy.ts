import { formatDuration } from './duration.js';
import { AirlockError, forbidden, invalid } from './errors.js';
import { isMember, type Directory, type Policy, type Resource, type User } from './model.js';

export interface AccessAsk {
  readonly user: User;
  readonly resource: Resource;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason: string | null;
  readonly ticket: string | null;
}

export interface PolicyDecision {
  readonly policy: Policy;
  /** 0 when the policy grants at once. */
  readonly approvalsNeeded: number;
  readonly maxDurationSeconds: number;
}

/** Policies that let this user ask for this role on this resource, whatever the duration and reason. */
export function policiesSelecting(dir: Directory, user: User, resource: Resource, role: string): Policy[] {
  return dir.policies.filter(
    (p) => isMember(user, p.who) && selectsResource(p, resource) && p.roles.includes(role),
  );
}

export function selectsResource(policy: Policy, resource: Resource): boolean {
  const { names, labels } = policy.resources;
  if (names && !names.includes(resource.name)) return false;
  if (labels && !Object.entries(labels).every(([k, v]) => resource.labels[k] === v)) return false;
  return true;
}

/** The longest grant a policy allows: the tightest of the policy's, the resource's and the role's maximums. */
export function maxDurationFor(policy: Policy, resource: Resource, role: string): number {
  const caps = [policy.maxDurationSeconds, resource.maxDurationSeconds, resource.roles.get(role)?.maxDurationSeconds];
  return Math.min(...caps.filter((c): c is number => c !== undefined));
}

function requirementProblem(policy: Policy, ask: AccessAsk): string | null {
  if (policy.require.reason && !ask.reason?.trim()) {
    return `policy "${policy.name}" requires a reason: add --reason "what you are doing and why"`;
  }
  const ticket = policy.require.ticket;
  if (ticket) {
    if (!ask.ticket) return `policy "${policy.name}" requires a ticket matching ${ticket.source}: add --ticket`;
    if (!ticket.test(ask.ticket)) {
      return `ticket "${ask.ticket}" does not match ${ticket.source}, which policy "${policy.name}" requires`;
    }
  }
  return null;
}

/**
 * Which policy allows this ask. Of the policies that fit (duration within the
 * cap, requirements met) the least demanding wins: no approval before some,
 * fewer approvals before more. Asking for more than allowed is refused with
 * the maximum named, never silently cut.
 */
export function decide(dir: Directory, ask: AccessAsk): PolicyDecision {
  const { user, resource, role } = ask;
  if (!resource.roles.has(role)) {
    throw invalid(
      'unknown_role',
      `${resource.name} has no role "${role}"; its roles are: ${[...resource.roles.keys()].join(', ')}`,
    );
  }
  const candidates = policiesSelecting(dir, user, resource, role);
  if (candidates.length === 0) {
    throw forbidden(
      'no_matching_policy',
      `no policy lets ${user.name} request role "${role}" on ${resource.name}; run \`airlock resources\` to see what you may request`,
    );
  }
  const fitting: PolicyDecision[] = [];
  let longest = 0;
  let problem: string | null = null;
  for (const policy of candidates) {
    const max = maxDurationFor(policy, resource, role);
    const unmet = requirementProblem(policy, ask);
    if (unmet) {
      problem ??= unmet;
      continue;
    }
    longest = Math.max(longest, max);
    if (ask.durationSeconds <= max) {
      fitting.push({ policy, approvalsNeeded: policy.approval?.count ?? 0, maxDurationSeconds: max });
    }
  }
  fitting.sort((a, b) => a.approvalsNeeded - b.approvalsNeeded);
  const best = fitting[0];
  if (best) return best;
  if (longest > 0) {
    throw new AirlockError(
      'duration_too_long',
      'invalid',
      `${formatDuration(ask.durationSeconds)} is longer than allowed: the longest grant of role "${role}" on ${resource.name} is ${formatDuration(longest)}`,
      { max_duration: formatDuration(longest), max_duration_seconds: longest },
    );
  }
  throw invalid('requirement_not_met', problem ?? 'the request does not meet its policy');
}

export function isAdmin(dir: Directory, user: User): boolean {
  return isMember(user, dir.admins);
}

/** May `reviewer` approve or deny a request made under `policy` by `requester`? Never their own. */
export function canReview(dir: Directory, reviewer: User, requester: string, policy: Policy | undefined): boolean {
  if (reviewer.name === requester) return false;
  return isAdmin(dir, reviewer) || reviewsFor(dir, reviewer, policy);
}

/** Is `user` one of the reviewers a policy names (whoever the requester is)? */
export function reviewsFor(dir: Directory, user: User, policy: Policy | undefined): boolean {
  return policy?.approval ? isMember(user, policy.approval.from) : false;
}

/** May `user` revoke a grant made under `policy`? Admins, and the reviewers that policy names. */
export function canRevoke(dir: Directory, user: User, policy: Policy | undefined): boolean {
  return isAdmin(dir, user) || reviewsFor(dir, user, policy);
}

/** Everyone who may review a request by `requester` under `policy` (for notifications). */
export function reviewersOf(dir: Directory, requester: string, policy: Policy): string[] {
  return [...dir.users.values()].filter((u) => canReview(dir, u, requester, policy)).map((u) => u.name);
}

export function policyNamed(dir: Directory, name: string): Policy | undefined {
  return dir.policies.find((p) => p.name === name);
}

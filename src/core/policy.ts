import { formatDuration } from './duration.js';
import { forbidden, invalid, LongerThanAllowed, type LimitDetails } from './errors.js';
import { isMember, type Directory, type Policy, type Resource, type User } from './model.js';

export interface AccessAsk {
  readonly user: User;
  readonly resource: Resource;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason: string | null;
  readonly ticket: string | null;
  /** Set when the ask extends this grant: then its whole life, not only the added time, must fit the maximum. */
  readonly extending?: GrantLife;
}

/** The part of a grant its maximum is measured on: from its first start to its current end. */
export interface GrantLife {
  readonly id: string;
  readonly startsAt: Date;
  readonly expiresAt: Date;
}

export interface PolicyDecision {
  readonly policy: Policy;
  /** 0 when the policy grants at once. */
  readonly approvalsNeeded: number;
  readonly maxDurationSeconds: number;
}

/** A maximum grant length and where it comes from, so a refusal can name the real source. */
export interface DurationCap {
  readonly seconds: number;
  readonly setBy: LimitDetails['max_set_by'];
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

/** The longest grant a policy allows: the tightest of the policy's, the role's and the resource's maximums. */
export function durationCapFor(policy: Policy, resource: Resource, role: string): DurationCap {
  const caps: DurationCap[] = [];
  if (policy.maxDurationSeconds !== undefined) caps.push({ seconds: policy.maxDurationSeconds, setBy: { kind: 'policy', policy: policy.name } });
  const roleMax = resource.roles.get(role)?.maxDurationSeconds;
  if (roleMax !== undefined) caps.push({ seconds: roleMax, setBy: { kind: 'role', role, resource: resource.name } });
  // The config gives every resource a maximum; the fallback only keeps the type honest.
  caps.push({ seconds: resource.maxDurationSeconds ?? Infinity, setBy: { kind: 'resource', resource: resource.name } });
  return caps.reduce((tightest, c) => (c.seconds < tightest.seconds ? c : tightest));
}

export function maxDurationFor(policy: Policy, resource: Resource, role: string): number {
  return durationCapFor(policy, resource, role).seconds;
}

function capSourceText(setBy: DurationCap['setBy']): string {
  if (setBy.kind === 'policy') return `policy "${setBy.policy}"`;
  if (setBy.kind === 'role') return `role "${setBy.role}" on ${setBy.resource}`;
  return `resource ${setBy.resource}`;
}

const capDetails = (cap: DurationCap): LimitDetails => ({
  max_duration: formatDuration(cap.seconds),
  max_duration_seconds: cap.seconds,
  max_set_by: cap.setBy,
});

/** The seconds a grant has already taken of its maximum: its whole life so far, start to current end. */
export function lifeSeconds(grant: GrantLife): number {
  return Math.round((grant.expiresAt.getTime() - grant.startsAt.getTime()) / 1000);
}

/**
 * Refuses an extension that would take a grant's whole life past `cap`. Run
 * when the extension is asked for and again when its last approval lands, so
 * extensions approved one after another cannot stack past the maximum either.
 */
export function checkExtensionFits(cap: DurationCap, grant: GrantLife, addSeconds: number): void {
  const used = lifeSeconds(grant);
  if (used + addSeconds <= cap.seconds) return;
  const left = Math.max(0, cap.seconds - used);
  const then = left > 0 ? `it can be extended by at most ${formatDuration(left)}` : 'request new access when it ends';
  throw new LongerThanAllowed(
    'extension_too_long',
    `grant ${grant.id} cannot be extended by ${formatDuration(addSeconds)}: the maximum is ${formatDuration(cap.seconds)}, set by ${capSourceText(cap.setBy)}, ` +
      `and it has already used ${formatDuration(used)} of it (from its start at ${grant.startsAt.toISOString()} to its current end at ${grant.expiresAt.toISOString()}); ${then}`,
    { ...capDetails(cap), used: formatDuration(used), used_seconds: used, extendable: formatDuration(left), extendable_seconds: left },
  );
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
  let longest: DurationCap | null = null;
  let problem: string | null = null;
  // An extension is measured on the grant's whole life: extensions never stack past a maximum.
  const life = (ask.extending ? lifeSeconds(ask.extending) : 0) + ask.durationSeconds;
  for (const policy of candidates) {
    const cap = durationCapFor(policy, resource, role);
    const unmet = requirementProblem(policy, ask);
    if (unmet) {
      problem ??= unmet;
      continue;
    }
    if (!longest || cap.seconds > longest.seconds) longest = cap;
    if (life <= cap.seconds) {
      fitting.push({ policy, approvalsNeeded: policy.approval?.count ?? 0, maxDurationSeconds: cap.seconds });
    }
  }
  fitting.sort((a, b) => a.approvalsNeeded - b.approvalsNeeded);
  const best = fitting[0];
  if (best) return best;
  if (longest && ask.extending) checkExtensionFits(longest, ask.extending, ask.durationSeconds);
  if (longest) {
    throw new LongerThanAllowed(
      'duration_too_long',
      `${formatDuration(ask.durationSeconds)} is longer than allowed for role "${role}" on ${resource.name}: the maximum is ${formatDuration(longest.seconds)}, set by ${capSourceText(longest.setBy)}`,
      capDetails(longest),
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

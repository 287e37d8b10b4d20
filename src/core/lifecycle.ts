import { encodeMysqlVerifiers, mysqlVerifiers } from './mysql-verifiers.js';
import { encodeScramVerifier, grantSalt, newSecret, scramVerifier } from './secret.js';
import type { Clock } from './clock.js';
import { formatDuration } from './duration.js';
import { conflict, forbidden, invalid, notFound } from './errors.js';
import type { AirlockEvent, EventBus, GrantEndReason } from './events.js';
import { grantEndedMessage } from './grant-messages.js';
import { newId } from './ids.js';
import type { AccessRequest, Directory, Grant, Review, User } from './model.js';
import { canReview, canRevoke, checkExtensionFits, decide, durationCapFor, policyNamed, reviewersOf } from './policy.js';
import { appendAudit, type AuditEntry, type AuditEvent } from '../audit/chain.js';
import * as grants from '../store/grants.js';
import * as requests from '../store/requests.js';
import type { Executor, Store } from '../store/store.js';

export interface LifecycleDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: EventBus;
  readonly directory: Directory;
  /** Key from which every grant's SCRAM salt is derived (see core/secret.ts grantSalt). */
  readonly saltKey: Buffer;
  /**
   * Runs inside each change's transaction, after its audit events are appended:
   * the notification outbox writes here so a notification exists exactly when
   * the change it announces does.
   */
  readonly onCommit?: (tx: Executor, events: readonly AirlockEvent[], audit: readonly AuditEvent[]) => Promise<void>;
}

export interface AskInput {
  readonly resource: string;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason?: string | null;
  readonly ticket?: string | null;
}

export interface RequestOutcome {
  readonly request: AccessRequest;
  readonly grant: Grant | null;
}

const SYSTEM = 'airlock';

/**
 * The one place where access changes state. Each change and its audit events
 * commit in one transaction; bus events go out only after the commit, so a
 * subscriber never acts on a change that was rolled back.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const { store, clock, bus, directory: dir } = deps;

  async function change<T>(fn: (tx: Executor, now: Date, emit: (e: AirlockEvent) => void, audit: (e: AuditEntry) => void) => Promise<T>): Promise<T> {
    const events: AirlockEvent[] = [];
    const now = clock.now();
    const result = await store.transaction(async (tx) => {
      const entries: AuditEntry[] = [];
      const value = await fn(tx, now, (e) => events.push(e), (e) => entries.push(e));
      const written = await appendAudit(tx, now, entries);
      await deps.onCommit?.(tx, events, written);
      return value;
    });
    for (const e of events) bus.publish(e);
    return result;
  }

  function resourceNamed(name: string) {
    const resource = dir.resources.get(name);
    if (!resource) {
      throw notFound('unknown_resource', `there is no resource "${name}"; run \`airlock resources\` to see what you may request`);
    }
    return resource;
  }

  async function requestFor(tx: Executor, id: string): Promise<AccessRequest> {
    const r = await requests.findRequest(tx, id);
    if (!r) throw notFound('unknown_request', `there is no request ${id}`);
    return r;
  }

  async function grantFor(tx: Executor, id: string): Promise<Grant> {
    const g = await grants.findGrant(tx, id);
    if (!g) throw notFound('unknown_grant', `there is no grant ${id}`);
    return g;
  }

  const requestAudit = (r: AccessRequest, actor: string, action: string, details: Record<string, unknown> = {}): AuditEntry => ({
    actor,
    action,
    target: r.id,
    subjectUser: r.user,
    resource: r.resource,
    details: { role: r.role, ...details },
  });

  const grantAudit = (g: Grant, actor: string, action: string, details: Record<string, unknown> = {}): AuditEntry => ({
    actor,
    action,
    target: g.id,
    subjectUser: g.user,
    resource: g.resource,
    details: { role: g.role, ...details },
  });

  /** Called once the last approval lands (or at once): the clock starts now, never at request time. */
  async function fulfil(tx: Executor, r: AccessRequest, now: Date, approvedBy: string[], emit: (e: AirlockEvent) => void, audit: (e: AuditEntry) => void): Promise<Grant | null> {
    if (r.extendsGrantId) {
      const g = await grantFor(tx, r.extendsGrantId);
      if (g.state !== 'active' || g.expiresAt <= now) {
        await requests.settleRequest(tx, r.id, 'cancelled', now);
        audit(requestAudit(r, SYSTEM, 'request.cancelled', { why: `grant ${g.id} ended before the extension was approved` }));
        return null;
      }
      // Asked before other extensions of the same grant were approved: its whole life must still fit.
      const policy = policyNamed(dir, r.policy);
      const resource = dir.resources.get(g.resource);
      if (policy && resource) checkExtensionFits(durationCapFor(policy, resource, g.role), g, r.durationSeconds);
      const base = Math.max(now.getTime(), g.expiresAt.getTime());
      const expiresAt = new Date(base + r.durationSeconds * 1000);
      await grants.setGrantExpiry(tx, g.id, expiresAt);
      await requests.settleRequest(tx, r.id, 'approved', now, g.id);
      const extended = { ...g, expiresAt };
      audit(grantAudit(extended, approvedBy.at(-1) ?? SYSTEM, 'grant.extended', {
        request: r.id, previous_expires_at: g.expiresAt.toISOString(), expires_at: expiresAt.toISOString(), approved_by: approvedBy,
      }));
      emit({ type: 'grant.extended', grant: extended, previousExpiresAt: g.expiresAt });
      return extended;
    }
    const grant: Grant = {
      id: newId('grt'),
      requestId: r.id,
      user: r.user,
      resource: r.resource,
      role: r.role,
      policy: r.policy,
      reason: r.reason,
      ticket: r.ticket,
      approvedBy,
      startsAt: now,
      expiresAt: new Date(now.getTime() + r.durationSeconds * 1000),
      state: 'active',
      endedAt: null,
      endedBy: null,
      endReason: null,
    };
    await grants.insertGrant(tx, grant);
    await requests.settleRequest(tx, r.id, 'approved', now, grant.id);
    audit(grantAudit(grant, approvedBy.at(-1) ?? SYSTEM, 'grant.activated', {
      request: r.id, policy: r.policy, reason: r.reason, ticket: r.ticket, approved_by: approvedBy,
      starts_at: grant.startsAt.toISOString(), expires_at: grant.expiresAt.toISOString(),
    }));
    emit({ type: 'grant.activated', grant });
    return grant;
  }

  async function ask(actor: User, input: AskInput, extendsGrant: Grant | null): Promise<RequestOutcome> {
    const resource = resourceNamed(input.resource);
    const reason = input.reason?.trim() || null;
    const ticket = input.ticket?.trim() || null;
    const decision = decide(dir, {
      user: actor, resource, role: input.role, durationSeconds: input.durationSeconds, reason, ticket, extending: extendsGrant ?? undefined,
    });
    return change(async (tx, now, emit, audit) => {
      const request: AccessRequest = {
        id: newId('req'),
        user: actor.name,
        resource: resource.name,
        role: input.role,
        durationSeconds: input.durationSeconds,
        reason,
        ticket,
        policy: decision.policy.name,
        approvalsNeeded: decision.approvalsNeeded,
        state: 'pending',
        createdAt: now,
        reviewDeadline: new Date(now.getTime() + dir.reviewTimeoutSeconds * 1000),
        decidedAt: null,
        extendsGrantId: extendsGrant?.id ?? null,
        grantId: null,
      };
      await requests.insertRequest(tx, request);
      audit(requestAudit(request, actor.name, 'request.created', {
        duration: formatDuration(request.durationSeconds), reason, ticket, policy: request.policy,
        approvals_needed: request.approvalsNeeded, extends_grant: request.extendsGrantId,
      }));
      const reviewers = request.approvalsNeeded > 0 ? reviewersOf(dir, actor.name, decision.policy) : [];
      emit({ type: 'request.created', request, reviewers });
      if (request.approvalsNeeded > 0) return { request, grant: null };
      const grant = await fulfil(tx, request, now, [], emit, audit);
      return { request: (await requests.findRequest(tx, request.id))!, grant };
    });
  }

  async function review(actor: User, requestId: string, decision: Review['decision'], comment: string | null): Promise<RequestOutcome> {
    return change(async (tx, now, emit, audit) => {
      const r = await requestFor(tx, requestId);
      if (r.user === actor.name) {
        throw forbidden('self_review', `you cannot ${decision} your own request ${r.id}; someone else must review it`);
      }
      if (!canReview(dir, actor, r.user, policyNamed(dir, r.policy))) {
        throw forbidden('not_a_reviewer', `${actor.name} is not a reviewer for requests under policy "${r.policy}"`);
      }
      if (r.state !== 'pending') throw conflict('request_not_pending', `request ${r.id} is already ${r.state}`);
      if (r.reviewDeadline <= now) throw conflict('request_not_pending', `request ${r.id} passed its review deadline and is expiring`);
      const earlier = await requests.reviewsOf(tx, r.id);
      if (earlier.some((rv) => rv.reviewer === actor.name)) {
        throw conflict('already_reviewed', `you have already reviewed request ${r.id}; it needs another reviewer`);
      }
      const rv: Review = { requestId: r.id, reviewer: actor.name, decision, comment, at: now };
      await requests.insertReview(tx, rv);
      if (decision === 'deny') {
        await requests.settleRequest(tx, r.id, 'denied', now);
        audit(requestAudit(r, actor.name, 'request.denied', { comment }));
        const denied = { ...r, state: 'denied' as const, decidedAt: now };
        emit({ type: 'request.denied', request: denied, review: rv });
        return { request: denied, grant: null };
      }
      const approvers = [...earlier.filter((e) => e.decision === 'approve').map((e) => e.reviewer), actor.name];
      audit(requestAudit(r, actor.name, 'request.approved', { comment, approvals: approvers.length, approvals_needed: r.approvalsNeeded }));
      emit({ type: 'request.approved', request: r, review: rv });
      const grant = approvers.length >= r.approvalsNeeded ? await fulfil(tx, r, now, approvers, emit, audit) : null;
      return { request: (await requests.findRequest(tx, r.id))!, grant };
    });
  }

  async function endGrant(grantId: string, reason: GrantEndReason, actor: string, why: string | null, authorize: (g: Grant) => void): Promise<Grant> {
    return change(async (tx, now, emit, audit) => {
      const g = await grantFor(tx, grantId);
      authorize(g);
      if (g.state !== 'active') throw conflict('grant_not_active', `grant ${g.id} is already ${g.state}`);
      // Read outside this transaction, the grant may have been extended since: then it is not due.
      if (reason === 'expired' && g.expiresAt > now) return g;
      const endedAt = reason === 'expired' ? g.expiresAt : now;
      // The claim: with nodes racing (each one's expiry timer fires at the same deadline), only the one whose update changed the row records the end.
      if (!(await grants.endGrant(tx, g.id, reason, endedAt, reason === 'expired' ? null : actor, why))) {
        throw conflict('grant_not_active', `grant ${g.id} has already ended`);
      }
      const ended: Grant = { ...g, state: reason, endedAt, endedBy: reason === 'expired' ? null : actor, endReason: why };
      audit(grantAudit(ended, actor, `grant.${reason}`, { why, expires_at: g.expiresAt.toISOString(), ended_at: endedAt.toISOString() }));
      for (const pending of await requests.listRequests(tx, { state: 'pending', limit: 1_000_000 })) {
        if (pending.extendsGrantId !== g.id) continue;
        await requests.settleRequest(tx, pending.id, 'cancelled', now);
        audit(requestAudit(pending, SYSTEM, 'request.cancelled', { why: `grant ${g.id} ended` }));
        emit({ type: 'request.cancelled', request: { ...pending, state: 'cancelled', decidedAt: now } });
      }
      emit({ type: 'grant.ended', grant: ended, reason, by: ended.endedBy, why });
      return ended;
    });
  }

  return {
    request: (actor: User, input: AskInput) => ask(actor, input, null),

    approve: (actor: User, requestId: string, comment?: string | null) => review(actor, requestId, 'approve', comment?.trim() || null),

    deny(actor: User, requestId: string, comment: string) {
      if (!comment?.trim()) throw invalid('comment_required', 'a denial needs a comment saying why (--comment)');
      return review(actor, requestId, 'deny', comment.trim());
    },

    cancel(actor: User, requestId: string): Promise<AccessRequest> {
      return change(async (tx, now, emit, audit) => {
        const r = await requestFor(tx, requestId);
        if (r.user !== actor.name) throw forbidden('not_your_request', `request ${r.id} is ${r.user}'s; only they can cancel it`);
        if (r.state !== 'pending') throw conflict('request_not_pending', `request ${r.id} is already ${r.state}`);
        await requests.settleRequest(tx, r.id, 'cancelled', now);
        audit(requestAudit(r, actor.name, 'request.cancelled'));
        const cancelled = { ...r, state: 'cancelled' as const, decidedAt: now };
        emit({ type: 'request.cancelled', request: cancelled });
        return cancelled;
      });
    },

    release: (actor: User, grantId: string) =>
      endGrant(grantId, 'released', actor.name, null, (g) => {
        if (g.user !== actor.name) throw forbidden('not_your_grant', `grant ${g.id} is ${g.user}'s; only they can release it (reviewers and admins can revoke)`);
      }),

    revoke(actor: User, grantId: string, why: string) {
      if (!why?.trim()) throw invalid('reason_required', 'a revocation needs a reason (--reason)');
      return endGrant(grantId, 'revoked', actor.name, why.trim(), (g) => {
        if (!canRevoke(dir, actor, policyNamed(dir, g.policy))) {
          throw forbidden('not_allowed_to_revoke', `${actor.name} may not revoke grant ${g.id}: only reviewers of policy "${g.policy}" and admins can`);
        }
      });
    },

    async extend(actor: User, grantId: string, durationSeconds: number, reason?: string | null): Promise<RequestOutcome> {
      const g = await grantFor(store.db, grantId);
      if (g.user !== actor.name) throw forbidden('not_your_grant', `grant ${g.id} is ${g.user}'s; only they can extend it`);
      if (g.state !== 'active') throw conflict('grant_not_active', `grant ${g.id} is already ${g.state}; request new access instead`);
      return ask(actor, { resource: g.resource, role: g.role, durationSeconds, reason: reason ?? g.reason, ticket: g.ticket }, g);
    },

    /** Issues the grant's connection secret, replacing any earlier one. Shown once; only its verifier is kept. */
    issueSecret(actor: User, grantId: string): Promise<{ grant: Grant; secret: string }> {
      return change(async (tx, now, _emit, audit) => {
        const g = await grantFor(tx, grantId);
        if (g.user !== actor.name) throw forbidden('not_your_grant', `grant ${g.id} is ${g.user}'s; only they can connect with it`);
        if (g.state !== 'active' || g.expiresAt <= now) throw conflict('grant_not_active', `grant ${g.id} is ${g.state === 'active' ? 'expired' : g.state}`);
        const secret = newSecret('als');
        const verifier = scramVerifier(secret, grantSalt(deps.saltKey, g.user, g.resource));
        await grants.setGrantVerifier(tx, g.id, encodeScramVerifier(verifier), encodeMysqlVerifiers(mysqlVerifiers(secret)));
        audit(grantAudit(g, actor.name, 'grant.secret_issued'));
        return { grant: g, secret };
      });
    },

    /** Expires every overdue grant and every pending request past its review deadline. */
    async expireDue(): Promise<void> {
      const now = clock.now();
      for (const g of await grants.activeOverdue(store.db, now)) {
        await endGrant(g.id, 'expired', SYSTEM, null, () => {}).catch((err: unknown) => {
          if (!(err instanceof Error && 'code' in err && err.code === 'grant_not_active')) throw err;
        });
      }
      for (const r of await requests.pendingPastDeadline(store.db, now)) {
        await change(async (tx, at, emit, audit) => {
          if (!(await requests.settleRequest(tx, r.id, 'expired', at))) return;
          audit(requestAudit(r, SYSTEM, 'request.expired', { review_deadline: r.reviewDeadline.toISOString() }));
          emit({ type: 'request.expired', request: { ...r, state: 'expired', decidedAt: at } });
        });
      }
    },

    async nextDeadline(): Promise<Date | null> {
      const [g, r] = await Promise.all([grants.nextGrantExpiry(store.db), requests.nextReviewDeadline(store.db)]);
      if (!g) return r;
      if (!r) return g;
      return g < r ? g : r;
    },

    grantEndedMessage,
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;

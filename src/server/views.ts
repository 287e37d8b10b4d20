import { formatDuration } from '../core/duration.js';
import type { AccessRequest, Grant, Review } from '../core/model.js';
import type { SessionRecord } from '../store/sessions.js';

/** The API's JSON shapes: snake_case, ISO-8601 UTC times. One definition, used by the CLI and the dashboard. */
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function reviewView(r: Review) {
  return { reviewer: r.reviewer, decision: r.decision, comment: r.comment, at: iso(r.at) };
}

export function requestView(r: AccessRequest, reviews: readonly Review[] = []) {
  return {
    id: r.id,
    user: r.user,
    resource: r.resource,
    role: r.role,
    duration: formatDuration(r.durationSeconds),
    duration_seconds: r.durationSeconds,
    reason: r.reason,
    ticket: r.ticket,
    policy: r.policy,
    approvals_needed: r.approvalsNeeded,
    state: r.state,
    created_at: iso(r.createdAt),
    review_deadline: iso(r.reviewDeadline),
    decided_at: iso(r.decidedAt),
    extends_grant_id: r.extendsGrantId,
    grant_id: r.grantId,
    reviews: reviews.map(reviewView),
  };
}

export function sessionView(s: SessionRecord) {
  return {
    id: s.id,
    grant_id: s.grantId,
    user: s.user,
    resource: s.resource,
    role: s.role,
    client_address: s.clientAddress,
    application_name: s.applicationName,
    started_at: iso(s.startedAt),
    ended_at: iso(s.endedAt),
    end_reason: s.endReason,
    statements: s.statements,
    refused: s.refused,
    bytes_in: s.bytesIn,
    bytes_out: s.bytesOut,
    node: s.node ?? null,
  };
}

export function grantView(g: Grant, sessions?: readonly SessionRecord[]) {
  return {
    id: g.id,
    request_id: g.requestId,
    user: g.user,
    resource: g.resource,
    role: g.role,
    policy: g.policy,
    reason: g.reason,
    ticket: g.ticket,
    approved_by: g.approvedBy,
    starts_at: iso(g.startsAt),
    expires_at: iso(g.expiresAt),
    state: g.state,
    ended_at: iso(g.endedAt),
    ended_by: g.endedBy,
    end_reason: g.endReason,
    ...(sessions ? { sessions: sessions.map(sessionView) } : {}),
  };
}

export type RequestView = ReturnType<typeof requestView>;
export type GrantView = ReturnType<typeof grantView>;
export type SessionView = ReturnType<typeof sessionView>;

import type { AccessRequest, RequestState, Review } from '../core/model.js';
import type { RequestsTable, ReviewsTable } from './schema.js';
import type { Executor } from './store.js';

const date = (s: string) => new Date(s);
const maybeDate = (s: string | null) => (s === null ? null : new Date(s));

function toRequest(row: RequestsTable): AccessRequest {
  return {
    id: row.id,
    user: row.user,
    resource: row.resource,
    role: row.role,
    durationSeconds: row.duration_seconds,
    reason: row.reason,
    ticket: row.ticket,
    policy: row.policy,
    approvalsNeeded: row.approvals_needed,
    state: row.state as RequestState,
    createdAt: date(row.created_at),
    reviewDeadline: date(row.review_deadline),
    decidedAt: maybeDate(row.decided_at),
    extendsGrantId: row.extends_grant_id,
    grantId: row.grant_id,
  };
}

function toReview(row: ReviewsTable): Review {
  return {
    requestId: row.request_id,
    reviewer: row.reviewer,
    decision: row.decision as Review['decision'],
    comment: row.comment,
    at: date(row.at),
  };
}

export async function insertRequest(tx: Executor, r: AccessRequest): Promise<void> {
  await tx
    .insertInto('requests')
    .values({
      id: r.id,
      user: r.user,
      resource: r.resource,
      role: r.role,
      duration_seconds: r.durationSeconds,
      reason: r.reason,
      ticket: r.ticket,
      policy: r.policy,
      approvals_needed: r.approvalsNeeded,
      state: r.state,
      created_at: r.createdAt.toISOString(),
      review_deadline: r.reviewDeadline.toISOString(),
      decided_at: r.decidedAt?.toISOString() ?? null,
      extends_grant_id: r.extendsGrantId,
      grant_id: r.grantId,
    })
    .execute();
}

export async function findRequest(tx: Executor, id: string): Promise<AccessRequest | undefined> {
  const row = await tx.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRequest(row);
}

/** Moves a request out of `pending`; returns false when it was no longer pending (someone else decided first). */
export async function settleRequest(
  tx: Executor,
  id: string,
  state: Exclude<RequestState, 'pending'>,
  at: Date,
  grantId: string | null = null,
): Promise<boolean> {
  const result = await tx
    .updateTable('requests')
    .set({ state, decided_at: at.toISOString(), grant_id: grantId })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function listRequests(
  tx: Executor,
  filter: { state?: RequestState; limit?: number } = {},
): Promise<AccessRequest[]> {
  let q = tx.selectFrom('requests').selectAll().orderBy('created_at', 'desc').limit(filter.limit ?? 200);
  if (filter.state) q = q.where('state', '=', filter.state);
  return (await q.execute()).map(toRequest);
}

export async function pendingPastDeadline(tx: Executor, now: Date): Promise<AccessRequest[]> {
  const rows = await tx
    .selectFrom('requests')
    .selectAll()
    .where('state', '=', 'pending')
    .where('review_deadline', '<=', now.toISOString())
    .execute();
  return rows.map(toRequest);
}

export async function nextReviewDeadline(tx: Executor): Promise<Date | null> {
  const row = await tx
    .selectFrom('requests')
    .select((eb) => eb.fn.min('review_deadline').as('at'))
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return row?.at ? new Date(row.at) : null;
}

export async function insertReview(tx: Executor, review: Review): Promise<void> {
  await tx
    .insertInto('reviews')
    .values({
      request_id: review.requestId,
      reviewer: review.reviewer,
      decision: review.decision,
      comment: review.comment,
      at: review.at.toISOString(),
    })
    .execute();
}

export async function reviewsOf(tx: Executor, requestId: string): Promise<Review[]> {
  const rows = await tx.selectFrom('reviews').selectAll().where('request_id', '=', requestId).orderBy('at').execute();
  return rows.map(toReview);
}

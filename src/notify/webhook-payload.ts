import type { AirlockEvent } from '../core/events.js';
import { grantView, requestView, reviewView } from '../server/views.js';
import { describeEvent } from './messages.js';

/**
 * The generic webhook body: the event id receivers de-duplicate on, a
 * readable line, and the API's own views of what changed (never a grant
 * secret or verifier: views do not carry them).
 */
export function webhookPayload(e: AirlockEvent, eventId: string, now: Date): Record<string, unknown> | null {
  const text = describeEvent(e, now);
  if (!text) return null;
  const base = { id: eventId, type: e.type, at: now.toISOString(), text };
  switch (e.type) {
    case 'request.created':
      return { ...base, request: requestView(e.request), reviewers: e.reviewers };
    case 'request.approved':
    case 'request.denied':
      return { ...base, request: requestView(e.request), review: reviewView(e.review) };
    case 'request.cancelled':
    case 'request.expired':
      return { ...base, request: requestView(e.request) };
    case 'grant.activated':
      return { ...base, grant: grantView(e.grant) };
    case 'grant.extended':
      return { ...base, grant: grantView(e.grant), previous_expires_at: e.previousExpiresAt.toISOString() };
    case 'grant.ended':
      return { ...base, grant: grantView(e.grant), ended: { reason: e.reason, by: e.by, why: e.why } };
    default:
      return null;
  }
}

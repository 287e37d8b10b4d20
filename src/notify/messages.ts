import { formatDuration } from '../core/duration.js';
import type { AirlockEvent } from '../core/events.js';
import type { AccessRequest, Grant } from '../core/model.js';
import { utcClock } from './time-text.js';

/** Escapes text a user wrote (reasons, comments) for the medium it lands in; identity for plain JSON. */
export type Escape = (userText: string) => string;

const plain: Escape = (s) => s;

function why(reason: string | null, ticket: string | null, esc: Escape): string {
  const parts = [ticket, reason].filter((p): p is string => Boolean(p));
  return parts.length ? ` — ${esc(parts.join(' '))}` : '';
}

const what = (x: AccessRequest | Grant) => `${x.role.toUpperCase()} on ${x.resource}`;

function approvedBy(g: Grant): string {
  return g.approvedBy.length ? `approved by ${g.approvedBy.join(', ')}` : `granted by policy ${g.policy}`;
}

/**
 * One line a person reads in a channel: who, what, until when, why, and who
 * said yes. Names and resource names come from the config (trusted); reasons
 * and comments come from users and go through `esc`.
 */
export function describeEvent(e: AirlockEvent, now: Date, esc: Escape = plain): string | null {
  switch (e.type) {
    case 'request.created': {
      const r = e.request;
      const reviewers = e.reviewers.length ? ` Reviewers: ${e.reviewers.join(', ')}.` : '';
      const verb = r.extendsGrantId ? `asks to extend ${what(r)} by` : `asks for ${what(r)} for`;
      return `${r.user} ${verb} ${formatDuration(r.durationSeconds)}${why(r.reason, r.ticket, esc)} (request ${r.id}).${reviewers}`;
    }
    case 'request.approved':
      return `${e.review.reviewer} approved ${e.request.user}'s request for ${what(e.request)}${e.review.comment ? `: ${esc(e.review.comment)}` : ''}`;
    case 'request.denied':
      return `${e.review.reviewer} denied ${e.request.user}'s request for ${what(e.request)}${e.review.comment ? `: ${esc(e.review.comment)}` : ''}`;
    case 'request.cancelled':
      return `${e.request.user}'s request for ${what(e.request)} was cancelled`;
    case 'request.expired':
      return `${e.request.user}'s request for ${what(e.request)} expired unreviewed`;
    case 'grant.activated': {
      const g = e.grant;
      return `${g.user} has ${what(g)} until ${utcClock(g.expiresAt, now)}${why(g.reason, g.ticket, esc)}, ${approvedBy(g)}`;
    }
    case 'grant.extended':
      return `${e.grant.user}'s ${what(e.grant)} now lasts until ${utcClock(e.grant.expiresAt, now)} (was ${utcClock(e.previousExpiresAt, now)})`;
    case 'grant.ended': {
      const g = e.grant;
      if (e.reason === 'expired') return `${g.user}'s ${what(g)} expired at ${utcClock(g.expiresAt, now)}`;
      if (e.reason === 'released') return `${g.user} released ${what(g)}`;
      return `${e.by ?? 'an administrator'} revoked ${g.user}'s ${what(g)}${e.why ? `: ${esc(e.why)}` : ''}`;
    }
    default:
      return null;
  }
}

import type { GrantEndReason } from './events.js';
import type { Grant } from './model.js';

/** `14:32:05Z`: the wall-clock moment a person can match against their own clock. */
function clockTime(at: Date): string {
  return `${at.toISOString().slice(11, 19)}Z`;
}

/** `airlock: access to orders-db expired at 14:32:05Z` — the same words from the control plane and from a gateway's own timer. */
export function expiredMessage(resource: string, at: Date): string {
  return `airlock: access to ${resource} expired at ${clockTime(at)}`;
}

/** What a person whose connection is cut reads, in psql or any other client. */
export function grantEndedMessage(grant: Grant, reason: GrantEndReason, by: string | null, why: string | null): string {
  switch (reason) {
    case 'expired':
      return expiredMessage(grant.resource, grant.endedAt ?? grant.expiresAt);
    case 'released':
      return `airlock: access to ${grant.resource} was released by ${by ?? grant.user}`;
    case 'revoked':
      return `airlock: access to ${grant.resource} was revoked by ${by ?? 'an administrator'}${why ? `: ${why}` : ''}`;
  }
}

import type { GrantEndReason } from './events.js';
import type { Grant } from './model.js';

/** `14:32:05Z`: the wall-clock moment a person can match against their own clock. */
function clockTime(at: Date): string {
  return `${at.toISOString().slice(11, 19)}Z`;
}

/** What a person whose connection is cut reads, in psql or any other client. */
export function grantEndedMessage(grant: Grant, reason: GrantEndReason, by: string | null, why: string | null): string {
  switch (reason) {
    case 'expired':
      return `airlock: access to ${grant.resource} expired at ${clockTime(grant.endedAt ?? grant.expiresAt)}`;
    case 'released':
      return `airlock: access to ${grant.resource} was released by ${by ?? grant.user}`;
    case 'revoked':
      return `airlock: access to ${grant.resource} was revoked by ${by ?? 'an administrator'}${why ? `: ${why}` : ''}`;
  }
}

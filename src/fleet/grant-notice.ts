import type { AirlockEvent, GrantEndReason } from '../core/events.js';
import { grantEndedMessage } from '../core/grant-messages.js';
import type { Grant } from '../core/model.js';

/** The PostgreSQL channel every node LISTENs on for grant changes made by any node. */
export const GRANT_CHANNEL = 'airlock_grants';

/**
 * One grant change as it travels between nodes (a NOTIFY payload). `ended`
 * and `extended` reach live sessions; `deadline` only tells other nodes that
 * the next expiry may have moved, so that one of them records it if the node
 * that made the change dies.
 */
export type GrantNotice =
  | {
      readonly kind: 'ended';
      readonly grant: string;
      readonly resource: string;
      readonly user: string;
      readonly reason: GrantEndReason;
      readonly by: string | null;
      readonly why: string | null;
      readonly expiresAt: string;
      readonly endedAt: string | null;
      readonly node: string;
    }
  | { readonly kind: 'extended'; readonly grant: string; readonly expiresAt: string; readonly node: string }
  | { readonly kind: 'deadline'; readonly node: string };

// NOTIFY payloads must stay under 8000 bytes; a revocation reason is the only free text.
const MAX_WHY = 1000;

/** The notices a committed change sends to the other nodes (none for changes no other node acts on). */
export function noticesFor(events: readonly AirlockEvent[], node: string): GrantNotice[] {
  const out: GrantNotice[] = [];
  for (const e of events) {
    if (e.type === 'grant.ended') {
      const g = e.grant;
      out.push({
        kind: 'ended', grant: g.id, resource: g.resource, user: g.user, reason: e.reason, by: e.by, why: e.why?.slice(0, MAX_WHY) ?? null,
        expiresAt: g.expiresAt.toISOString(), endedAt: g.endedAt?.toISOString() ?? null, node,
      });
    } else if (e.type === 'grant.extended') {
      out.push({ kind: 'extended', grant: e.grant.id, expiresAt: e.grant.expiresAt.toISOString(), node });
    } else if (e.type === 'grant.activated' || e.type === 'request.created') {
      out.push({ kind: 'deadline', node });
    }
  }
  // One deadline notice per change is enough: it only asks the others to look again.
  return out.filter((n, i) => n.kind !== 'deadline' || out.findIndex((m) => m.kind === 'deadline') === i);
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isTextOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isTime = (v: unknown): v is string => isText(v) && !Number.isNaN(Date.parse(v));

/** Reads a payload; null for anything that is not a notice this version understands (another version's, or noise). */
export function parseNotice(payload: string | undefined): GrantNotice | null {
  if (!payload) return null;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || !isText(v.node)) return null;
  if (v.kind === 'deadline') return { kind: 'deadline', node: v.node };
  if (v.kind === 'extended' && isText(v.grant) && isTime(v.expiresAt)) return { kind: 'extended', grant: v.grant, expiresAt: v.expiresAt, node: v.node };
  if (
    v.kind === 'ended' && isText(v.grant) && isText(v.resource) && isText(v.user) && isTime(v.expiresAt) &&
    (v.reason === 'expired' || v.reason === 'released' || v.reason === 'revoked') &&
    isTextOrNull(v.by) && isTextOrNull(v.why) && (v.endedAt === null || isTime(v.endedAt))
  ) {
    return {
      kind: 'ended', grant: v.grant, resource: v.resource, user: v.user, reason: v.reason, by: v.by, why: v.why,
      expiresAt: v.expiresAt, endedAt: v.endedAt, node: v.node,
    };
  }
  return null;
}

/** What the person whose connection is cut reads: the same words the node that ended the grant would use. */
export function endedMessage(n: Extract<GrantNotice, { kind: 'ended' }>): string {
  const grant = { id: n.grant, resource: n.resource, user: n.user, expiresAt: new Date(n.expiresAt), endedAt: n.endedAt ? new Date(n.endedAt) : null } as Grant;
  return grantEndedMessage(grant, n.reason, n.by, n.why);
}

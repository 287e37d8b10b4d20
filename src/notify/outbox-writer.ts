import type { AuditEvent } from '../audit/chain.js';
import type { Clock } from '../core/clock.js';
import type { AirlockEvent } from '../core/events.js';
import type { Executor } from '../store/store.js';
import { insertOutboxRows, type NewOutboxRow } from './outbox-store.js';
import type { Sink } from './sinks.js';
import { slackPayload } from './slack.js';
import { webhookPayload } from './webhook-payload.js';

/** The audit row an event was recorded as: its seq is the event's stable id. */
function auditAction(e: AirlockEvent): { action: string; target: string } | null {
  switch (e.type) {
    case 'request.created':
    case 'request.approved':
    case 'request.denied':
    case 'request.cancelled':
    case 'request.expired':
      return { action: e.type, target: e.request.id };
    case 'grant.activated':
    case 'grant.extended':
      return { action: e.type, target: e.grant.id };
    case 'grant.ended':
      return { action: `grant.${e.reason}`, target: e.grant.id };
    default:
      return null;
  }
}

/** `evt_<audit seq>`: the same id for every sink and every retry, so receivers can de-duplicate. */
export const eventIdFor = (auditSeq: number) => `evt_${auditSeq}`;

/**
 * The lifecycle's onCommit hook: runs inside the change's transaction, so an
 * outbox row exists exactly when the change it announces does. Bodies are
 * rendered here, once, so every retry sends the same bytes; only the
 * signature (which includes the send time) is computed per attempt.
 */
export function createOutboxWriter(sinks: readonly Sink[], clock: Clock) {
  return async function writeOutbox(tx: Executor, events: readonly AirlockEvent[], audit: readonly AuditEvent[]): Promise<void> {
    if (sinks.length === 0) return;
    const now = clock.now();
    const rows: NewOutboxRow[] = [];
    for (const e of events) {
      const key = auditAction(e);
      if (!key) continue;
      const seq = audit.find((a) => a.action === key.action && a.target === key.target)?.seq;
      // Every notifiable change is audited in the same transaction; a missing row is a bug, not a reason to drop the notice.
      const auditSeq = seq ?? -1;
      for (const sink of sinks) {
        if (!sink.events.has(e.type)) continue;
        const body = sink.kind === 'slack' ? slackPayload(e, now) : webhookPayload(e, eventIdFor(auditSeq), now);
        if (!body) continue;
        rows.push({ auditSeq, sink: sink.id, eventType: e.type, payload: JSON.stringify(body), at: now });
      }
    }
    await insertOutboxRows(tx, rows);
  };
}

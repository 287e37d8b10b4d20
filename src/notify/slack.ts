import type { AirlockEvent } from '../core/events.js';
import { describeEvent } from './messages.js';

/**
 * Slack's incoming-webhook text treats `<...>` as links and mentions
 * (`<!channel>`), so user-written text is escaped the way Slack documents:
 * only &, < and >.
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ICON: Partial<Record<AirlockEvent['type'], string>> = {
  'request.created': ':raising_hand:',
  'request.approved': ':white_check_mark:',
  'request.denied': ':no_entry_sign:',
  'grant.activated': ':unlock:',
  'grant.extended': ':hourglass_flowing_sand:',
  'grant.ended': ':lock:',
};

/** A Slack-compatible incoming-webhook body: one readable line, and the same line as a block. */
export function slackPayload(e: AirlockEvent, now: Date): { text: string; blocks: unknown[] } | null {
  const line = describeEvent(e, now, slackEscape);
  if (!line) return null;
  const text = `${ICON[e.type] ?? ':information_source:'} ${line}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

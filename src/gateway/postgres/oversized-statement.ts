import { StringDecoder } from 'node:string_decoder';
import { Frontend } from './protocol/codes.js';
import type { Frame } from './protocol/reader.js';
import { statementTooLarge } from './statement-check.js';
import type { SqlDecision } from './sql/check.js';

/**
 * A Query or Parse refused from its header (protocol/reader.ts,
 * `TOO_LARGE`): the gateway has only its announced length and first bytes,
 * and drops the rest unread as it arrives.
 *
 * What the audit can honestly keep is therefore less than for a statement
 * refused after it was read: the text's first bytes (up to 16 KiB, cut
 * before a character split at the end) and the message's announced size,
 * but no SHA-256 of the whole text, which never passed through the gateway
 * (and may never arrive). `body_discarded` says so in the record.
 */
export interface OversizedStatement {
  /** The first bytes of the statement's text. */
  readonly text: string;
  /** The Parse's statement name; null when it is not within the first bytes (or for a Query). */
  readonly name: string | null;
  readonly decision: Extract<SqlDecision, { allowed: false }>;
  readonly extra: { readonly text_truncated: true; readonly message_bytes: number; readonly body_discarded: true };
}

/** `frame` has `TOO_LARGE` set; `type` is the message's own type. */
export function oversizedStatement(frame: Frame, type: number, maxStatementBytes: number): OversizedStatement {
  const messageBytes = 1 + frame.raw.readInt32BE(1);
  const head = frame.body;
  let name: string | null = null;
  let textStart = 0;
  if (type === Frontend.Parse) {
    const nul = head.indexOf(0);
    if (nul >= 0) {
      name = head.toString('utf8', 0, nul);
      textStart = nul + 1;
    } else {
      textStart = head.length;
    }
  }
  // Ends at its NUL only when a small limit let the whole text fit in the head.
  const nul = head.indexOf(0, textStart);
  const text = new StringDecoder('utf8').write(head.subarray(textStart, nul < 0 ? head.length : nul));
  // A Query's text is its body less the NUL; a Parse's is its body less the name and parameter types, unknown until read.
  const size = type === Frontend.Query ? `the statement is ${messageBytes - 6} bytes` : `the statement's Parse message is ${messageBytes} bytes`;
  return { text, name, decision: statementTooLarge(size, maxStatementBytes), extra: { text_truncated: true, message_bytes: messageBytes, body_discarded: true } };
}

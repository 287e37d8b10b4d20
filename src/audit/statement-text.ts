import { createHash } from 'node:crypto';

/**
 * What the audit stores of one statement's text. One session once stored
 * every full 9 MB text it sent (a 4.4 GB store), after which verifying the
 * chain ran out of memory. The text is kept up to a cap; the SHA-256 of the
 * whole text is always kept, so a text seen elsewhere (a client log, the
 * upstream's log) can still be matched to the record.
 *
 * `bytes` and `sha256` are given for every text, truncated or not: a reader
 * compares records without first asking whether they were cut, and the
 * audit says how big each statement was.
 */
export interface StatementText {
  /** The text, or its first `capBytes` bytes of UTF-8 cut before any character that would not fit whole. */
  readonly text: string;
  /** True when `text` is shorter than what ran. */
  readonly truncated: boolean;
  /** UTF-8 bytes of the whole text. */
  readonly bytes: number;
  /** SHA-256 of the whole text's UTF-8 bytes, lowercase hex. */
  readonly sha256: string;
}

export const DEFAULT_STATEMENT_TEXT_CAP_BYTES = 64 * 1024;

export function statementText(whole: string, capBytes: number = DEFAULT_STATEMENT_TEXT_CAP_BYTES): StatementText {
  if (!(capBytes >= 0)) throw new RangeError('capBytes must be zero or more');
  const sha256 = createHash('sha256').update(whole, 'utf8').digest('hex');
  const bytes = Buffer.byteLength(whole, 'utf8');
  if (bytes <= capBytes) return { text: whole, truncated: false, bytes, sha256 };
  return { text: utf8Prefix(whole, capBytes), truncated: true, bytes, sha256 };
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `capBytes`, never splitting a character (or a surrogate pair). */
function utf8Prefix(s: string, capBytes: number): string {
  let used = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    let units = 1;
    let size: number;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size = 4;
      units = 2;
    } else size = 3; // includes a lone surrogate, which UTF-8 encoding replaces with U+FFFD (3 bytes)
    if (used + size > capBytes) break;
    used += size;
    i += units;
  }
  return s.slice(0, i);
}

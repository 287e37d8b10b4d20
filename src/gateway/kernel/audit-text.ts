import { DEFAULT_STATEMENT_TEXT_CAP_BYTES, statementText } from '../../audit/statement-text.js';

/**
 * What the audit keeps of a statement's text, by the config's
 * `audit.statements`: `text` as sent, `redacted` with literals replaced by
 * placeholders (by the adapter's own dialect), `off` nothing but counts. A
 * text longer than the cap keeps its first bytes, and the record names the
 * whole text's size and SHA-256, so one session sending huge statements
 * cannot fill the store (or make `audit verify` run out of memory).
 */
export type StatementTextMode = 'text' | 'redacted' | 'off';

export interface AuditedText {
  readonly text: string;
  /** Set when `text` is only the start of what ran. */
  readonly whole?: { readonly bytes: number; readonly sha256: string };
}

export type AuditText = (text: string) => AuditedText | undefined;

export function auditTextFor(mode: StatementTextMode, redact: (text: string) => string, capBytes = DEFAULT_STATEMENT_TEXT_CAP_BYTES): AuditText {
  if (mode === 'off') return () => undefined;
  const keep = (text: string): AuditedText => {
    // A UTF-8 character is at most 3 bytes per UTF-16 unit: most texts are surely under the cap without being measured.
    if (text.length * 3 <= capBytes) return { text };
    const t = statementText(text, capBytes);
    return t.truncated ? { text: t.text, whole: { bytes: t.bytes, sha256: t.sha256 } } : { text };
  };
  return mode === 'redacted' ? (text) => keep(redact(text)) : keep;
}

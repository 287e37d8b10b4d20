/**
 * What the audit keeps of a statement's text, by the config's
 * `audit.statements`: `text` as sent, `redacted` with literals replaced by
 * placeholders (by the adapter's own dialect), `off` nothing but counts.
 */
export type StatementTextMode = 'text' | 'redacted' | 'off';

export type AuditText = (text: string) => string | undefined;

export function auditTextFor(mode: StatementTextMode, redact: (text: string) => string): AuditText {
  if (mode === 'off') return () => undefined;
  if (mode === 'redacted') return redact;
  return (text) => text;
}
